/**
 * `pnpm bench` (docs/reliability.md T32, the short form): IPN and session throughput of the signer on SQLite and
 * on PostgreSQL next to a bare Express + helmet endpoint measured in the same run, IPN latency at 500 IPN/s,
 * and peak RSS. Loopback only, bounded in time; prints one JSON object on stdout, progress on stderr.
 *
 * Environment: BENCH_SECONDS (length of each measurement, default 5), TEST_DATABASE_URL (a loopback
 * PostgreSQL, default postgres://postgres@127.0.0.1:5432/test; a fresh schema is made and dropped).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { bundleTargets } from './build.js';
import { spawnTarget, type CpuTime, type TargetProcess } from './child.js';
import { BodySupply, signedIpnBody } from './ipn.js';
import { runAutocannon, runPaced, type LoadStats, type PacedStats } from './load.js';
import {
  BENCH_SALT,
  MERCHANT_ORIGIN,
  type MemoryBreakdown,
  type SeededSession,
  type TargetSpec,
} from './messages.js';

const SECONDS = positive(process.env.BENCH_SECONDS, 5);
const WARMUP_SECONDS = 1;
const CONNECTIONS = 20;
const FIXED_RATE = 500;
const GATEWAY_LATENCY_MS = 300;
/** Requests the paced generator lets wait at once; slots beyond are dropped (and reported). */
const MAX_OUTSTANDING = 200;
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Seeded sessions per run: the warm-up rate × (SECONDS + 1 s of stop lag) × 2, within these bounds. */
const MIN_SEED = 500;
const MAX_SEED = 40_000;
/** Failed answers tolerated in a run before the bench fails (a fraction of its requests). */
const FAILURE_TOLERANCE = 0.001;

const IPN_HEADERS = { 'content-type': 'application/json' };
const WIDGET_HEADERS = { 'content-type': 'application/json', origin: MERCHANT_ORIGIN };
const ipnApplied = (body: string) => body.includes('"ipnStatus":"200"');

type StoreKind = 'sqlite' | 'postgres';

/** CPU per answered request over one measurement, in µs: the event loop's thread, and the whole process. */
interface CpuPerRequest {
  mainThreadUs: number;
  processUs: number;
}

/** CPU used by `target` while `run` ran, per answered request; null where /proc cannot be read. */
async function measuringCpu(
  target: TargetProcess,
  run: () => Promise<LoadStats>,
): Promise<{ stats: LoadStats; cpuPerRequest: CpuPerRequest | null }> {
  const before = target.cpu();
  const stats = await run();
  const after = target.cpu();
  if (before === null || after === null || stats.requests === 0)
    return { stats, cpuPerRequest: null };
  const per = (field: keyof CpuTime) => Math.round((after[field] - before[field]) / stats.requests);
  return {
    stats,
    cpuPerRequest: { mainThreadUs: per('mainThreadUs'), processUs: per('processUs') },
  };
}

/** The signer's numbers on one store. */
interface StoreReport {
  ipn: LoadStats;
  /** CPU the signer spent per IPN at max throughput (/proc, 10 ms resolution over the whole run). */
  ipnCpuPerRequest: CpuPerRequest | null;
  ipnAt500: PacedStats & { method: string; autocannonOverallRate: LoadStats };
  sessions: LoadStats;
  sessionsWithGatewayLatency300ms: LoadStats;
  rssMb: {
    atStart: number | null;
    peak: number | null;
    /** Peak RSS so far, read after each phase: shows which load made the peak. */
    peakAfter: Record<string, number | null>;
    atEndAfterGc: MemoryBreakdown;
  };
}

const problems: string[] = [];

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function positive(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`BENCH_SECONDS must be > 0: ${value}`);
  return parsed;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new Error(`TEST_DATABASE_URL must point at a loopback PostgreSQL, not ${host}`);
  }
}

function roundMb(value: number): number {
  return Math.round(value * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Records a run whose answers were not all accepted (the JSON still prints; the exit code says it). */
function check(label: string, stats: LoadStats, { verified }: { verified: boolean }): void {
  const failed = stats.non2xx + stats.errors + (verified ? stats.mismatches : 0);
  const allowed = Math.floor(stats.requests * FAILURE_TOLERANCE);
  if (failed > allowed) {
    problems.push(
      `${label}: ${failed} failed answers of ${stats.requests} (non-2xx ${stats.non2xx}, errors ${stats.errors}` +
        `${verified ? `, not ipnStatus 200 ${stats.mismatches}` : ''})`,
    );
  }
}

function seedCount(rate: number, seconds: number): number {
  return Math.min(MAX_SEED, Math.max(MIN_SEED, Math.ceil(rate * (seconds + 1) * 2)));
}

/**
 * Seeds in chunks: one reply carrying 40,000 sessions is a multi-MB IPC message built inside the signer,
 * and its buffers stayed in the signer's peak RSS, which then measured the harness rather than the signer.
 */
const SEED_CHUNK = 1000;

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

async function ipnSupply(
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
  const started = performance.now();
  const refs = await seedInChunks(count, chunk => signer.call('seedOrders', chunk), prefix);
  log(`  registered ${count} orders in ${Math.round(performance.now() - started)} ms`);
  return new BodySupply(refs.map(orderRef => JSON.stringify({ orderRef })));
}

async function measureBaseline(
  sample: string,
  targetsDir: string,
): Promise<{ stats: LoadStats; cpuPerRequest: CpuPerRequest | null; rssMb: number | null }> {
  log('baseline: bare Express 5 + helmet() JSON endpoint');
  const baseline = await spawnTarget('baseline', { kind: 'baseline' }, targetsDir);
  try {
    const run = (seconds: number) =>
      runAutocannon({
        url: baseline.url,
        path: '/ipn',
        headers: IPN_HEADERS,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        body: () => sample,
        verifyBody: ipnApplied,
      });
    await run(WARMUP_SECONDS);
    const { stats, cpuPerRequest } = await measuringCpu(baseline, () => run(SECONDS));
    check('baseline', stats, { verified: true });
    log(
      `  ${stats.requestsPerSecond} req/s, p99 ${stats.latencyMs.p99} ms` +
        (cpuPerRequest ? `, main thread ${cpuPerRequest.mainThreadUs} µs/request` : ''),
    );
    return { stats, cpuPerRequest, rssMb: baseline.peakRssMb() };
  } finally {
    await baseline.stop();
  }
}

async function measureSigner(
  kind: StoreKind,
  spec: TargetSpec,
  sandbox: TargetProcess,
  targetsDir: string,
): Promise<StoreReport> {
  log(`signer on ${kind}`);
  const signer = await spawnTarget(`signer-${kind}`, spec, targetsDir);
  try {
    const atStart = signer.rssMb();
    const peakAfter: Record<string, number | null> = {};
    const prefix = `bench-${kind}-${randomBytes(4).toString('hex')}`;
    const ipnRun = (supply: BodySupply, seconds: number, extra: { overallRate?: number } = {}) =>
      runAutocannon({
        url: signer.url,
        path: '/ipn',
        headers: IPN_HEADERS,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        body: () => supply.take(),
        maxRequests: supply.remaining,
        verifyBody: ipnApplied,
        ...extra,
      });

    log('  IPN, max throughput (unique signed IPNs, each settles one pending session)');
    const warm = await ipnRun(await ipnSupply(signer, `${prefix}-w`, 400), WARMUP_SECONDS);
    const ipnBodies = await ipnSupply(
      signer,
      `${prefix}-i`,
      seedCount(warm.requestsPerSecond, SECONDS),
    );
    const { stats: ipn, cpuPerRequest: ipnCpuPerRequest } = await measuringCpu(signer, () =>
      ipnRun(ipnBodies, SECONDS),
    );
    check(`${kind} IPN`, ipn, { verified: true });
    peakAfter.ipn = signer.peakRssMb();
    log(
      `  ${ipn.requestsPerSecond} IPN/s, p50 ${ipn.latencyMs.p50} ms, p99 ${ipn.latencyMs.p99} ms` +
        (ipnCpuPerRequest ? `, main thread ${ipnCpuPerRequest.mainThreadUs} µs/IPN` : ''),
    );

    // A store slower than the fixed rate cannot use more bodies than this (the rest of the slots drop).
    const usable = Math.min(FIXED_RATE, ipn.requestsPerSecond * 1.5);
    log(`  IPN at ${FIXED_RATE}/s, open loop (evenly paced)`);
    const pacedSupply = await ipnSupply(
      signer,
      `${prefix}-p`,
      Math.ceil(usable * SECONDS) + MAX_OUTSTANDING,
    );
    const paced = await runPaced({
      url: signer.url,
      path: '/ipn',
      headers: IPN_HEADERS,
      rate: FIXED_RATE,
      durationSeconds: SECONDS,
      body: () => pacedSupply.nextUnused(),
      verifyBody: ipnApplied,
      maxSockets: 50,
      maxOutstanding: MAX_OUTSTANDING,
    });
    check(`${kind} IPN at ${FIXED_RATE}/s`, paced, { verified: true });
    peakAfter.ipnAt500 = signer.peakRssMb();
    log(
      `  achieved ${paced.requestsPerSecond}/s (${paced.dropped} slots dropped), ` +
        `p50 ${paced.latencyMs.p50} ms, p99 ${paced.latencyMs.p99} ms`,
    );

    log(`  IPN at autocannon overallRate ${FIXED_RATE}`);
    const rated = await ipnRun(
      await ipnSupply(signer, `${prefix}-r`, Math.ceil(usable * (SECONDS + 1))),
      SECONDS,
      { overallRate: FIXED_RATE },
    );
    check(`${kind} IPN at overallRate ${FIXED_RATE}`, rated, { verified: true });
    peakAfter.ipnAtOverallRate500 = signer.peakRssMb();
    log(
      `  ${rated.requestsPerSecond}/s, p50 ${rated.latencyMs.p50} ms, p99 ${rated.latencyMs.p99} ms`,
    );

    log('  POST /sessions, max throughput (distinct orders, real sandbox checkout)');
    const sessionRun = (supply: BodySupply, seconds: number) =>
      runAutocannon({
        url: signer.url,
        path: '/sessions',
        headers: WIDGET_HEADERS,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        body: () => supply.take(),
        maxRequests: supply.remaining,
      });
    const warmSessions = await sessionRun(
      await orderSupply(signer, `${prefix}-sw`, 500),
      WARMUP_SECONDS,
    );
    const sessions = await sessionRun(
      await orderSupply(signer, `${prefix}-s`, seedCount(warmSessions.requestsPerSecond, SECONDS)),
      SECONDS,
    );
    check(`${kind} sessions`, sessions, { verified: false });
    peakAfter.sessions = signer.peakRssMb();
    log(`  ${sessions.requestsPerSecond} sessions/s, p99 ${sessions.latencyMs.p99} ms`);

    log(`  POST /sessions with the gateway answering in ${GATEWAY_LATENCY_MS} ms`);
    await setSandboxFaults(sandbox, `delay:${GATEWAY_LATENCY_MS}`);
    const slowGateway = await sessionRun(
      await orderSupply(
        signer,
        `${prefix}-l`,
        Math.ceil((CONNECTIONS * 1000 * (SECONDS + 1)) / GATEWAY_LATENCY_MS),
      ),
      SECONDS,
    ).finally(() => setSandboxFaults(sandbox, ''));
    check(`${kind} sessions with a slow gateway`, slowGateway, { verified: false });
    peakAfter.sessionsWithSlowGateway = signer.peakRssMb();
    log(`  ${slowGateway.requestsPerSecond} sessions/s, p99 ${slowGateway.latencyMs.p99} ms`);

    return {
      ipn,
      ipnCpuPerRequest,
      ipnAt500: {
        method: `open loop: one IPN every ${1000 / FIXED_RATE} ms for ${SECONDS} s, latency from the scheduled send time`,
        ...paced,
        autocannonOverallRate: rated,
      },
      sessions,
      sessionsWithGatewayLatency300ms: slowGateway,
      rssMb: {
        atStart,
        peak: signer.peakRssMb(),
        peakAfter,
        atEndAfterGc: await signer.call('memory', {}),
      },
    };
  } finally {
    await signer.stop();
  }
}

async function setSandboxFaults(sandbox: TargetProcess, faults: string): Promise<void> {
  const res = await fetch(`${sandbox.url}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ faults }),
  });
  if (!res.ok) throw new Error(`sandbox faults: HTTP ${res.status} ${await res.text()}`);
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  assertLoopback(PG_URL);
  const started = performance.now();
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-bench-'));
  const schema = `gp_bench_${randomBytes(6).toString('hex')}`;
  let sandbox: TargetProcess | undefined;
  try {
    const sample = signedIpnBody(
      {
        gatewayOrderId: 'f'.repeat(32),
        transactionId: 'T'.repeat(20),
        requestId: '0'.repeat(32),
        amount: 150_000,
      },
      BENCH_SALT,
      new Date(),
    );
    log('compiling the target processes');
    await bundleTargets(dir);
    const baseline = await measureBaseline(sample, dir);
    sandbox = await spawnTarget('sandbox', { kind: 'sandbox' }, dir);
    const sqlite = await measureSigner(
      'sqlite',
      { kind: 'signer', databaseUrl: `file:${join(dir, 'signer.db')}`, gatewayUrl: sandbox.url },
      sandbox,
      dir,
    );
    const postgres = await measureSigner(
      'postgres',
      { kind: 'signer', databaseUrl: PG_URL, schema, gatewayUrl: sandbox.url },
      sandbox,
      dir,
    );
    const sandboxRss = sandbox.peakRssMb();
    const peaks = [sqlite.rssMb.peak, postgres.rssMb.peak].filter(v => v !== null);
    const peakRssMb = peaks.length > 0 ? Math.max(...peaks) : null;
    const ratio = (stats: LoadStats) =>
      Math.round((stats.requestsPerSecond / baseline.stats.requestsPerSecond) * 1000) / 1000;
    const report = {
      node: process.version,
      cpus: availableParallelism(),
      durationSeconds: Math.round((performance.now() - started) / 100) / 10,
      secondsPerMeasurement: SECONDS,
      // Other work on the machine skews every number: the 1-minute load average before and after.
      loadAverage1m: { start: round2(loadAtStart[0]!), end: round2(loadavg()[0]!) },
      connections: CONNECTIONS,
      baseline: { ...baseline.stats, cpuPerRequest: baseline.cpuPerRequest },
      sqlite,
      postgres,
      ratios: {
        sqliteIpnVsBaseline: ratio(sqlite.ipn),
        postgresIpnVsBaseline: ratio(postgres.ipn),
        sqliteSessionsVsBaseline: ratio(sqlite.sessions),
        postgresSessionsVsBaseline: ratio(postgres.sessions),
      },
      peakRssMb,
      rssMb: {
        note: 'peak RSS (VmHWM) of each server, each alone in its own plain-node process',
        signerSqlite: sqlite.rssMb.peak,
        signerPostgres: postgres.rssMb.peak,
        baseline: baseline.rssMb,
        sandbox: sandboxRss,
        loadGenerator: roundMb(process.resourceUsage().maxRSS / 1024),
      },
      bars: {
        sqliteIpnAtLeastHalfBaseline: ratio(sqlite.ipn) >= 0.5,
        p99Under20msAt500:
          sqlite.ipnAt500.latencyMs.p99 < 20 &&
          sqlite.ipnAt500.dropped === 0 &&
          sqlite.ipnAt500.requestsPerSecond >= FIXED_RATE * 0.95,
        rssUnder150Mb: peakRssMb !== null && peakRssMb < 150,
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema).catch((error: unknown) =>
      problems.push(`could not drop schema ${schema}: ${String(error)}`),
    );
  }
  if (problems.length > 0) {
    for (const problem of problems) log(`FAILED ${problem}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
