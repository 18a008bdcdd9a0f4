/**
 * `pnpm bench` (docs/reliability.md T32, the short form): IPN and session throughput of the signer on SQLite
 * and on PostgreSQL against a bare Express + helmet endpoint, IPN latency at a paced 500 IPN/s, PostgreSQL
 * with 1, 2 and 4 signer processes on one database, where a session's CPU goes, and peak RSS.
 *
 * Every measurement runs BENCH_ROUNDS times (default 3), interleaved: each round measures the baseline and
 * then the signer, and each ratio is the signer's over that round's baseline. The report gives the median
 * and the spread of each figure, and the bars are judged on medians: a shared machine moves single runs by
 * ±10 % or more. Loopback only, bounded in time; one JSON object on stdout, progress and a summary table on
 * stderr.
 *
 * Environment: BENCH_SECONDS (each measurement, default 5), BENCH_ROUNDS (default 3), BENCH_NODE_FLAGS
 * (extra node flags for the targets, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), TEST_DATABASE_URL (a
 * loopback PostgreSQL, default postgres://postgres@127.0.0.1:5432/test; a fresh schema is made and dropped).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { bundleTargets } from './build.js';
import { spawnTarget, type TargetProcess } from './child.js';
import { signedIpnBody } from './ipn.js';
import { runAutocannon, type LoadStats, type PacedStats } from './load.js';
import {
  CONNECTIONS,
  FIXED_RATE,
  IPN_HEADERS,
  check,
  ipnApplied,
  ipnMax,
  ipnPaced,
  ipnRun,
  ipnSupply,
  log,
  measuringCpu,
  problems,
  seedCount,
  sessionsMax,
  setSandboxFaults,
  type CpuPerRequest,
  type SessionCost,
} from './measure.js';
import { BENCH_SALT, type TargetSpec } from './messages.js';
import { formatSpread, round, spreadOf, type Spread } from './stats.js';

const SECONDS = positive('BENCH_SECONDS', 5);
const ROUNDS = positive('BENCH_ROUNDS', 3);
const WARMUP_SECONDS = 1;
const GATEWAY_LATENCY_MS = 300;
/** Signer processes sharing one PostgreSQL database in the scaling measurement. */
const PROCESS_COUNTS = [1, 2, 4] as const;
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type StoreKind = 'sqlite' | 'postgres';

/** The signer's figures on one store in one round. */
interface SignerRound {
  ipn: LoadStats;
  ipnCpu: CpuPerRequest | null;
  ipnAt500: PacedStats;
  sessions: SessionCost;
  sessionsWithSlowGateway: LoadStats;
}

interface Round {
  baseline: { stats: LoadStats; cpu: CpuPerRequest | null };
  sqlite: SignerRound;
  postgres: SignerRound;
  /** PostgreSQL IPN/s with 2 and 4 signer processes on the same database (1 is `postgres.ipn`). */
  postgresProcesses: Record<number, LoadStats>;
}

function positive(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be > 0: ${value}`);
  return parsed;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new Error(`TEST_DATABASE_URL must point at a loopback PostgreSQL, not ${host}`);
  }
}

/** What each target is expected to manage per second, to seed enough: the last measurement's rate. */
const expected = new Map<string, number>();

async function measureBaseline(
  baseline: TargetProcess,
  sample: string,
): Promise<Round['baseline']> {
  const { stats, cpu } = await measuringCpu([baseline], () =>
    runAutocannon({
      url: baseline.url,
      path: '/ipn',
      headers: IPN_HEADERS,
      connections: CONNECTIONS,
      durationSeconds: SECONDS,
      body: () => sample,
      verifyBody: ipnApplied,
    }),
  );
  check('baseline', stats, { verified: true });
  log(`  baseline: ${stats.requestsPerSecond} req/s, p99 ${stats.latencyMs.p99} ms`);
  return { stats, cpu: cpu[0] ?? null };
}

async function measureSigner(
  kind: StoreKind,
  signer: TargetProcess,
  sandbox: TargetProcess,
  prefix: string,
): Promise<SignerRound> {
  const { stats: ipn, cpuPerRequest: ipnCpu } = await ipnMax(
    `${kind} IPN`,
    [signer],
    `${prefix}-i`,
    SECONDS,
    expected.get(signer.name)!,
  );
  expected.set(signer.name, ipn.requestsPerSecond);
  const ipnAt500 = await ipnPaced(
    `${kind} IPN at ${FIXED_RATE}/s`,
    signer,
    `${prefix}-p`,
    SECONDS,
    ipn.requestsPerSecond,
  );
  const sessionKey = `${signer.name}/sessions`;
  const sessions = await sessionsMax(
    `${kind} sessions`,
    signer,
    sandbox,
    `${prefix}-s`,
    SECONDS,
    seedCount(expected.get(sessionKey)!, SECONDS),
  );
  expected.set(sessionKey, sessions.stats.requestsPerSecond);
  await setSandboxFaults(sandbox, `delay:${GATEWAY_LATENCY_MS}`);
  const slow = await sessionsMax(
    `${kind} sessions, gateway answering in ${GATEWAY_LATENCY_MS} ms`,
    signer,
    sandbox,
    `${prefix}-l`,
    SECONDS,
    Math.ceil((CONNECTIONS * 1000 * (SECONDS + 1)) / GATEWAY_LATENCY_MS),
  ).finally(() => setSandboxFaults(sandbox, ''));
  return { ipn, ipnCpu, ipnAt500, sessions, sessionsWithSlowGateway: slow.stats };
}

/** First use of a signer: its JIT warmed on both paths, and the rates that size the first round's seeds. */
async function warmUp(
  signer: TargetProcess,
  sandbox: TargetProcess,
  prefix: string,
): Promise<void> {
  const ipn = await ipnRun(signer, await ipnSupply(signer, `${prefix}-wi`, 400), WARMUP_SECONDS);
  expected.set(signer.name, ipn.requestsPerSecond);
  const sessions = await sessionsMax('warm-up sessions', signer, sandbox, `${prefix}-ws`, 1, 300);
  expected.set(`${signer.name}/sessions`, sessions.stats.requestsPerSecond);
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

/** Median and spread of every figure over the rounds, and the bars judged on the medians. */
function summarise(
  rounds: readonly Round[],
  rss: { signerSqlite: number | null; signerPostgres: number | null },
) {
  const ratio = (signer: LoadStats, r: Round) =>
    round(signer.requestsPerSecond / r.baseline.stats.requestsPerSecond, 3);
  const store = (kind: StoreKind) => ({
    ipnPerSecond: spreadOf(rounds, r => r[kind].ipn.requestsPerSecond),
    ipnVsBaseline: spreadOf(rounds, r => ratio(r[kind].ipn, r)),
    ipnMainThreadUs: spreadOf(rounds, r => r[kind].ipnCpu?.mainThreadUs ?? null),
    ipnProcessUs: spreadOf(rounds, r => r[kind].ipnCpu?.processUs ?? null),
    ipnP99AtFullSpeedMs: spreadOf(rounds, r => r[kind].ipn.latencyMs.p99),
    at500: {
      achievedPerSecond: spreadOf(rounds, r => r[kind].ipnAt500.requestsPerSecond),
      p50Ms: spreadOf(rounds, r => r[kind].ipnAt500.latencyMs.p50),
      p99Ms: spreadOf(rounds, r => r[kind].ipnAt500.latencyMs.p99),
      dropped: spreadOf(rounds, r => r[kind].ipnAt500.dropped),
    },
    sessions: {
      perSecond: spreadOf(rounds, r => r[kind].sessions.stats.requestsPerSecond),
      p50Ms: spreadOf(rounds, r => r[kind].sessions.stats.latencyMs.p50),
      signerMainThreadUs: spreadOf(rounds, r => r[kind].sessions.signer?.mainThreadUs ?? null),
      signerProcessUs: spreadOf(rounds, r => r[kind].sessions.signer?.processUs ?? null),
      sandboxMainThreadUs: spreadOf(rounds, r => r[kind].sessions.sandbox?.mainThreadUs ?? null),
      sandboxProcessUs: spreadOf(rounds, r => r[kind].sessions.sandbox?.processUs ?? null),
      perSecondWithGatewayLatency300ms: spreadOf(
        rounds,
        r => r[kind].sessionsWithSlowGateway.requestsPerSecond,
      ),
    },
  });
  const sqlite = store('sqlite');
  const postgres = store('postgres');
  const processes = Object.fromEntries(
    PROCESS_COUNTS.map(n => [
      n,
      {
        ipnPerSecond: spreadOf(rounds, r =>
          n === 1 ? r.postgres.ipn.requestsPerSecond : r.postgresProcesses[n]!.requestsPerSecond,
        ),
        vsBaseline: spreadOf(rounds, r =>
          ratio(n === 1 ? r.postgres.ipn : r.postgresProcesses[n]!, r),
        ),
      },
    ]),
  );
  const median = (figure: Spread | null) => figure?.median ?? Number.NaN;
  const peak = Math.max(...[rss.signerSqlite, rss.signerPostgres].map(v => v ?? Number.NaN));
  const bars = {
    sqliteIpnAtLeast0_7xBaseline: median(sqlite.ipnVsBaseline) >= 0.7,
    sqliteP99Under10msAt500:
      median(sqlite.at500.p99Ms) < 10 &&
      median(sqlite.at500.dropped) === 0 &&
      median(sqlite.at500.achievedPerSecond) >= FIXED_RATE * 0.95,
    postgresIpnAtLeast0_3xBaseline: median(postgres.ipnVsBaseline) >= 0.3,
    postgresP99Under20msAt500:
      median(postgres.at500.p99Ms) < 20 &&
      median(postgres.at500.dropped) === 0 &&
      median(postgres.at500.achievedPerSecond) >= FIXED_RATE * 0.95,
    peakRssUnder120Mb: peak < 120,
  };
  return {
    baseline: {
      perSecond: spreadOf(rounds, r => r.baseline.stats.requestsPerSecond),
      mainThreadUs: spreadOf(rounds, r => r.baseline.cpu?.mainThreadUs ?? null),
      processUs: spreadOf(rounds, r => r.baseline.cpu?.processUs ?? null),
    },
    sqlite,
    postgres: { ...postgres, processes },
    bars,
  };
}

type Summary = ReturnType<typeof summarise>;

/** The medians as a Markdown table on stderr, ready for the README and docs/performance.md. */
function printTable(summary: Summary, load: { start: number; end: number }): void {
  const rows: [string, Spread | null, string][] = [
    ['baseline req/s (Express + helmet)', summary.baseline.perSecond, ''],
    ['baseline main-thread CPU per request', summary.baseline.mainThreadUs, ' µs'],
  ];
  for (const kind of ['sqlite', 'postgres'] as const) {
    const s = summary[kind];
    rows.push(
      [`${kind} IPN/s`, s.ipnPerSecond, ''],
      [`${kind} IPN vs baseline`, s.ipnVsBaseline, '×'],
      [`${kind} main-thread CPU per IPN`, s.ipnMainThreadUs, ' µs'],
      [`${kind} IPN p99 at a paced ${FIXED_RATE}/s`, s.at500.p99Ms, ' ms'],
      [`${kind} sessions/s`, s.sessions.perSecond, ''],
      [`${kind} session CPU, signer main thread`, s.sessions.signerMainThreadUs, ' µs'],
      [`${kind} session CPU, sandbox main thread`, s.sessions.sandboxMainThreadUs, ' µs'],
    );
  }
  for (const n of PROCESS_COUNTS) {
    const p = summary.postgres.processes[n]!;
    rows.push([`postgres IPN/s, ${n} signer process(es)`, p.ipnPerSecond, '']);
  }
  log(`median (min–max) of ${ROUNDS} rounds, load average ${load.start} → ${load.end}`);
  log('| figure | median (min–max) |');
  log('| --- | --- |');
  for (const [label, figure, unit] of rows) log(`| ${label} | ${formatSpread(figure, unit)} |`);
  log(`bars (on medians): ${JSON.stringify(summary.bars)}`);
}

async function main(): Promise<void> {
  assertLoopback(PG_URL);
  const started = performance.now();
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-bench-'));
  const schema = `gp_bench_${randomBytes(6).toString('hex')}`;
  const targets: TargetProcess[] = [];
  const spawn = async (name: string, spec: TargetSpec) => {
    const target = await spawnTarget(name, spec, dir);
    targets.push(target);
    return target;
  };
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
    const baseline = await spawn('baseline', { kind: 'baseline' });
    const sandbox = await spawn('sandbox', { kind: 'sandbox' });
    const sqlite = await spawn('signer-sqlite', {
      kind: 'signer',
      databaseUrl: `file:${join(dir, 'signer.db')}`,
      gatewayUrl: sandbox.url,
    });
    const pgSpec = {
      kind: 'signer',
      databaseUrl: PG_URL,
      schema,
      gatewayUrl: sandbox.url,
    } as const;
    // One after another: the first migrates the schema, the others find it migrated.
    const postgres: TargetProcess[] = [];
    for (let i = 0; i < Math.max(...PROCESS_COUNTS); i++)
      postgres.push(await spawn(`signer-postgres-${i + 1}`, pgSpec));

    const tag = randomBytes(4).toString('hex');
    log('warming up');
    await runAutocannon({
      url: baseline.url,
      path: '/ipn',
      headers: IPN_HEADERS,
      connections: CONNECTIONS,
      durationSeconds: WARMUP_SECONDS,
      body: () => sample,
    });
    await warmUp(sqlite, sandbox, `w-${tag}-s`);
    for (const [i, signer] of postgres.entries()) await warmUp(signer, sandbox, `w-${tag}-p${i}`);

    const rounds: Round[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      log(`round ${r} of ${ROUNDS}`);
      const prefix = `r${r}-${tag}`;
      const baselineRound = await measureBaseline(baseline, sample);
      const sqliteRound = await measureSigner('sqlite', sqlite, sandbox, `${prefix}-s`);
      const postgresRound = await measureSigner('postgres', postgres[0]!, sandbox, `${prefix}-p`);
      const postgresProcesses: Record<number, LoadStats> = {};
      for (const n of PROCESS_COUNTS.filter(count => count > 1)) {
        const key = `postgres x${n}`;
        const { stats } = await ipnMax(
          `postgres IPN, ${n} processes`,
          postgres.slice(0, n),
          `${prefix}-x${n}`,
          SECONDS,
          expected.get(key) ?? postgresRound.ipn.requestsPerSecond * n,
        );
        expected.set(key, stats.requestsPerSecond);
        postgresProcesses[n] = stats;
      }
      rounds.push({
        baseline: baselineRound,
        sqlite: sqliteRound,
        postgres: postgresRound,
        postgresProcesses,
      });
    }

    const rssMb = {
      note: 'peak RSS (VmHWM) of each server over the whole run, each alone in its own plain-node process',
      signerSqlite: sqlite.peakRssMb(),
      signerPostgres: postgres[0]!.peakRssMb(),
      baseline: baseline.peakRssMb(),
      sandbox: sandbox.peakRssMb(),
      loadGenerator: round(process.resourceUsage().maxRSS / 1024, 1),
    };
    const memoryAtEnd = {
      signerSqlite: await sqlite.call('memory', {}),
      signerPostgres: await postgres[0]!.call('memory', {}),
    };
    const loadAverage1m = { start: round(loadAtStart[0]!, 2), end: round(loadavg()[0]!, 2) };
    const summary = summarise(rounds, rssMb);
    const report = {
      node: process.version,
      cpus: availableParallelism(),
      durationSeconds: round((performance.now() - started) / 1000, 1),
      rounds: ROUNDS,
      secondsPerMeasurement: SECONDS,
      // Other work on the machine skews every number: the 1-minute load average before and after.
      loadAverage1m,
      connections: CONNECTIONS,
      ...summary,
      rssMb,
      memoryAfterGcMb: memoryAtEnd,
      perRound: rounds,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    printTable(summary, loadAverage1m);
  } finally {
    await Promise.all(targets.map(target => target.stop()));
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
