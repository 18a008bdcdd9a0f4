import { resolve } from 'node:path';

import type Database from 'better-sqlite3';

import { openSessionExists, sessionNotFound, StoreError, transactionIdConflict } from './errors.js';
import {
  eventFromRow,
  idempotencyStateFromRow,
  orderFromRow,
  outboxFromRow,
  sessionFromRow,
} from './rows.js';
import type { Row } from './rows.js';
import { checkpointer } from './checkpointer.js';
import { betterSqlite3, nativeModuleMissing } from './drivers.js';
import { walSync } from './wal-sync.js';
import {
  capUnverified,
  evidenceLimits,
  SQLITE_EVIDENCE_MIGRATION,
  SQLITE_INSERT_UNVERIFIED_SQL,
  SQLITE_TRIM_UNVERIFIED_SQL,
  type EvidenceStoreOptions,
} from './evidence.js';
import {
  PAID_OR_AUTHORIZED,
  SQLITE_OPERATION_CHECKS_MIGRATION,
  SQLITE_OPERATIONS_MIGRATION,
  sqliteOperations,
} from './ops-sqlite.js';
import {
  IDEMPOTENCY_LEASE_MS,
  type PaymentEvent,
  type Session,
  type Store,
  type Transition,
} from './store.js';
import {
  ALLOWED_FROM,
  LATE_SUCCESS_FROM,
  OPEN_STATUSES,
  outboxPayload,
  statusList,
  transitionChanges,
  eventAsRecorded,
} from './transitions.js';

/** How long a writer waits for another process's write transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Longest `last_error` kept per outbox item. */
const MAX_ERROR_LENGTH = 1000;

/** Versioned schema changes, applied in order; append new versions, never edit applied ones. */
const MIGRATIONS: readonly { version: number; statements: readonly string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE orders (
        order_ref TEXT PRIMARY KEY,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        description TEXT NOT NULL,
        net_amount INTEGER NOT NULL,
        fee_amount INTEGER NOT NULL,
        discount_amount INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        nonce TEXT NOT NULL,
        order_ref TEXT NOT NULL REFERENCES orders (order_ref),
        gateway_order_id TEXT NOT NULL UNIQUE,
        request_id TEXT NOT NULL,
        transaction_id TEXT,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        late_success INTEGER NOT NULL DEFAULT 0 CHECK (late_success IN (0, 1)),
        code TEXT,
        message TEXT,
        cancel_reason TEXT,
        locale TEXT NOT NULL,
        payment_method TEXT,
        source_type TEXT,
        return_url TEXT,
        checkout_url TEXT,
        merchant_origin TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        paid_at TEXT
      ) STRICT`,
      `CREATE UNIQUE INDEX sessions_transaction_id_key ON sessions (transaction_id)
        WHERE transaction_id IS NOT NULL`,
      'CREATE INDEX sessions_order_ref_status_idx ON sessions (order_ref, status)',
      'CREATE INDEX sessions_status_updated_at_idx ON sessions (status, updated_at)',
      // No foreign key on session_id: evidence is kept even when it names no known session.
      `CREATE TABLE payment_events (
        id INTEGER PRIMARY KEY,
        session_id TEXT,
        kind TEXT NOT NULL,
        transaction_id TEXT,
        raw TEXT NOT NULL,
        verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
        verdict TEXT NOT NULL,
        detail TEXT,
        received_at TEXT NOT NULL
      ) STRICT`,
      'CREATE INDEX payment_events_session_id_idx ON payment_events (session_id, id)',
      `CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        delivered_at TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (session_id, event)
      ) STRICT`,
      'CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL',
      `CREATE TABLE idempotency_keys (
        idempotency_key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        state TEXT NOT NULL,
        response_status INTEGER,
        response_body TEXT,
        created_at TEXT NOT NULL
      ) STRICT`,
      'CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)',
    ],
  },
  {
    // One open session per order, across every signer process: a second checkout for the same order
    // would be a second gateway transaction, and a second payment.
    version: 2,
    statements: [
      `CREATE UNIQUE INDEX sessions_one_open_per_order ON sessions (order_ref)
        WHERE status IN ('pending', 'pending_unknown')`,
    ],
  },
  SQLITE_OPERATIONS_MIGRATION,
  {
    // Issue 11: a session whose gateway query went unanswered is asked again with backoff (never settled
    // by the silence), and an open session is handed back only to the browser that opened it.
    version: 4,
    statements: [
      'ALTER TABLE sessions ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE sessions ADD COLUMN next_check_at TEXT',
      'ALTER TABLE sessions ADD COLUMN client_key_hash TEXT',
    ],
  },
  SQLITE_OPERATION_CHECKS_MIGRATION,
  SQLITE_EVIDENCE_MIGRATION,
];
/** One conditional UPDATE per target status: the WHERE clause is the state machine. */
const TRANSITION_SQL = Object.fromEntries(
  Object.entries(ALLOWED_FROM).map(([to, from]) => [
    to,
    `UPDATE sessions SET
      status = :status,
      late_success = CASE
        WHEN :flag_late_success = 1 AND status IN (${statusList(LATE_SUCCESS_FROM)}) THEN 1
        ELSE late_success END,
      transaction_id = COALESCE(transaction_id, :transaction_id),
      code = COALESCE(:code, code),
      message = COALESCE(:message, message),
      payment_method = COALESCE(:payment_method, payment_method),
      source_type = COALESCE(:source_type, source_type),
      cancel_reason = COALESCE(:cancel_reason, cancel_reason),
      paid_at = COALESCE(:paid_at, paid_at),
      updated_at = :at
    WHERE id = :id AND status IN (${statusList(from)})
    RETURNING *`,
  ]),
) as Record<Transition['to'], string>;

const INSERT_EVENT_SQL = `INSERT INTO payment_events
  (session_id, kind, transaction_id, raw, verified, verdict, detail, received_at)
  VALUES (:session_id, :kind, :transaction_id, :raw, :verified, :verdict, :detail, :received_at)`;

const FIND_OPEN_SESSION_SQL = `SELECT * FROM sessions
  WHERE order_ref = ? AND status IN (${statusList(OPEN_STATUSES)}) AND expires_at > ?
  ORDER BY created_at DESC LIMIT 1`;

const LIST_STALE_PENDING_SQL = `SELECT * FROM sessions
  WHERE status IN (${statusList(OPEN_STATUSES)}) AND updated_at < ?
    AND (next_check_at IS NULL OR next_check_at <= ?)
  ORDER BY updated_at, id LIMIT ?`;

type Listener = (sessionId: string) => void;

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

/**
 * The subscribers of each database file in this process, keyed by absolute path, so every store opened
 * on one file hears every other's changes. Delivering to other processes needs PostgreSQL's NOTIFY.
 */
const subscribers = new Map<string, Set<Listener>>();

function addSubscriber(path: string, listener: Listener): void {
  let listeners = subscribers.get(path);
  if (listeners === undefined) {
    listeners = new Set();
    subscribers.set(path, listeners);
  }
  listeners.add(listener);
}

function removeSubscriber(path: string, listener: Listener): void {
  const listeners = subscribers.get(path);
  listeners?.delete(listener);
  if (listeners?.size === 0) subscribers.delete(path);
}

/** Tells every subscriber of the file that a session changed. */
function notify(path: string, sessionId: string): void {
  // Listeners run after the publisher's turn, as they would on a NOTIFY, so none can fail it.
  for (const listener of subscribers.get(path) ?? []) queueMicrotask(() => listener(sessionId));
}

/** The absolute file path a `file:` URL names; the key that lets stores on one file share subscribers. */
function databasePath(url: string): string {
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
function openDatabase(path: string): Database.Database {
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
 * Prepares each SQL text once per connection and hands back the same statement afterwards, so a call
 * only binds and steps: preparing on every call is what leaked native memory under libsql.
 */
function statementCache(
  db: Database.Database,
): (sql: string) => Database.Statement<unknown[], Row> {
  const statements = new Map<string, Database.Statement<unknown[], Row>>();
  return sql => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], Row>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}

/** Runs `work`, turning a UNIQUE violation on `column` (e.g. `sessions.order_ref`) into `refusal`. */
function refusingDuplicate<T>(
  column: string,
  refusal: (cause: unknown) => StoreError,
  work: () => T,
): T {
  try {
    return work();
  } catch (error) {
    if (
      error instanceof betterSqlite3().SqliteError &&
      error.code.startsWith('SQLITE_CONSTRAINT') &&
      error.message.includes(column)
    ) {
      throw refusal(error);
    }
    throw error;
  }
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function eventArgs(event: PaymentEvent): Record<string, unknown> {
  return {
    session_id: event.sessionId,
    kind: event.kind,
    transaction_id: event.transactionId,
    raw: event.raw,
    verified: event.verified ? 1 : 0,
    verdict: event.verdict,
    detail: event.detail,
    received_at: event.receivedAt.toISOString(),
  };
}

/**
 * Opens the SQLite store on a `file:` URL (WAL journal synced off the event loop and checkpointed on a worker
 * thread once the store is busy, foreign keys on).
 *
 * better-sqlite3 runs each call synchronously, so a write transaction (`BEGIN IMMEDIATE`) runs from
 * start to commit within one turn of the event loop: writers in this process never interleave. Writes
 * queued in one turn are group-committed (see `write`). Writers in other processes wait for each other through the busy timeout, blocking their
 * event loop meanwhile. `publish`, and every transition that changed a session, reach subscribers in
 * this process only: several signer processes need PostgreSQL.
 */
export function createSqliteStore(url: string, options: EvidenceStoreOptions = {}): Store {
  const path = databasePath(url);
  const limits = evidenceLimits(options.unverifiedEvidence);
  const db = openDatabase(path);
  const prepared = statementCache(db);
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
  const wal = walSync(path);
  const checkpoints = checkpointer(db, path);
  const ownListeners = new Set<Listener>();
  let closed = false;

  /** Fails clearly on a closed store (better-sqlite3 alone would say "connection is not open"). */
  function assertOpen(): void {
    if (closed) throw new Error(`the SQLite store on ${path} is closed`);
  }

  /** The cached statement for `sql`, on an open store. */
  function statement(sql: string): Database.Statement<unknown[], Row> {
    assertOpen();
    return prepared(sql);
  }

  let queue: QueuedWrite[] = [];

  /**
   * Runs `work` atomically in the next group commit. Writes queued in the same turn of the event loop share
   * one `BEGIN IMMEDIATE … COMMIT`, and one WAL fsync serves a burst of IPNs. Nothing resolves before the
   * commit is on disk: no caller can answer for work a power loss could undo.
   *
   * `work` must only touch the database (no other side effects): a batch in which one write fails is rolled
   * back and run again with each write in its own SAVEPOINT, so that the failure rolls back alone.
   */
  function write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (queue.length === 1) setImmediate(flush);
    });
  }

  function flush(): void {
    const batch = queue;
    queue = [];
    let outcomes: Outcome[];
    try {
      assertOpen();
      outcomes = commitBatch(batch);
    } catch (error) {
      // The commit itself failed (closed store, disk, another process holding the lock): none of it happened.
      for (const item of batch) item.reject(error);
      return;
    }
    checkpoints.committed();
    const settle = () =>
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    // Committed, but not yet known to be on disk: a failed fsync fails every write of the batch, so that
    // nothing is acknowledged (a retried IPN then finds the committed row and is answered 409).
    wal.durable().then(settle, (error: unknown) => {
      for (const item of batch) item.reject(error);
    });
  }

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

  function selectOne<T>(sql: string, args: unknown[], map: (row: Row) => T): T | null {
    const row = statement(sql).get(...args);
    return row === undefined ? null : map(row);
  }

  function selectSession(id: string): Session | null {
    return selectOne('SELECT * FROM sessions WHERE id = ?', [id], sessionFromRow);
  }

  /** The session row as it is now, for a conditional update that matched nothing. */
  function currentSession(id: string): Session {
    const session = selectSession(id);
    if (session === null) throw sessionNotFound(id);
    return session;
  }

  return {
    ...sqliteOperations(write, statement),

    async migrate() {
      await write(() => {
        db.exec(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
          ) STRICT`,
        );
        const current = statement(
          'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
        ).get();
        const version = Number(current?.version ?? 0);
        for (const migration of MIGRATIONS) {
          if (migration.version <= version) continue;
          for (const sql of migration.statements) db.exec(sql);
          statement('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
            migration.version,
            new Date().toISOString(),
          );
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const listener of ownListeners) removeSubscriber(path, listener);
      ownListeners.clear();
      // Writes still waiting for their fsync were committed: let them be answered before the handle goes.
      await wal.durable().catch(() => undefined);
      await checkpoints.close();
      wal.close();
      db.close();
    },

    async putOrder(order) {
      return write(() => {
        statement(
          `INSERT INTO orders (order_ref, amount, currency, description, net_amount, fee_amount,
              discount_amount, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (order_ref) DO NOTHING`,
        ).run(
          order.orderRef,
          order.amount,
          order.currency,
          order.description,
          order.netAmount,
          order.feeAmount,
          order.discountAmount,
          order.createdAt.toISOString(),
        );
        const stored = statement('SELECT * FROM orders WHERE order_ref = ?').get(order.orderRef);
        return orderFromRow(stored as Row);
      });
    },

    async getOrder(orderRef) {
      return selectOne('SELECT * FROM orders WHERE order_ref = ?', [orderRef], orderFromRow);
    },

    async createSession(session) {
      return write(() => {
        const inserted = refusingDuplicate(
          'sessions.order_ref',
          cause => openSessionExists(session.orderRef, cause),
          () =>
            statement(
              `INSERT INTO sessions (id, nonce, order_ref, gateway_order_id, request_id, amount,
              currency, status, locale, payment_method, source_type, return_url, merchant_origin,
              created_at, updated_at, expires_at, plan, client_key_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING *`,
            ).get(
              session.id,
              session.nonce,
              session.orderRef,
              session.gatewayOrderId,
              session.requestId,
              session.amount,
              session.currency,
              session.locale,
              session.paymentMethod,
              session.sourceType,
              session.returnUrl,
              session.merchantOrigin,
              session.createdAt.toISOString(),
              session.createdAt.toISOString(),
              session.expiresAt.toISOString(),
              session.plan ? JSON.stringify(session.plan) : null,
              session.clientKeyHash ?? null,
            ),
        );
        return sessionFromRow(inserted as Row);
      });
    },

    async getSession(id) {
      return selectSession(id);
    },

    async getSessionByGatewayOrderId(gatewayOrderId) {
      return selectOne(
        'SELECT * FROM sessions WHERE gateway_order_id = ?',
        [gatewayOrderId],
        sessionFromRow,
      );
    },

    async findOpenSession(orderRef, now) {
      return selectOne(FIND_OPEN_SESSION_SQL, [orderRef, now.toISOString()], sessionFromRow);
    },

    async findEndedWithPage(orderRef, now) {
      return statement(
        `SELECT * FROM sessions
          WHERE order_ref = ? AND status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL
            AND checkout_url <> '' AND expires_at > ?
          ORDER BY created_at DESC LIMIT 5`,
      )
        .all(orderRef, now.toISOString())
        .map(sessionFromRow);
    },

    async listEndedToWatch(before, expiresAfter, now, limit) {
      return statement(
        `SELECT * FROM sessions
          WHERE status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL AND checkout_url <> ''
            AND (cancel_reason IS NULL OR cancel_reason IN ('user', 'closed'))
            AND expires_at > ? AND updated_at < ? AND (next_check_at IS NULL OR next_check_at <= ?)
          ORDER BY updated_at, id LIMIT ?`,
      )
        .all(expiresAfter.toISOString(), before.toISOString(), now.toISOString(), limit)
        .map(sessionFromRow);
    },

    async reopenSession(id, at) {
      const result = await write(() => {
        const row = refusingDuplicate(
          'sessions.order_ref',
          cause => openSessionExists(id, cause),
          () =>
            statement(
              `UPDATE sessions SET status = 'pending', cancel_reason = NULL, updated_at = ?
                WHERE id = ? AND status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL
                RETURNING *`,
            ).get(at.toISOString(), id),
        );
        return row === undefined
          ? { changed: false, session: currentSession(id) }
          : { changed: true, session: sessionFromRow(row) };
      });
      if (result.changed) await this.publish(id);
      return result;
    },

    async findPaidSession(orderRef) {
      return selectOne(
        `SELECT * FROM sessions WHERE order_ref = ? AND status IN (${PAID_OR_AUTHORIZED})
          ORDER BY paid_at LIMIT 1`,
        [orderRef],
        sessionFromRow,
      );
    },

    async listStalePending(before, limit, now) {
      // Without `now`, sessions waiting out a backoff are listed too (an operator's explicit reconcile).
      // Text comparison: the far future must still be a four-digit year.
      const due = now?.toISOString() ?? '9999-12-31T23:59:59.999Z';
      return statement(LIST_STALE_PENDING_SQL)
        .all(before.toISOString(), due, limit)
        .map(sessionFromRow);
    },

    async scheduleCheck(id, failures, nextCheckAt) {
      await write(() =>
        statement('UPDATE sessions SET check_failures = ?, next_check_at = ? WHERE id = ?').run(
          failures,
          nextCheckAt?.toISOString() ?? null,
          id,
        ),
      );
    },

    async attachCheckout(id, checkout, at) {
      return write(() => {
        const row = refusingDuplicate(
          'sessions.transaction_id',
          cause => transactionIdConflict(id, checkout.transactionId, cause),
          () =>
            statement(
              `UPDATE sessions SET
                transaction_id = COALESCE(transaction_id, ?),
                checkout_url = COALESCE(checkout_url, ?),
                status = CASE WHEN status = 'pending_unknown' THEN 'pending' ELSE status END,
                updated_at = ?
              WHERE id = ? RETURNING *`,
            ).get(checkout.transactionId, checkout.checkoutUrl, at.toISOString(), id),
        );
        if (row === undefined) throw sessionNotFound(id);
        return sessionFromRow(row);
      });
    },

    async markPendingUnknown(id, at) {
      return write(() => {
        const row = statement(
          `UPDATE sessions SET status = 'pending_unknown', updated_at = ?
            WHERE id = ? AND status = 'pending' RETURNING *`,
        ).get(at.toISOString(), id);
        return row === undefined ? currentSession(id) : sessionFromRow(row);
      });
    },

    async transition(id, transition, event) {
      const changes = transitionChanges(transition);
      const result = await write(() => {
        const row = refusingDuplicate(
          'sessions.transaction_id',
          cause => transactionIdConflict(id, changes.transactionId, cause),
          () =>
            statement(TRANSITION_SQL[transition.to]).get({
              id,
              status: changes.status,
              flag_late_success: changes.flagLateSuccess ? 1 : 0,
              transaction_id: changes.transactionId,
              code: changes.code,
              message: changes.message,
              payment_method: changes.paymentMethod,
              source_type: changes.sourceType,
              cancel_reason: changes.cancelReason,
              paid_at: isoOrNull(changes.paidAt),
              at: changes.at.toISOString(),
            }),
        );
        const changed = row !== undefined;
        const session = changed ? sessionFromRow(row) : currentSession(id);
        if (changed) {
          statement(
            `INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
              VALUES (?, ?, ?, ?, ?)
              ON CONFLICT (session_id, event) DO NOTHING`,
          ).run(
            id,
            transition.to,
            outboxPayload(session, transition),
            changes.at.toISOString(),
            changes.at.toISOString(),
          );
        }
        if (event !== undefined) {
          statement(INSERT_EVENT_SQL).run(eventArgs(eventAsRecorded(event, changed)));
        }
        return { changed, session };
      });
      // Only now is the change committed, so a subscriber that reads the session sees it.
      if (result.changed) notify(path, id);
      return result;
    },

    async recordEvent(event) {
      if (event.verified) {
        await write(() => statement(INSERT_EVENT_SQL).run(eventArgs(event)));
        return;
      }
      // Unverified: a prefix, in a window capped by rows and bytes; the oldest go in the same transaction.
      const { event: kept, bytes } = capUnverified(event);
      await write(() => {
        const inserted = statement(SQLITE_INSERT_UNVERIFIED_SQL).get({
          session_id: kept.sessionId,
          kind: kept.kind,
          transaction_id: kept.transactionId,
          raw: kept.raw,
          verdict: kept.verdict,
          detail: kept.detail,
          received_at: kept.receivedAt.toISOString(),
          bytes,
        });
        statement(SQLITE_TRIM_UNVERIFIED_SQL[0]).run({
          seq: inserted?.unverified_seq,
          max_rows: limits.maxRows,
        });
        statement(SQLITE_TRIM_UNVERIFIED_SQL[1]).run({
          next_offset: inserted?.next_offset,
          max_bytes: limits.maxBytes,
        });
      });
    },

    async listEvents(sessionId) {
      return statement('SELECT * FROM payment_events WHERE session_id = ? ORDER BY id')
        .all(sessionId)
        .map(eventFromRow);
    },

    async claimOutbox(now, leaseUntil, limit) {
      const rows = await write(() =>
        statement(
          `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
            WHERE id IN (
              SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?
              ORDER BY id LIMIT ?)
            RETURNING *`,
        ).all(leaseUntil.toISOString(), now.toISOString(), limit),
      );
      // RETURNING yields rows in no promised order.
      return rows.map(outboxFromRow).sort((a, b) => a.id - b.id);
    },

    async markOutboxDelivered(id, at) {
      await write(() =>
        statement('UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL').run(
          at.toISOString(),
          id,
        ),
      );
    },

    async markOutboxFailed(id, error, retryAt) {
      await write(() =>
        statement(
          `UPDATE outbox SET last_error = ?, next_attempt_at = ?
            WHERE id = ? AND delivered_at IS NULL`,
        ).run(error.slice(0, MAX_ERROR_LENGTH), retryAt.toISOString(), id),
      );
    },

    async listOutbox(sessionId) {
      return statement('SELECT * FROM outbox WHERE session_id = ? ORDER BY id')
        .all(sessionId)
        .map(outboxFromRow);
    },

    async beginIdempotent(key, requestHash, now, expiresBefore) {
      return write(() => {
        statement(
          `DELETE FROM idempotency_keys
            WHERE created_at < ? OR (state = 'in_flight' AND created_at < ?)`,
        ).run(
          expiresBefore.toISOString(),
          new Date(now.getTime() - IDEMPOTENCY_LEASE_MS).toISOString(),
        );
        const inserted = statement(
          `INSERT INTO idempotency_keys (idempotency_key, request_hash, state, created_at)
            VALUES (?, ?, 'in_flight', ?)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING idempotency_key`,
        ).get(key, requestHash, now.toISOString());
        if (inserted !== undefined) return { state: 'started' } as const;
        const existing = statement('SELECT * FROM idempotency_keys WHERE idempotency_key = ?').get(
          key,
        );
        return idempotencyStateFromRow(existing as Row, requestHash);
      });
    },

    async finishIdempotent(key, status, body) {
      await write(() =>
        statement(
          `UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
            WHERE idempotency_key = ?`,
        ).run(status, body, key),
      );
    },

    async abandonIdempotent(key) {
      await write(() =>
        statement('DELETE FROM idempotency_keys WHERE idempotency_key = ?').run(key),
      );
    },

    async publish(sessionId) {
      assertOpen();
      notify(path, sessionId);
    },

    async subscribe(listener) {
      assertOpen();
      // A wrapper of our own, so the same function subscribed twice is two subscriptions.
      const own: Listener = sessionId => listener(sessionId);
      addSubscriber(path, own);
      ownListeners.add(own);
      return async () => {
        removeSubscriber(path, own);
        ownListeners.delete(own);
      };
    },
  };
}
