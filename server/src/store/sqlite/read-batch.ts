/**
 * SQLite reads queued in one turn of the event loop share one read transaction.
 *
 * Outside a transaction every statement opens and closes a read transaction of its own: it takes a read
 * mark on the WAL index and checks the WAL's header, then lets both go. Under an IPN burst, where each IPN
 * first looks its session up, that was nearly half of a lookup's cost: 14.1 µs per session lookup alone,
 * 8.1 µs eight to a transaction (a 20,000-session store, in one process). A read queued here waits for the
 * next check phase (as a write waits for its group commit) and sees everything committed before it runs.
 */

import type Database from 'better-sqlite3';

interface QueuedRead {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Returns `read`: runs `work` in the next shared read transaction; `work` must only read. */
export function readBatch(
  db: Database.Database,
  assertOpen: () => void,
): <T>(work: () => T) => Promise<T> {
  // A DEFERRED transaction: it takes no write lock, so it never waits for a writer or holds one up.
  const together = db.transaction((batch: readonly QueuedRead[]) => {
    for (const item of batch) {
      try {
        item.resolve(item.work());
      } catch (error) {
        // One failed read is its caller's answer; the others stand.
        item.reject(error);
      }
    }
  });
  let queue: QueuedRead[] = [];

  function flush(): void {
    const batch = queue;
    queue = [];
    try {
      assertOpen();
      if (batch.length === 1) {
        // Alone, its own statement's read transaction is as cheap as BEGIN and COMMIT around it.
        const [item] = batch as [QueuedRead];
        item.resolve(item.work());
        return;
      }
      together(batch);
    } catch (error) {
      // The store is closed, or BEGIN or COMMIT failed: whatever was not answered fails with it.
      for (const item of batch) item.reject(error);
    }
  }

  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (queue.length === 1) setImmediate(flush);
    });
}
