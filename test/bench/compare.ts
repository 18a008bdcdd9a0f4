/**
 * `pnpm bench:compare`: the SQLite IPN path of the working tree against an earlier build of it, in paired
 * rounds, to tell whether a change to the signer saves CPU. `pnpm bench` cannot: its three rounds per store
 * move by ±10 % with the VM, as much as a good change saves.
 *
 *   pnpm bench:compare -- save <dir>      # bundle the targets of the tree as it is now into <dir>
 *   pnpm bench:compare -- <dir> [rounds]  # then, after the change: it against that bundle (default 12 rounds)
 *
 * Both signers run at once, each on its own SQLite file, beside one sandbox. Each round gives each signer one
 * full-speed slice of IPNs (BENCH_SLICE_SECONDS, default 2; a fresh seed of pending sessions before each), in
 * alternating order, and reads its main thread's CPU per IPN from /proc: the figure an IPN costs the event
 * loop, which is what limits throughput. A first round is a warm-up and is not counted. The answer is the
 * median of the rounds' ratios (after / before), with their spread: both signers see the same slow phases
 * of the VM within a round, so the ratio of a pair holds still where each figure alone does not.
 * Loopback only; JSON on stdout, progress on stderr.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTargets } from './build.js';
import { spawnTarget, type TargetProcess } from './child.js';
import { ipnRun, ipnSupply, log, measuringCpu } from './measure.js';
import { pairedRatios } from './stats.js';

const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2);
/** Enough bodies for a slice at up to 6 000 IPN/s (a fast VM reads about 6 000). */
const BODIES_PER_SECOND = 6_000;

interface SliceFigure {
  mainThreadUsPerIpn: number;
  ipnPerSecond: number;
}

async function slice(signer: TargetProcess, prefix: string): Promise<SliceFigure> {
  const supply = await ipnSupply(signer, prefix, BODIES_PER_SECOND * SLICE_SECONDS);
  const { stats, used } = await measuringCpu([signer], () => ipnRun(signer, supply, SLICE_SECONDS));
  const failed = stats.non2xx + stats.errors + stats.mismatches;
  if (failed > 0) throw new Error(`${failed} of ${stats.requests} IPNs were not answered 200`);
  if (!used[0]) throw new Error('no CPU figure: /proc is not readable');
  return {
    mainThreadUsPerIpn: used[0].mainThreadUs / stats.requests,
    ipnPerSecond: stats.requestsPerSecond,
  };
}

async function compare(beforeDir: string, rounds: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'galaxy-pay-compare-'));
  const afterDir = join(work, 'after');
  await bundleTargets(afterDir);
  const sandbox = await spawnTarget('sandbox', { kind: 'sandbox' }, afterDir);
  const signerFrom = (dir: string, name: string) =>
    spawnTarget(
      'signer',
      { kind: 'signer', databaseUrl: `file:${join(work, `${name}.db`)}`, gatewayUrl: sandbox.url },
      dir,
    );
  const signers = {
    before: await signerFrom(beforeDir, 'before'),
    after: await signerFrom(afterDir, 'after'),
  };
  const figures: { before: SliceFigure; after: SliceFigure }[] = [];
  try {
    for (let r = 0; r <= rounds; r++) {
      const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      const pair: Partial<Record<'before' | 'after', SliceFigure>> = {};
      for (const which of order) pair[which] = await slice(signers[which], `r${r}`);
      if (r === 0) continue;
      const { before, after } = pair as { before: SliceFigure; after: SliceFigure };
      figures.push({ before, after });
      log(
        `round ${r}: before ${before.mainThreadUsPerIpn.toFixed(1)} µs/IPN (${before.ipnPerSecond}/s), ` +
          `after ${after.mainThreadUsPerIpn.toFixed(1)} µs/IPN (${after.ipnPerSecond}/s)`,
      );
    }
  } finally {
    await Promise.all([signers.before.stop(), signers.after.stop()]);
    await sandbox.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const cpu = pairedRatios(
    figures.map(f => [f.before.mainThreadUsPerIpn, f.after.mainThreadUsPerIpn]),
  );
  const rate = pairedRatios(figures.map(f => [f.before.ipnPerSecond, f.after.ipnPerSecond]));
  log(
    `after / before, median (min–max) of ${rounds} rounds: main-thread CPU per IPN ${cpu.median} ` +
      `(${cpu.min}–${cpu.max}), lower in ${cpu.below} rounds; IPN/s ${rate.median} (${rate.min}–${rate.max})`,
  );
  process.stdout.write(
    `${JSON.stringify({ sliceSeconds: SLICE_SECONDS, rounds: figures, cpu, rate }, null, 2)}\n`,
  );
}

async function main(): Promise<void> {
  const [first, second] = process.argv.slice(2).filter(arg => arg !== '--');
  if (first === 'save' && second) {
    await bundleTargets(second);
    log(`bundled the targets of the working tree into ${second}`);
    return;
  }
  const rounds = Number(second ?? 12);
  if (!first || !Number.isInteger(rounds) || rounds < 1)
    throw new Error('usage: pnpm bench:compare -- save <dir> | <dir> [rounds]');
  await compare(first, rounds);
}

await main();
