import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { eventually } from '../test-support.js';
import { checkpointer } from './checkpointer.js';

const PAGE = 4096;

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
    };
  }

  it('leaves checkpoints to SQLite while a store commits rarely', async () => {
    const file = open();
    const checkpoints = checkpointer(file.db, file.path, { afterCommits: 50, delayMs: 1 });
    const before = file.dbPages();
    for (let i = 0; i < 49; i++) {
      file.commit();
      checkpoints.committed();
    }
    await sleep(50);

    assert.equal(autocheckpoint(file.db), 1000);
    assert.equal(file.dbPages(), before, 'nothing copied: 49 pages are far below 1,000');
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
    await eventually(() => autocheckpoint(file.db) === 0);
    for (let i = 0; i < 40; i++) {
      file.commit();
      checkpoints.committed();
    }

    // 50 pages, far below SQLite's 1,000: only the worker can have copied them.
    await eventually(() => file.dbPages() >= before + 50);
    const reader = new Database(file.path, { readonly: true });
    assert.deepEqual(reader.prepare('SELECT COUNT(*) AS n FROM rows').get(), { n: 50 });
    reader.close();
    await checkpoints.close();
    await checkpoints.close();
    file.db.close();
  });

  it('keeps the WAL near its restart length under writes that never pause', async () => {
    const file = open();
    const checkpoints = checkpointer(file.db, file.path, {
      afterCommits: 1,
      delayMs: 1,
      restartPages: 200,
    });
    file.commit();
    checkpoints.committed();
    await eventually(() => autocheckpoint(file.db) === 0);
    let largest = 0;
    // 3,000 commits in bursts of 10 a millisecond apart, like a busy signer's group commits: without its
    // RESTART the WAL is reused only when a pass happens to finish between two commits.
    for (let burst = 0; burst < 300; burst++) {
      for (let i = 0; i < 10; i++) {
        file.commit();
        checkpoints.committed();
      }
      largest = Math.max(largest, file.walPages());
      await sleep(1);
    }

    assert.ok(largest <= 600, `the WAL reached ${largest} pages`);
    assert.deepEqual(file.db.prepare('SELECT COUNT(*) AS n FROM rows').get(), { n: 3001 });
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
      await eventually(() => warnings.some(w => w.includes('SQLite checkpoint worker stopped')));

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
