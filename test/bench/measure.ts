/**
 * One measurement each: IPNs at full speed against one or more processes, IPNs at a paced rate, sessions.
 * Every function seeds exactly what it sends (each IPN settles its own pending session, each session has
 * its own priced order), measures, checks the answers, and reports CPU time per answered request.
 */

import { performance } from 'node:perf_hooks';
import type { CpuTime, TargetProcess } from './child.js';
import { probeDisk, type DiskSyncStats } from './disk-probe.js';
import type { LoopStats } from './loop-watch.js';
import { BodySupply, signedIpnBody } from './ipn.js';
import { runAutocannon, type LoadStats, type PacedStats } from './load.js';
import { packBodies, startPacedGenerator, type PacedGenerator } from './paced-thread.js';
import { BENCH_SALT, MERCHANT_ORIGIN, ipnApplied, type SeededSession } from './messages.js';

export const CONNECTIONS = 20;
export const FIXED_RATE = 500;
/** Requests the paced generator lets wait at once; slots beyond are dropped (and reported). */
const MAX_OUTSTANDING = 200;
/** Seeded sessions per run: the expected rate × (seconds + 1 s of stop lag) × 2, within these bounds. */
const MIN_SEED = 500;
const MAX_SEED = 40_000;
/** Failed answers tolerated in a run before the bench fails (a fraction of its requests). */
const FAILURE_TOLERANCE = 0.001;
/**
 * Seeds in chunks: one reply carrying 40,000 sessions is a multi-MB IPC message built inside the signer,
 * and its buffers stayed in the signer's peak RSS, which then measured the harness rather than the signer.
 */
const SEED_CHUNK = 1000;

export const IPN_HEADERS = { 'content-type': 'application/json' };
const WIDGET_HEADERS = { 'content-type': 'application/json', origin: MERCHANT_ORIGIN };

/** Runs whose answers were not all accepted (the JSON still prints; the exit code says it). */
export const problems: string[] = [];

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** CPU per answered request over one measurement, in µs: the event loop's thread, and the whole process. */
export interface CpuPerRequest {
  mainThreadUs: number;
  processUs: number;
}

/** CPU each of `targets` used while `run` ran, in µs; null where /proc cannot be read. */
export async function measuringCpu<S extends LoadStats>(
  targets: readonly TargetProcess[],
  run: () => Promise<S>,
): Promise<{ stats: S; used: (CpuTime | null)[] }> {
  const before = targets.map(target => target.cpu());
  const stats = await run();
  const used = targets.map((target, i) => {
    const start = before[i];
    const end = target.cpu();
    if (!start || !end) return null;
    return {
      mainThreadUs: end.mainThreadUs - start.mainThreadUs,
      processUs: end.processUs - start.processUs,
    };
  });
  return { stats, used };
}

/** `used` CPU per answered request, rounded to the µs; null without a figure or a request. */
export function perRequest(used: CpuTime | null, requests: number): CpuPerRequest | null {
  if (!used || requests === 0) return null;
  return {
    mainThreadUs: Math.round(used.mainThreadUs / requests),
    processUs: Math.round(used.processUs / requests),
  };
}

/** Adds up CPU used by several processes, or over several runs; null if any figure is missing. */
export function totalCpu(used: readonly (CpuTime | null)[]): CpuTime | null {
  if (used.some(value => value === null)) return null;
  return used.reduce<CpuTime>(
    (sum, value) => ({
      mainThreadUs: sum.mainThreadUs + value!.mainThreadUs,
      processUs: sum.processUs + value!.processUs,
    }),
    { mainThreadUs: 0, processUs: 0 },
  );
}

export function check(label: string, stats: LoadStats, { verified }: { verified: boolean }): void {
  const failed = stats.non2xx + stats.errors + (verified ? stats.mismatches : 0);
  const allowed = Math.floor(stats.requests * FAILURE_TOLERANCE);
  if (failed > allowed) {
    problems.push(
      `${label}: ${failed} failed answers of ${stats.requests} (non-2xx ${stats.non2xx}, errors ${stats.errors}` +
        `${verified ? `, not ipnStatus 200 ${stats.mismatches}` : ''})`,
    );
  }
}

export function seedCount(rate: number, seconds: number): number {
  return Math.min(MAX_SEED, Math.max(MIN_SEED, Math.ceil(rate * (seconds + 1) * 2)));
}

async function seedInChunks<T>(
  count: number,
  seed: (chunk: { prefix: string; count: number }) => Promise<T[]>,
  prefix: string,
): Promise<T[]> {
  const seeded: T[] = [];
  for (let start = 0; start < count; start += SEED_CHUNK) {
    const chunk = {
      prefix: `${prefix}-${start / SEED_CHUNK}`,
      count: Math.min(SEED_CHUNK, count - start),
    };
    seeded.push(...(await seed(chunk)));
  }
  return seeded;
}

/** Pending sessions seeded through `signer`, and one signed IPN body settling each. */
export async function ipnSupply(
  signer: TargetProcess,
  prefix: string,
  count: number,
): Promise<BodySupply> {
  const started = performance.now();
  const sessions: SeededSession[] = await seedInChunks(
    count,
    chunk => signer.call('seedIpnSessions', chunk),
    prefix,
  );
  const now = new Date();
  log(`  seeded ${count} sessions in ${Math.round(performance.now() - started)} ms`);
  return new BodySupply(sessions.map(session => signedIpnBody(session, BENCH_SALT, now)));
}

async function orderSupply(
  signer: TargetProcess,
  prefix: string,
  count: number,
): Promise<BodySupply> {
  const refs = await seedInChunks(count, chunk => signer.call('seedOrders', chunk), prefix);
  return new BodySupply(refs.map(orderRef => JSON.stringify({ orderRef })));
}

/** Closed-loop IPNs from `supply` to one process for `seconds`. */
export function ipnRun(
  target: TargetProcess,
  supply: BodySupply,
  seconds: number,
  connections = CONNECTIONS,
): Promise<LoadStats> {
  return runAutocannon({
    url: target.url,
    path: '/ipn',
    headers: IPN_HEADERS,
    connections,
    durationSeconds: seconds,
    body: () => supply.take(),
    maxRequests: supply.remaining,
    verifyBody: ipnApplied,
  });
}

/** The IPN bodies for one full-speed run over `targets`, one supply each, seeded through its own target. */
export function ipnMaxSupplies(
  targets: readonly TargetProcess[],
  prefix: string,
  seconds: number,
  expectedRate: number,
): Promise<BodySupply[]> {
  const share = Math.ceil(seedCount(expectedRate, seconds) / targets.length);
  return Promise.all(targets.map((target, i) => ipnSupply(target, `${prefix}-${i}`, share)));
}

/**
 * One slice of IPNs at full speed from `supplies` (see `ipnMaxSupplies`), the connections split evenly over
 * `targets` (signer processes on one database), and the CPU they used together. The caller checks and logs
 * the slices of a measurement together (see `inSequence`).
 */
export async function ipnSlice(
  targets: readonly TargetProcess[],
  supplies: readonly BodySupply[],
  seconds: number,
): Promise<{ stats: LoadStats; used: CpuTime | null }> {
  const per = Math.max(1, Math.round(CONNECTIONS / targets.length));
  // autocannon needs a body per connection; a seed sized from a wrong rate is the bench's bug, said plainly.
  if (supplies.some(supply => supply.remaining < per))
    throw new Error(
      'the seeded IPN bodies ran out: the expected rate that sized the seed was too low',
    );
  const { stats, used } = await measuringCpu(targets, async () =>
    alongside(await Promise.all(targets.map((t, i) => ipnRun(t, supplies[i]!, seconds, per)))),
  );
  return { stats, used: totalCpu(used) };
}

/** Requests and failures summed over `runs`; latency percentiles are the worst run's. */
function summed(runs: readonly LoadStats[], durationSeconds: number): LoadStats {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const worst = (key: keyof LoadStats['latencyMs']) =>
    Math.max(...runs.map(run => run.latencyMs[key]));
  const sum = (key: 'non2xx' | 'mismatches' | 'errors') =>
    runs.reduce((total, run) => total + run[key], 0);
  return {
    requests,
    durationSeconds: Math.round(durationSeconds * 100) / 100,
    requestsPerSecond: Math.round(requests / durationSeconds),
    latencyMs: { p50: worst('p50'), p90: worst('p90'), p99: worst('p99'), max: worst('max') },
    non2xx: sum('non2xx'),
    mismatches: sum('mismatches'),
    errors: sum('errors'),
  };
}

/** Parallel runs as one: requests add up over the longest run. */
function alongside(runs: readonly LoadStats[]): LoadStats {
  if (runs.length === 1) return runs[0]!;
  return summed(runs, Math.max(...runs.map(run => run.durationSeconds)));
}

/** Runs one after another as one: requests and durations add up. */
export function inSequence(runs: readonly LoadStats[]): LoadStats {
  if (runs.length === 1) return runs[0]!;
  return summed(
    runs,
    runs.reduce((sum, run) => sum + run.durationSeconds, 0),
  );
}

let generator: PacedGenerator | undefined;

/** The paced generator's thread, started on first use (paced-thread.ts). */
function pacedGenerator(): PacedGenerator {
  return (generator ??= startPacedGenerator());
}

/** Ends the paced generator's thread, if one was started. */
export async function closePacedGenerator(): Promise<void> {
  const running = generator;
  generator = undefined;
  await running?.close();
}

/** A paced run, and how long the server's and the generator's event loops stalled meanwhile. */
export type WatchedPaced = PacedStats & { loops: { server: LoopStats; generator: LoopStats } };

/**
 * IPN bodies POSTed to `target` at an even FIXED_RATE for `seconds` (open loop, see `runPaced`) by a
 * generator on its own thread (paced-thread.ts), with both event loops watched (loop-watch.ts).
 */
async function pacedIpns(
  target: TargetProcess,
  bodies: { each: readonly string[] } | { repeat: string },
  seconds: number,
): Promise<WatchedPaced> {
  await target.call('watchLoop', {});
  const { generatorLoop, ...stats } = await pacedGenerator().run({
    url: target.url,
    path: '/ipn',
    headers: IPN_HEADERS,
    rate: FIXED_RATE,
    durationSeconds: seconds,
    ...('each' in bodies
      ? { bodies: packBodies(bodies.each), repeat: false }
      : { bodies: packBodies([bodies.repeat]), repeat: true }),
    maxSockets: 50,
    maxOutstanding: MAX_OUTSTANDING,
  });
  const serverLoop = await target.call('loopStats', {});
  return { ...stats, loops: { server: serverLoop, generator: generatorLoop } };
}

/** The loops' stalls for a paced run's log line. */
function loopsText({ loops }: WatchedPaced): string {
  const { server, generator } = loops;
  return (
    `server loop delay max ${server.delayMax} ms (GC max ${server.gcMax} ms), ` +
    `generator loop delay max ${generator.delayMax} ms (GC max ${generator.gcMax} ms)`
  );
}

/** A paced run, and the disk's own sync latency while it ran (see disk-probe.ts). */
export type PacedRun = WatchedPaced & { diskSyncMs: DiskSyncStats };

/** Where and how a paced run starts. */
export interface PacedSetup {
  /** A folder on the file system the stores write to: the disk probe writes there. */
  diskDir: string;
  /** Runs between the seeding and the run (see `flushEarlierWrites` in run.ts). */
  flushWrites?: () => Promise<void>;
}

/** IPNs at an even FIXED_RATE (open loop); latency counts from each request's scheduled time. */
export async function ipnPaced(
  label: string,
  signer: TargetProcess,
  prefix: string,
  seconds: number,
  maxRate: number,
  setup: PacedSetup,
): Promise<PacedRun> {
  // A store slower than the fixed rate cannot use more bodies than this (the rest of the slots drop).
  const usable = Math.min(FIXED_RATE, maxRate * 1.5);
  const supply = await ipnSupply(signer, prefix, Math.ceil(usable * seconds) + MAX_OUTSTANDING);
  if (setup.flushWrites) {
    const started = performance.now();
    await setup.flushWrites();
    log(`  flushed the earlier writes to disk in ${Math.round(performance.now() - started)} ms`);
  }
  const probe = probeDisk(setup.diskDir);
  const paced = await pacedIpns(signer, { each: supply.takeRest() }, seconds);
  const diskSyncMs = await probe.stop();
  check(label, paced, { verified: true });
  log(
    `  ${label}: achieved ${paced.requestsPerSecond}/s (${paced.dropped} dropped), ` +
      `p50 ${paced.latencyMs.p50} ms, p99 ${paced.latencyMs.p99} ms; the disk's own 8 KB sync meanwhile ` +
      `p50 ${diskSyncMs.p50} ms, max ${diskSyncMs.max} ms, ${diskSyncMs.over20} of ${diskSyncMs.syncs} ≥ 20 ms; ` +
      loopsText(paced),
  );
  return { ...paced, diskSyncMs };
}

/**
 * The bare endpoint at the same even FIXED_RATE, with the same body and check as the signer's paced run: the
 * p99 the machine and the generator give on their own. On a 2-vCPU VM that floor alone read 5.8–17 ms
 * (docs/performance.md, session 12), so a store's paced p99 is read against it.
 */
export async function baselinePaced(
  label: string,
  baseline: TargetProcess,
  sample: string,
  seconds: number,
): Promise<WatchedPaced> {
  const paced = await pacedIpns(baseline, { repeat: sample }, seconds);
  check(label, paced, { verified: true });
  log(
    `  ${label}: p50 ${paced.latencyMs.p50} ms, p99 ${paced.latencyMs.p99} ms; ${loopsText(paced)}`,
  );
  return paced;
}

/** Where a session's CPU goes: the signer's share and the sandbox's (the gateway's) share, per session. */
export interface SessionCost {
  stats: LoadStats;
  signer: CpuPerRequest | null;
  sandbox: CpuPerRequest | null;
}

/** `POST /sessions` at full speed: distinct priced orders, each a real checkout at the sandbox. */
export async function sessionsMax(
  label: string,
  signer: TargetProcess,
  sandbox: TargetProcess,
  prefix: string,
  seconds: number,
  count: number,
): Promise<SessionCost> {
  const supply = await orderSupply(signer, prefix, count);
  const { stats, used } = await measuringCpu([signer, sandbox], () =>
    runAutocannon({
      url: signer.url,
      path: '/sessions',
      headers: WIDGET_HEADERS,
      connections: CONNECTIONS,
      durationSeconds: seconds,
      body: () => supply.take(),
      maxRequests: supply.remaining,
    }),
  );
  check(label, stats, { verified: false });
  const [signerCpu, sandboxCpu] = used.map(value => perRequest(value, stats.requests));
  log(
    `  ${label}: ${stats.requestsPerSecond} sessions/s, p99 ${stats.latencyMs.p99} ms` +
      (signerCpu && sandboxCpu
        ? `, main thread signer ${signerCpu.mainThreadUs} µs + sandbox ${sandboxCpu.mainThreadUs} µs`
        : ''),
  );
  return { stats, signer: signerCpu ?? null, sandbox: sandboxCpu ?? null };
}

export async function setSandboxFaults(sandbox: TargetProcess, faults: string): Promise<void> {
  const res = await fetch(`${sandbox.url}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ faults }),
  });
  if (!res.ok) throw new Error(`sandbox faults: HTTP ${res.status} ${await res.text()}`);
}
