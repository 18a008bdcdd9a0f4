/**
 * SQLite's group commit. better-sqlite3 runs each call synchronously, so a write transaction (`BEGIN
 * IMMEDIATE`) runs from start to commit within one turn of the event loop: writers in this process never
 * interleave. Writes queued in one turn share one transaction, and one WAL fsync serves a burst of IPNs.
 * Writers in other processes wait for each other through the busy timeout, blocking their event loop meanwhile.
 */

import type Database from 'better-sqlite3';

/** A write waiting for the next group commit. */
interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** One write of a batch threw: the batch was rolled back and runs again with each write isolated. */
class WriteFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('a write of the batch failed');
  }
}

/** What a commit needs around it. */
export interface CommitHooks {
  /** Throws when the store is closed. */
  assertOpen(): void;
  /** Called after each commit (the checkpointer counts them). */
  committed(): void;
  /** A promise while commits must wait (the checkpointer is starting the WAL over), else undefined. */
  heldBack(): Promise<void> | undefined;
  /** Resolves once everything committed so far is on disk. */
  durable(): Promise<void>;
}

/**
 * Returns `write`: runs `work` atomically in the next group commit. Nothing resolves before the commit is on
 * disk: no caller can answer for work a power loss could undo.
 *
 * `work` must only touch the database (no other side effects): a batch in which one write fails is rolled
 * back and run again with each write in its own SAVEPOINT, so that the failure rolls back alone.
 */
export function groupCommit(
  db: Database.Database,
  hooks: CommitHooks,
): <T>(work: () => T) => Promise<T> {
  // better-sqlite3 rolls a transaction back when its function throws; nested, it uses a SAVEPOINT.
  const allOrNothing = db.transaction((batch: readonly QueuedWrite[]): Outcome[] =>
    batch.map(item => {
      try {
        return { ok: true, value: item.work() };
      } catch (error) {
        throw new WriteFailed(error);
      }
    }),
  );
  const savepoint = db.transaction((work: () => unknown) => work());
  const isolated = db.transaction((batch: readonly QueuedWrite[]): Outcome[] =>
    batch.map(item => {
      try {
        return { ok: true, value: savepoint(item.work) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  let queue: QueuedWrite[] = [];

  /**
   * Commits a batch. Writes nearly always succeed, so the batch first runs without savepoints (each costs
   * a journal of the pages it touches); only if one throws does it run again, each write isolated.
   */
  function commitBatch(batch: readonly QueuedWrite[]): Outcome[] {
    try {
      return allOrNothing.immediate(batch);
    } catch (error) {
      if (!(error instanceof WriteFailed)) throw error;
      if (batch.length === 1) return [{ ok: false, error: error.cause }];
      return isolated.immediate(batch);
    }
  }

  function flush(): void {
    // The queue keeps filling meanwhile (a non-empty queue schedules no other flush): one commit after.
    const held = hooks.heldBack();
    if (held !== undefined) {
      void held.then(flush);
      return;
    }
    const batch = queue;
    queue = [];
    let outcomes: Outcome[];
    try {
      hooks.assertOpen();
      outcomes = commitBatch(batch);
    } catch (error) {
      // The commit itself failed (closed store, disk, another process holding the lock): none of it happened.
      for (const item of batch) item.reject(error);
      return;
    }
    hooks.committed();
    const settle = () =>
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    // Committed, but not yet known to be on disk: a failed fsync fails every write of the batch, so that
    // nothing is acknowledged (a retried IPN then finds the committed row and is answered 409).
    hooks.durable().then(settle, (error: unknown) => {
      for (const item of batch) item.reject(error);
    });
  }

  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (queue.length === 1) setImmediate(flush);
    });
}
