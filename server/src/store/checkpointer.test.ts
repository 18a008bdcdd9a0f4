import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { eventually } from '../testing/test-support.js';
import { checkpointer } from './sqlite/checkpointer.js';

const PAGE = 4096;

/**
 * No test here waits a fixed time: each waits on a signal (a worker thread created, the WAL restarted, a
 * page copied), with a deadline far beyond what a loaded machine needs, so a slow worker only makes it slower.
 */
const DEADLINE_MS = 60_000;

/** Workers this process has created so far (Node emits `worker` on the next tick after `new Worker`). */
let workersCreated = 0;
process.on('worker', () => workersCreated++);

/** The writer's own checkpoint threshold, in WAL pages (0: never). */
function autocheckpoint(db: Database.Database): number {
  return db.pragma('wal_autocheckpoint', { simple: true }) as number;
}

describe('checkpointer: WAL checkpoints on a worker thread once a store commits often', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gp-ckpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;

  /** A database set up as the SQLite store sets it up, with a table of page-sized rows. */
  function open() {
    const path = join(dir, `db-${files++}.sqlite`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, blob BLOB NOT NULL)');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const insert = db.prepare('INSERT INTO rows (blob) VALUES (?)');
    const sizeOf = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    return {
      db,
      path,
      /** One committed transaction of about one page. */
      commit: () => insert.run(randomBytes(PAGE - 200)),
      dbPages: () => Math.floor(sizeOf(path) / PAGE),
      walPages: () => Math.floor(sizeOf(`${path}-wal`) / (PAGE + 24)),
      /**
       * The WAL header's checkpoint sequence number: SQLite adds one each time a writer starts the WAL over
       * from its first frame, so it counts the WAL's restarts.
       */
      walRestarts: () => {
        const header = Buffer.alloc(16);
        const fd = openSync(`${path}-wal`, 'r');
        try {
          return readSync(fd, header, 0, 16, 0) === 16 ? header.readUInt32BE(12) : 0;
        } finally {
          closeSync(fd);
        }
      },
    };
  }

  it('leaves checkpoints to SQLite while a store commits rarely', async () => {
    const file = open();
    const checkpoints = checkpointer(file.db, file.path, { afterCommits: 50, delayMs: 1 });
    const before = file.dbPages();
    const workersBefore = workersCreated;
    for (let i = 0; i < 49; i++) {
      file.commit();
      checkpoints.committed();
    }
    // A worker is created synchronously in `committed()` and announced on the next tick: one turn of the
    // event loop is enough to see it, however slow the machine.
    await turn();

    assert.equal(workersCreated, workersBefore, 'no worker below the threshold');
    assert.equal(autocheckpoint(file.db), 1000);
    assert.equal(file.dbPages(), before, 'nothing copied: 49 pages are far below 1,000');
    file.commit();
    checkpoints.committed();
    await turn();
    assert.equal(workersCreated, workersBefore + 1, 'the 50th commit starts the worker');
    await checkpoints.close();
    file.db.close();
  });

  it('past the threshold, copies committed pages into the database file from the worker', async () => {
    const file = open();
    const checkpoints = checkpointer(file.db, file.path, {
      afterCommits: 10,
      delayMs: 1,
      restartPages: 5000,
    });
    const before = file.dbPages();
    for (let i = 0; i < 10; i++) {
      file.commit();
      checkpoints.committed();
    }
    // The worker took over: the writer's own checkpoints are off.
    await eventually(() => autocheckpoint(file.db) === 0, DEADLINE_MS);
    for (let i = 0; i < 40; i++) {
      file.commit();
      checkpoints.committed();
    }

    // 50 pages, far below SQLite's 1,000: only the worker can have copied them.
    await eventually(() => file.dbPages() >= before + 50, DEADLINE_MS);
    const reader = new Database(file.path, { readonly: true });
    assert.deepEqual(reader.prepare('SELECT COUNT(*) AS n FROM rows').get(), { n: 50 });
    reader.close();
    await checkpoints.close();
    await checkpoints.close();
    file.db.close();
  });

  it('starts the WAL over once it reaches its restart length, under writes that pause only when held back', async t => {
    const restartPages = 200;
    const file = open();
    const checkpoints = checkpointer(file.db, file.path, {
      afterCommits: 1,
      delayMs: 1,
      restartPages,
    });
    file.commit();
    checkpoints.committed();
    await eventually(() => autocheckpoint(file.db) === 0, DEADLINE_MS);
    const restartsBefore = file.walRestarts();
    // Bursts of 10 commits with only an event-loop turn between them (for the worker's messages), like a
    // busy signer's group commits, waiting only when the checkpointer holds writes back (as the group
    // commit does): a PASSIVE pass never copies the frames committed while it runs, so the WAL is started
    // over only thanks to the RESTART. The signal is the WAL header's restart count. The bound is no
    // deadline but a size only a WAL that is never started over reaches: 100 times the restart length
    // (without the RESTART: in 0.3 s; with it, 12 times at most with 8 busy loops on 2 cores). Before the
    // writer was held back, a fast machine's bursts held the write lock at nearly every poll of the
    // RESTART's busy handler, and the WAL reached 20,000 pages.
    let commits = 1;
    let largest = 0;
    let heldBack = 0;
    while (file.walRestarts() < restartsBefore + 3) {
      const held = checkpoints.heldBack();
      if (held !== undefined) {
        heldBack++;
        await held;
      }
      for (let i = 0; i < 10; i++) {
        file.commit();
        checkpoints.committed();
      }
      commits += 10;
      largest = Math.max(largest, file.walPages());
      assert.ok(
        largest <= 100 * restartPages,
        `the WAL reached ${largest} pages, never started over`,
      );
      await turn();
    }

    t.diagnostic(
      `3 restarts in ${commits} commits, held back ${heldBack} times; the WAL reached ${largest} pages at most`,
    );
    assert.deepEqual(file.db.prepare('SELECT COUNT(*) AS n FROM rows').get(), { n: commits });
    await checkpoints.close();
    file.db.close();
  });

  it('falls back to the writer checkpointing when the worker dies', async () => {
    const file = open();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    // A heap far below what Node needs to start a worker: it dies at once.
    const checkpoints = checkpointer(file.db, file.path, { afterCommits: 1, heapMb: 1 });
    try {
      file.commit();
      checkpoints.committed();
      await eventually(
        () => warnings.some(w => w.includes('SQLite checkpoint worker stopped')),
        DEADLINE_MS,
      );

      assert.equal(autocheckpoint(file.db), 1000);
      for (let i = 0; i < 20; i++) {
        file.commit();
        checkpoints.committed();
      }
      assert.deepEqual(file.db.prepare('SELECT COUNT(*) AS n FROM rows').get(), { n: 21 });
    } finally {
      process.off('warning', onWarning);
      await checkpoints.close();
      file.db.close();
    }
  });
});
