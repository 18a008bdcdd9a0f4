/**
 * `pnpm bench:profile -- <ipn|sessions> [sqlite|postgres]`: where the signer's CPU goes on one path. Runs
 * the signer (as `pnpm bench` does, compiled, on plain node) under `--cpu-prof`, drives that path at full
 * speed for BENCH_SECONDS (default 8), and prints the share of CPU samples per function, self and
 * inclusive, counted only while requests were being served (seeding and start-up are left out). It also
 * writes the samples as folded stacks (`<profile>.folded`), which flame graph tools read
 * (speedscope, inferno, flamegraph.pl).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTargets } from './build.js';
import { spawnTarget } from './child.js';
import { ipnRun, ipnSupply, sessionsMax } from './measure.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [path = 'ipn', store = 'sqlite'] = process.argv.slice(2).filter(arg => arg !== '--');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** Node's HTTP server frame: a sample holding it is serving a request (seeding goes over IPC). */
const SERVING_MARKER = 'parserOnIncoming';

function frameName(frame: CallFrame): string {
  const file = frame.url.split('/').at(-1) || '(native)';
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function summarise(profile: CpuProfile, marker: string): string {
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = (id: number): ProfileNode[] => {
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      stack.push(byId.get(at)!);
    return stack;
  };
  // The window: from the first to the last sample inside a request handler.
  let time = profile.startTime;
  const times = profile.timeDeltas.map(delta => (time += delta));
  const serving = profile.samples
    .map((id, i) => (stackOf(id).some(n => n.callFrame.functionName === marker) ? times[i]! : -1))
    .filter(t => t >= 0);
  if (serving.length === 0) throw new Error(`no sample inside ${marker}: nothing was served`);
  const [from, to] = [serving[0]!, serving.at(-1)!];
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const folded = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (times[i]! < from || times[i]! > to) return;
    const weight = profile.timeDeltas[i]!;
    const stack = stackOf(id);
    total += weight;
    const leaf = frameName(stack[0]!.callFrame);
    self.set(leaf, (self.get(leaf) ?? 0) + weight);
    for (const name of new Set(stack.map(node => frameName(node.callFrame))))
      inclusive.set(name, (inclusive.get(name) ?? 0) + weight);
    const line = stack
      .slice(0, -1)
      .reverse()
      .map(node => frameName(node.callFrame).replaceAll(';', ','))
      .join(';');
    folded.set(line, (folded.get(line) ?? 0) + weight);
  });
  const top = (counts: Map<string, number>, n: number) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, weight]) => `${((weight / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  return [
    `window ${((to - from) / 1e6).toFixed(1)} s`,
    '--- self',
    top(self, 30),
    '--- inclusive',
    top(inclusive, 45),
    `\u0000${[...folded].map(([line, weight]) => `${line} ${weight}`).join('\n')}`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (path !== 'ipn' && path !== 'sessions')
    throw new Error(`profile path must be ipn or sessions, not ${path}`);
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-profile-'));
  await bundleTargets(dir);
  const sandbox = await spawnTarget('sandbox', { kind: 'sandbox' }, dir);
  process.env.BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${dir}/profile`;
  const schema = `gp_profile_${randomBytes(6).toString('hex')}`;
  const signer = await spawnTarget(
    'signer',
    store === 'postgres'
      ? {
          kind: 'signer',
          databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
          schema,
          gatewayUrl: sandbox.url,
        }
      : { kind: 'signer', databaseUrl: `file:${join(dir, 's.db')}`, gatewayUrl: sandbox.url },
    dir,
  );
  try {
    if (path === 'ipn') {
      const stats = await ipnRun(
        signer,
        await ipnSupply(signer, 'profile', 8000 * SECONDS),
        SECONDS,
      );
      process.stderr.write(`${stats.requestsPerSecond} IPN/s\n`);
    } else {
      await sessionsMax('sessions', signer, sandbox, 'profile', SECONDS, 600 * SECONDS);
    }
  } finally {
    await signer.stop();
    await sandbox.stop();
  }
  const file = readdirSync(join(dir, 'profile')).find(name => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the signer wrote no profile');
  const profilePath = join(dir, 'profile', file);
  const [text, folded] = summarise(
    JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile,
    SERVING_MARKER,
  ).split('\u0000');
  writeFileSync(`${profilePath}.folded`, folded!);
  process.stdout.write(`${text}\nprofile: ${profilePath}\nfolded stacks: ${profilePath}.folded\n`);
  if (store === 'postgres') {
    const pg = (await import('pg')).default;
    const client = new pg.Client({
      connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
