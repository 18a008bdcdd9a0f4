/**
 * The paced load generator on a thread of its own. The runner's main thread holds everything a bench run
 * seeds and measures (tens of thousands of signed bodies, autocannon's results), and its garbage collector
 * paused it for up to 48 ms in the middle of paced runs (docs/performance.md, session 12): the generator then
 * read answers late, and the p99 measured the runner's heap. A worker has its own small heap, so the main
 * thread's collections no longer stop the generator.
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ipnApplied } from './ipn.js';
import { watchLoop, type LoopStats } from './loop-watch.js';
import { runPaced, type PacedStats } from './load.js';

/** What the worker runs: `runPaced`'s options, with the bodies as data instead of a callback. */
export interface PacedJob {
  url: string;
  path: string;
  headers: Record<string, string>;
  rate: number;
  durationSeconds: number;
  /** Sent in order, each once; or, with `repeat`, the only body, sent every time. */
  bodies: readonly string[];
  repeat: boolean;
  maxSockets: number;
  maxOutstanding: number;
}

export type PacedResult = PacedStats & { generatorLoop: LoopStats };

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

/** Runs one paced run on a new worker thread, answers checked as accepted IPNs (`ipnApplied`). */
export function runPacedApart(job: PacedJob): Promise<PacedResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { job, tsx: import.meta.resolve('tsx/esm/api'), entry: import.meta.url },
    });
    let result: PacedResult | undefined;
    worker.once('message', (message: PacedResult) => (result = message));
    worker.once('error', reject);
    worker.once('exit', code =>
      result ? resolve(result) : reject(new Error(`paced generator exited (code ${code})`)),
    );
  });
}

async function runJob(job: PacedJob): Promise<PacedResult> {
  let next = 0;
  const body = job.repeat
    ? () => job.bodies[0]
    : () => (next < job.bodies.length ? job.bodies[next++] : undefined);
  const loop = watchLoop();
  const stats = await runPaced({ ...job, body, verifyBody: ipnApplied });
  return { ...stats, generatorLoop: loop.stop() };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void runJob((workerData as { job: PacedJob }).job).then(result => port.postMessage(result));
}
