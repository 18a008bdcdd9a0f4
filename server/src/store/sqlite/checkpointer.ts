/**
 * Runs SQLite's WAL checkpoints on a worker thread once a store commits often.
 *
 * SQLite checkpoints in the connection that commits: every 1,000 WAL pages, a COMMIT also copies the pages
 * into the database file and fsyncs both files, and better-sqlite3 runs that on the event loop. Under an
 * IPN burst this was about a sixth of the signer's main-thread time, and its fsyncs stalled every request
 * in the process. Here a second connection, on a worker thread, checkpoints shortly after commits, and the
 * writer's own checkpoints are off.
 *
 * Durability is unchanged: a checkpoint still syncs the WAL before copying and the database file before
 * the WAL can be reused (synchronous = NORMAL), whichever connection runs it.
 */

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { betterSqlite3 } from '../drivers.js';

export interface CheckpointTuning {
  /** Commits after which the worker starts: a store that writes rarely never needs one. */
  afterCommits: number;
  /** How long the worker lets commits accumulate before it checkpoints them. */
  delayMs: number;
  /** WAL length, in pages, at which the worker makes SQLite reuse the WAL from its start (see below). */
  restartPages: number;
  /** The worker's heap cap: Node starts a worker with about 6 MB; this one allocates next to nothing. */
  heapMb: number;
}

const DEFAULT_TUNING: CheckpointTuning = {
  afterCommits: 100,
  delayMs: 20,
  // 40 MB of WAL at most.
  restartPages: 10_000,
  heapMb: 16,
};

/** SQLite's default, restored on the writer if the worker ever fails. */
const INLINE_CHECKPOINT_PAGES = 1000;

/**
 * The worker, as plain JavaScript evaluated in the thread: a file would have to be found next to this
 * module, which a bundled build (the bench's) does not keep. It loads the same better-sqlite3 copy as the
 * main thread, by path.
 *
 * Each pass is PASSIVE: it copies what is committed without ever making the writer wait. But SQLite reuses
 * the WAL from its start only when a write begins with every frame already copied, and under steady
 * commits a pass never quite catches up: the WAL would grow without end (to 640 MB in the bench's session
 * phase). So once it is `restartPages` long, the pass ends with a RESTART checkpoint, which copies the few
 * frames committed since (a millisecond or two) and lets the WAL start over.
 *
 * A RESTART needs the write lock, and SQLite's busy handler only polls for it (after 1, 2, 5, 10… ms): a
 * writer that commits without a pause holds it at nearly every poll, and the WAL never started over (20,000
 * pages in CI, from a test writing in tight bursts). So the worker raises a flag shared with the main thread
 * first, and this process's writer holds its next commit back until the pass ends (`heldBack`): the RESTART
 * finds the lock free at once, and the event loop goes on serving meanwhile instead of blocking in
 * better-sqlite3's busy wait.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
// A checkpoint copies frames without the page cache: keep the cache (16 MB in better-sqlite3) tiny.
db.pragma('cache_size = -64');
const restarting = new Int32Array(workerData.restarting);
let timer = null;
const checkpoint = () => {
  timer = null;
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.restartPages) {
      Atomics.store(restarting, 0, 1);
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch (error) {
    // Another checkpoint is running (another process's): it does the work, or the next pass will.
    if (!String(error.code).startsWith('SQLITE_BUSY')) throw error;
  } finally {
    Atomics.store(restarting, 0, 0);
  }
  parentPort.postMessage('checkpointed');
};
parentPort.on('message', message => {
  if (message === 'commit') {
    timer ??= setTimeout(checkpoint, workerData.delayMs);
  } else if (message === 'close') {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage('ready');
`;

export interface Checkpointer {
  /** Tells it a transaction committed (cheap; called after every group commit). */
  committed(): void;
  /**
   * While the worker starts the WAL over: resolves when it is done (or gone), and the writer commits only
   * then. Otherwise undefined: commit now.
   */
  heldBack(): Promise<void> | undefined;
  /** Stops the worker and closes its connection (before the writer closes the database). */
  close(): Promise<void>;
}

/** The file better-sqlite3 was loaded from in this process, so the worker loads the very same one. */
function betterSqlitePath(): string | undefined {
  const cache = createRequire(import.meta.url).cache;
  return Object.values(cache).find(module => module?.exports === betterSqlite3())?.filename;
}

/**
 * Counts the writer's commits and, past `afterCommits`, starts the worker and turns the writer's own
 * checkpoints off. Should the worker fail, the writer checkpoints again, as SQLite does by default.
 */
export function checkpointer(
  db: Database.Database,
  path: string,
  tuning: Partial<CheckpointTuning> = {},
): Checkpointer {
  const { afterCommits, delayMs, restartPages, heapMb } = { ...DEFAULT_TUNING, ...tuning };
  let commits = 0;
  let worker: Worker | null = null;
  let ready = false;
  /** A commit was announced and the worker has not checkpointed since: later commits need no message. */
  let announced = false;
  /**
   * A commit came while one was announced. The pass under way may have started before it, and nothing
   * else would copy its pages until the next commit: it is announced again once that pass ends.
   */
  let committedSince = false;
  let exited: Promise<void> = Promise.resolve();
  /** Set by the worker from before its RESTART until the pass ends (a SharedArrayBuffer, read without a message). */
  const restarting = new Int32Array(new SharedArrayBuffer(4));
  /** Writers held back until the worker's pass ends. */
  let waiting: (() => void)[] = [];

  function releaseWaiting(thread: Worker): void {
    const release = waiting;
    waiting = [];
    // Held back, writers keep the process alive (the worker is unref'd): let it go again.
    if (release.length > 0 && worker === thread) thread.unref();
    for (const resolve of release) resolve();
  }

  function start(): void {
    const module = betterSqlitePath();
    if (module === undefined) return;
    const thread = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, path, delayMs, restartPages, restarting: restarting.buffer },
      // Plain JavaScript: no loader (tsx) to start.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 1 },
    });
    worker = thread;
    exited = new Promise(resolve => thread.once('exit', () => resolve()));
    const announce = () => {
      announced = true;
      committedSince = false;
      thread.postMessage('commit');
    };
    thread.on('message', (message: 'ready' | 'checkpointed') => {
      if (message === 'checkpointed') {
        announced = false;
        releaseWaiting(thread);
        if (committedSince && worker === thread) announce();
      } else if (worker === thread && db.open) {
        db.pragma('wal_autocheckpoint = 0');
        ready = true;
        // The commits made while it started are in the WAL too: one pass now copies them.
        announce();
      }
    });
    let failure = 'it exited';
    thread.once('error', error => {
      failure = `${error.name}: ${error.message}`;
    });
    // Any exit but the one `close` asks for: the writer checkpoints again, or its WAL would grow for ever.
    thread.once('exit', () => {
      releaseWaiting(thread);
      Atomics.store(restarting, 0, 0);
      if (worker !== thread) return;
      process.emitWarning(`SQLite checkpoint worker stopped (${failure}); checkpointing inline`);
      worker = null;
      ready = false;
      if (db.open) db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    });
    thread.unref();
  }

  return {
    committed() {
      if (ready) {
        if (announced) {
          committedSince = true;
          return;
        }
        announced = true;
        worker!.postMessage('commit');
      } else if (worker === null && ++commits === afterCommits) {
        start();
      }
    },
    heldBack() {
      if (worker === null || Atomics.load(restarting, 0) === 0) return undefined;
      // The flag is cleared before the worker's 'checkpointed' message, so one always follows (or its exit).
      if (waiting.length === 0) worker.ref();
      return new Promise<void>(resolve => waiting.push(resolve));
    },
    async close() {
      const thread = worker;
      worker = null;
      ready = false;
      if (thread === null) return;
      // Referenced again: the process must wait for the worker to close its connection.
      thread.ref();
      thread.postMessage('close');
      await exited;
    },
  };
}
