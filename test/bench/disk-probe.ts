/**
 * The disk's own sync latency while a paced run measures the stores' latency. Every IPN is answered only
 * after its commit is synced, so a disk that stalls a sync for 100 ms sets the paced p99 whatever the signer
 * does. Session 11's VM did, with nothing else running: an idle machine's 8 KB fdatasync stalled 80–300 ms
 * a few times a minute, and each paced round's p99 followed the largest stall in it (docs/performance.md,
 * session 11). The probe lets the report tell a slow signer from a stalling disk.
 */

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** One 8 KB write and fdatasync every this many ms: light next to the stores' own syncs. */
const INTERVAL_MS = 20;

/** The probe's sync latencies over one run, in ms. */
export interface DiskSyncStats {
  syncs: number;
  p50: number;
  p99: number;
  max: number;
  /** Syncs that took 20 ms or more: a paced p99 under 20 ms cannot survive many of them. */
  over20: number;
}

/**
 * Runs in a worker: blocking syncs keep the timing exact, and the runner's event loop (the paced load
 * generator) never waits on the disk.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const fd = fs.openSync(workerData.path, 'w');
const page = Buffer.alloc(8192, 1);
const took = [];
let timer = null;
const probe = () => {
  const started = performance.now();
  fs.writeSync(fd, page, 0, page.length, 0);
  fs.fdatasyncSync(fd);
  took.push(performance.now() - started);
  timer = setTimeout(probe, workerData.intervalMs);
};
parentPort.once('message', () => {
  clearTimeout(timer);
  fs.closeSync(fd);
  fs.rmSync(workerData.path, { force: true });
  parentPort.postMessage(took);
});
probe();
`;

/** Starts probing a file in `dir` (the file system the stores write to); `stop` returns what it saw. */
export function probeDisk(dir: string): { stop(): Promise<DiskSyncStats> } {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path: join(dir, 'disk-probe'), intervalMs: INTERVAL_MS },
  });
  const result = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // A failed probe fails the run at `stop`, not as an unhandled rejection in the middle of it.
  result.catch(() => undefined);
  return {
    async stop() {
      worker.postMessage('stop');
      const took = await result;
      await worker.terminate();
      return summariseSyncs(took);
    },
  };
}

/** Nearest-rank percentiles of the sync times, in ms. */
export function summariseSyncs(took: readonly number[]): DiskSyncStats {
  const sorted = [...took].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0
      ? 0
      : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return {
    syncs: sorted.length,
    p50: at(50),
    p99: at(99),
    max: round(sorted.at(-1) ?? 0),
    over20: sorted.filter(ms => ms >= 20).length,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
