/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * With `synchronous = FULL`, SQLite fsyncs the WAL inside COMMIT, and better-sqlite3 runs COMMIT on the
 * main thread: every IPN in the process waited for the disk. With `synchronous = NORMAL`, COMMIT only
 * writes the WAL frames; this module then fsyncs the WAL file on libuv's thread pool, and callers are
 * answered only after that fsync returns. A transaction is durable once its frames are synced in the WAL
 * (exactly what FULL does), and a checkpoint, which could move the frames into the database file, syncs
 * the WAL first in NORMAL mode too. Power loss therefore loses nothing that was acknowledged.
 *
 * Syncs are coalesced: at most one fsync runs at a time, and every commit that lands while it runs shares
 * the next one. A waiter is only ever released by an fsync that began after its commit.
 */

import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export interface WalSync {
  /** Resolves once everything committed before the call is on disk. */
  durable(): Promise<void>;
  /** Closes the WAL file handle (after the last commit; the connection may delete the file on close). */
  close(): void;
}

/** `fs.fsync`'s shape: tests pass their own to watch the order of syncs. */
export type Fsync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

export function walSync(databasePath: string, syncFile: Fsync = fsync): WalSync {
  const walPath = `${databasePath}-wal`;
  let fd: number | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  function handle(): number {
    if (fd === null) {
      fd = openSync(walPath, 'r');
      // The WAL file may be new: make its directory entry durable too (once per process).
      const dir = openSync(dirname(walPath), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return fd;
  }

  function syncNow(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      let target: number;
      try {
        target = handle();
      } catch (error) {
        reject(error);
        return;
      }
      syncFile(target, error => (error ? reject(error) : resolve()));
    });
    running = started;
    const clear = () => {
      if (running === started) running = null;
    };
    started.then(clear, clear);
    return started;
  }

  return {
    durable() {
      if (running === null) return syncNow();
      // An fsync is under way, but it may have begun before this commit: wait for the next one.
      queued ??= running
        .catch(() => undefined)
        .then(() => {
          queued = null;
          return syncNow();
        });
      return queued;
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
