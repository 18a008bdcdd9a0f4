/**
 * The SQLite connection: where the file is, the settings every store relies on, the dialect of the shared
 * statements, and how a statement runs (prepared once per connection, then only bound and stepped).
 */

import { resolve } from 'node:path';

import type Database from 'better-sqlite3';

import { betterSqlite3, nativeModuleMissing } from '../drivers.js';
import { StoreError } from '../errors.js';
import type { Row } from '../rows.js';
import {
  bind,
  render,
  UNIQUE_INDEXES,
  type Dialect,
  type Statement,
  type UniqueIndex,
} from '../sql/dialect.js';
import type { Step } from '../sql/work.js';

/** How long a writer waits for another process's write transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export const SQLITE: Dialect = {
  numbered: false,
  text: 'TEXT',
  integer: 'INTEGER',
  bigint: 'INTEGER',
  timestamp: 'TEXT',
  // CURRENT_TIMESTAMP is not ISO 8601: the store writes its times itself.
  defaultNow: '',
  // The rowid itself: numbered by SQLite, 64-bit.
  identity: 'INTEGER PRIMARY KEY',
  tableSuffix: ' STRICT',
  false: '0',
  flag: (column, defaultFalse = false) =>
    `${column} INTEGER NOT NULL${defaultFalse ? ' DEFAULT 0' : ''} CHECK (${column} IN (0, 1))`,
  octets: expression => `length(CAST(${expression} AS BLOB))`,
  // A write transaction (BEGIN IMMEDIATE) already excludes every other writer.
  forUpdate: '',
  skipLocked: '',
};

/** Dates as ISO 8601 text (which sorts as time does), booleans as 0 and 1. */
function encode(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** The absolute file path a `file:` URL names; the key that lets stores on one file share subscribers. */
export function databasePath(url: string): string {
  if (!url.startsWith('file:')) {
    throw new StoreError('invalid_config', `a SQLite database URL starts with file:, got ${url}`);
  }
  let path = url.slice('file:'.length).split('?')[0] ?? '';
  if (path.startsWith('//')) path = path.slice(path.indexOf('/', 2));
  path = decodeURIComponent(path);
  if (path === '' || path === ':memory:') {
    throw new StoreError(
      'invalid_config',
      'the SQLite store needs a file: an in-memory database loses everything on restart',
    );
  }
  return resolve(path);
}

/** Opens one connection with the settings every store relies on. */
export function openDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new (betterSqlite3())(path);
  } catch (error) {
    throw nativeModuleMissing(error) ?? error;
  }
  try {
    // First, so that even switching the journal mode waits for another process instead of failing.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL lets readers run beside the writer; the mode is stored in the file.
    db.pragma('journal_mode = WAL');
    // NORMAL: COMMIT writes the WAL without syncing it on the main thread; `walSync` then fsyncs the WAL
    // off the event loop before any caller is answered, which is as durable as FULL (see wal-sync.ts).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Statement and savepoint journals in memory: they only ever hold one batch's undo pages.
    db.pragma('temp_store = MEMORY');
    // SQLite's own default page cache (2 MB); better-sqlite3 raises it to 16 MB, which bought no throughput
    // in the bench (the OS caches the file) and was a tenth of the signer's memory.
    db.pragma('cache_size = -2000');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Runs the steps of shared work on one connection. Each statement is prepared once and the same one is
 * handed back afterwards, so a call only binds and steps: preparing on every call is what leaked native
 * memory under libsql. `assertOpen` runs before every step.
 */
export function executor(db: Database.Database, assertOpen: () => void): (step: Step) => unknown {
  const statements = new Map<Statement, Database.Statement<unknown[], Row>>();
  return step => {
    assertOpen();
    if (step.kind === 'exec') return void db.exec(step.text);
    const rendered = render(step.statement, SQLITE);
    let statement = statements.get(step.statement);
    if (statement === undefined) {
      statement = db.prepare<unknown[], Row>(rendered.text);
      statements.set(step.statement, statement);
    }
    const values = bind(step.statement, rendered, step.params, encode);
    if (step.kind === 'one') return statement.get(...values);
    if (step.kind === 'all') return statement.all(...values);
    return statement.run(...values).changes;
  };
}

/** A UNIQUE violation of the index (SQLite names its columns, e.g. `sessions.order_ref`). */
export function violates(error: unknown, index: UniqueIndex): boolean {
  return (
    error instanceof betterSqlite3().SqliteError &&
    error.code.startsWith('SQLITE_CONSTRAINT') &&
    error.message.includes(UNIQUE_INDEXES[index].columns)
  );
}
