/**
 * The paced load generator on a thread of its own. The runner's main thread holds everything a bench run
 * seeds and measures (tens of thousands of signed bodies, autocannon's results), and its garbage collector
 * paused it for up to 48 ms in the middle of paced runs (docs/performance.md, session 12): the generator then
 * read answers late, and the p99 measured the runner's heap. A worker has its own small heap, so the main
 * thread's collections no longer stop the generator.
 *
 * One worker serves every paced run of a bench, warmed by a first run: a fresh worker's heap grows in its
 * first 150 ms, and the scavenge and mark-sweep that took (6–8 ms and 4–9 ms) landed in every run's first
 * moments. The bodies cross as one transferred buffer, outside the worker's heap: 2 700 bodies as strings
 * filled its old generation run after run, and a mark-compact paused it 23 ms in one run.
 */

import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { ipnApplied } from './messages.js';
import { watchLoop, type LoopStats } from './loop-watch.js';
import { runPaced, type PacedStats } from './load.js';

/** What the worker runs: `runPaced`'s options, with the bodies as data instead of a callback. */
export interface PacedJob {
  url: string;
  path: string;
  headers: Record<string, string>;
  rate: number;
  durationSeconds: number;
  /** The bodies, one after another (see `packBodies`): sent in order, each once; with `repeat`, the first every time. */
  bodies: PackedBodies;
  repeat: boolean;
  maxSockets: number;
  maxOutstanding: number;
}

export type PacedResult = PacedStats & { generatorLoop: LoopStats };

/** Request bodies in one buffer, and where each ends. */
export interface PackedBodies {
  bytes: ArrayBuffer;
  ends: number[];
}

/** Packs `bodies` into one buffer (UTF-8), to be transferred to the worker rather than copied into its heap. */
export function packBodies(bodies: readonly string[]): PackedBodies {
  const lengths = bodies.map(body => Buffer.byteLength(body));
  const packed = Buffer.allocUnsafeSlow(lengths.reduce((sum, length) => sum + length, 0));
  const ends: number[] = [];
  let at = 0;
  bodies.forEach(body => {
    at += packed.write(body, at);
    ends.push(at);
  });
  return { bytes: packed.buffer, ends };
}

/** The `i`-th packed body, as a view (no copy). */
export function packedBody({ bytes, ends }: PackedBodies, i: number): Uint8Array {
  const start = i === 0 ? 0 : ends[i - 1]!;
  return new Uint8Array(bytes, start, ends[i]! - start);
}

/**
 * The worker's entry: Node gives a worker thread none of the main thread's module hooks, so it registers
 * tsx (the runner's loader) before it imports this file as TypeScript.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => {
  register();
  return import(workerData.entry);
});
`;

/** A generator thread that runs one paced job at a time. */
export interface PacedGenerator {
  run(job: PacedJob): Promise<PacedResult>;
  close(): Promise<void>;
}

/** Starts the generator thread (answers are checked as accepted IPNs, `ipnApplied`). */
export function startPacedGenerator(): PacedGenerator {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { tsx: import.meta.resolve('tsx/esm/api'), entry: import.meta.url },
  });
  // Idle between runs, it must not keep the runner alive; a run holds it (the main thread only awaits it).
  worker.unref();
  let failure: Error | undefined;
  let pending: { resolve(result: PacedResult): void; reject(error: Error): void } | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    pending?.reject(error);
    pending = undefined;
  };
  worker.on('error', fail);
  worker.on('exit', code => fail(new Error(`paced generator exited (code ${code})`)));
  worker.on('message', (result: PacedResult) => {
    worker.unref();
    pending?.resolve(result);
    pending = undefined;
  });
  return {
    run(job) {
      if (failure) return Promise.reject(failure);
      if (pending) return Promise.reject(new Error('the paced generator runs one job at a time'));
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        worker.ref();
        worker.postMessage(job, [job.bodies.bytes]);
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

async function runJob(job: PacedJob): Promise<PacedResult> {
  let next = 0;
  const only = job.repeat ? packedBody(job.bodies, 0) : undefined;
  const body = only
    ? () => only
    : () => (next < job.bodies.ends.length ? packedBody(job.bodies, next++) : undefined);
  const loop = watchLoop();
  const stats = await runPaced({ ...job, body, verifyBody: ipnApplied });
  return { ...stats, generatorLoop: loop.stop() };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (job: PacedJob) => void runJob(job).then(result => port.postMessage(result)));
}
