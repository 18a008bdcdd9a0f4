import { resolve } from 'node:path';

import { createClient, LibsqlError } from '@libsql/client';
import type {
  Client,
  InArgs,
  InStatement,
  ResultSet,
  Transaction as LibsqlTransaction,
} from '@libsql/client';

import { sessionNotFound, StoreError, transactionIdConflict } from './errors.js';
import {
  eventFromRow,
  idempotencyStateFromRow,
  orderFromRow,
  outboxFromRow,
  sessionFromRow,
} from './rows.js';
import type { Row } from './rows.js';
import type { PaymentEvent, Session, Store, Transition } from './store.js';
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

/**
 * What every store opened on one file in this process shares. libsql runs SQLite synchronously, so a
 * writer waiting on another connection's lock would block the event loop until its busy timeout and
 * then fail: writers on the same file must queue here instead. The listener set gives `publish` its
 * in-process fan-out; delivering to other processes needs PostgreSQL's NOTIFY.
 */
interface LocalDatabase {
  tail: Promise<void>;
  listeners: Set<(sessionId: string) => void>;
  users: number;
}

const localDatabases = new Map<string, LocalDatabase>();

function acquireLocal(path: string): LocalDatabase {
  let local = localDatabases.get(path);
  if (local === undefined) {
    local = { tail: Promise.resolve(), listeners: new Set(), users: 0 };
    localDatabases.set(path, local);
  }
  local.users += 1;
  return local;
}

function releaseLocal(path: string, local: LocalDatabase): void {
  local.users -= 1;
  if (local.users === 0 && localDatabases.get(path) === local) localDatabases.delete(path);
}

/** Runs `work` after every write queued before it on the same file, success or not. */
function enqueue<T>(local: LocalDatabase, work: () => Promise<T>): Promise<T> {
  const result = local.tail.then(work);
  local.tail = result.then(
    () => undefined,
    () => undefined,
  );
  return result;
}

/** The absolute file path a `file:` URL names; the key that lets stores on one file share a queue. */
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

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function isTransactionIdConflict(error: unknown): boolean {
  return (
    error instanceof LibsqlError &&
    error.code === 'SQLITE_CONSTRAINT' &&
    error.message.includes('sessions.transaction_id')
  );
}

function eventArgs(event: PaymentEvent): InArgs {
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
 * Opens the SQLite store on a `file:` URL (WAL journal, busy timeout). Writes in this process are
 * queued per file and each runs in a `BEGIN IMMEDIATE` transaction, so concurrent transitions wait
 * for each other instead of failing with SQLITE_BUSY; other processes wait through the busy timeout.
 * `publish` reaches subscribers in this process only: several signer processes need PostgreSQL.
 */
export function createSqliteStore(url: string): Store {
  const path = databasePath(url);
  const client: Client = createClient({ url, timeout: BUSY_TIMEOUT_MS });
  const local = acquireLocal(path);
  const ownListeners = new Set<(sessionId: string) => void>();
  let closed = false;

  function write<T>(work: (tx: LibsqlTransaction) => Promise<T>): Promise<T> {
    return enqueue(local, async () => {
      const tx = await client.transaction('write');
      try {
        const result = await work(tx);
        await tx.commit();
        return result;
      } finally {
        tx.close();
      }
    });
  }

  async function selectSession(
    executor: { execute(statement: InStatement): Promise<ResultSet> },
    id: string,
  ): Promise<Session | null> {
    const result = await executor.execute({
      sql: 'SELECT * FROM sessions WHERE id = ?',
      args: [id],
    });
    const row = result.rows[0];
    return row === undefined ? null : sessionFromRow(row);
  }

  async function selectOne<T>(sql: string, args: InArgs, map: (row: Row) => T): Promise<T | null> {
    const row = (await client.execute({ sql, args })).rows[0];
    return row === undefined ? null : map(row);
  }

  return {
    async migrate() {
      await enqueue(local, async () => {
        // WAL lets readers run beside the writer; the mode is stored in the file, so once is enough.
        await client.execute('PRAGMA journal_mode = WAL');
        const tx = await client.transaction('write');
        try {
          await tx.execute(
            `CREATE TABLE IF NOT EXISTS schema_migrations (
              version INTEGER PRIMARY KEY,
              applied_at TEXT NOT NULL
            ) STRICT`,
          );
          const current = await tx.execute(
            'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
          );
          const version = Number(current.rows[0]?.version ?? 0);
          for (const migration of MIGRATIONS) {
            if (migration.version <= version) continue;
            for (const statement of migration.statements) await tx.execute(statement);
            await tx.execute({
              sql: 'INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)',
              args: [migration.version, new Date().toISOString()],
            });
          }
          await tx.commit();
        } finally {
          tx.close();
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const listener of ownListeners) local.listeners.delete(listener);
      ownListeners.clear();
      await enqueue(local, async () => undefined);
      client.close();
      releaseLocal(path, local);
    },

    async putOrder(order) {
      return write(async tx => {
        await tx.execute({
          sql: `INSERT INTO orders (order_ref, amount, currency, description, net_amount, fee_amount,
              discount_amount, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (order_ref) DO NOTHING`,
          args: [
            order.orderRef,
            order.amount,
            order.currency,
            order.description,
            order.netAmount,
            order.feeAmount,
            order.discountAmount,
            order.createdAt.toISOString(),
          ],
        });
        const stored = await tx.execute({
          sql: 'SELECT * FROM orders WHERE order_ref = ?',
          args: [order.orderRef],
        });
        return orderFromRow(stored.rows[0] as Row);
      });
    },

    getOrder(orderRef) {
      return selectOne('SELECT * FROM orders WHERE order_ref = ?', [orderRef], orderFromRow);
    },

    async createSession(session) {
      return write(async tx => {
        const inserted = await tx.execute({
          sql: `INSERT INTO sessions (id, nonce, order_ref, gateway_order_id, request_id, amount,
              currency, status, locale, payment_method, source_type, return_url, merchant_origin,
              created_at, updated_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING *`,
          args: [
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
          ],
        });
        return sessionFromRow(inserted.rows[0] as Row);
      });
    },

    getSession(id) {
      return selectSession(client, id);
    },

    getSessionByGatewayOrderId(gatewayOrderId) {
      return selectOne(
        'SELECT * FROM sessions WHERE gateway_order_id = ?',
        [gatewayOrderId],
        sessionFromRow,
      );
    },

    findOpenSession(orderRef, now) {
      return selectOne(
        `SELECT * FROM sessions
          WHERE order_ref = ? AND status IN (${statusList(OPEN_STATUSES)}) AND expires_at > ?
          ORDER BY created_at DESC LIMIT 1`,
        [orderRef, now.toISOString()],
        sessionFromRow,
      );
    },

    findPaidSession(orderRef) {
      return selectOne(
        `SELECT * FROM sessions WHERE order_ref = ? AND status = 'paid'
          ORDER BY paid_at LIMIT 1`,
        [orderRef],
        sessionFromRow,
      );
    },

    async listStalePending(before, limit) {
      const result = await client.execute({
        sql: `SELECT * FROM sessions
          WHERE status IN (${statusList(OPEN_STATUSES)}) AND updated_at < ?
          ORDER BY updated_at, id LIMIT ?`,
        args: [before.toISOString(), limit],
      });
      return result.rows.map(sessionFromRow);
    },

    async attachCheckout(id, checkout, at) {
      return write(async tx => {
        let result;
        try {
          result = await tx.execute({
            sql: `UPDATE sessions SET
                transaction_id = COALESCE(transaction_id, ?),
                checkout_url = COALESCE(checkout_url, ?),
                status = CASE WHEN status = 'pending_unknown' THEN 'pending' ELSE status END,
                updated_at = ?
              WHERE id = ? RETURNING *`,
            args: [checkout.transactionId, checkout.checkoutUrl, at.toISOString(), id],
          });
        } catch (error) {
          if (isTransactionIdConflict(error)) {
            throw transactionIdConflict(id, checkout.transactionId, error);
          }
          throw error;
        }
        const row = result.rows[0];
        if (row === undefined) throw sessionNotFound(id);
        return sessionFromRow(row);
      });
    },

    async markPendingUnknown(id, at) {
      return write(async tx => {
        const result = await tx.execute({
          sql: `UPDATE sessions SET status = 'pending_unknown', updated_at = ?
            WHERE id = ? AND status = 'pending' RETURNING *`,
          args: [at.toISOString(), id],
        });
        const row = result.rows[0];
        if (row !== undefined) return sessionFromRow(row);
        const current = await selectSession(tx, id);
        if (current === null) throw sessionNotFound(id);
        return current;
      });
    },

    async transition(id, transition, event) {
      const changes = transitionChanges(transition);
      return write(async tx => {
        let updated;
        try {
          updated = await tx.execute({
            sql: TRANSITION_SQL[transition.to],
            args: {
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
            },
          });
        } catch (error) {
          if (isTransactionIdConflict(error)) {
            throw transactionIdConflict(id, changes.transactionId, error);
          }
          throw error;
        }
        const row = updated.rows[0];
        let session: Session;
        if (row !== undefined) {
          session = sessionFromRow(row);
          await tx.execute({
            sql: `INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
              VALUES (?, ?, ?, ?, ?)
              ON CONFLICT (session_id, event) DO NOTHING`,
            args: [
              id,
              transition.to,
              outboxPayload(session, transition),
              changes.at.toISOString(),
              changes.at.toISOString(),
            ],
          });
        } else {
          const current = await selectSession(tx, id);
          if (current === null) throw sessionNotFound(id);
          session = current;
        }
        if (event !== undefined) {
          const recorded = eventAsRecorded(event, row !== undefined);
          await tx.execute({ sql: INSERT_EVENT_SQL, args: eventArgs(recorded) });
        }
        return { changed: row !== undefined, session };
      });
    },

    async recordEvent(event) {
      await write(tx => tx.execute({ sql: INSERT_EVENT_SQL, args: eventArgs(event) }));
    },

    async listEvents(sessionId) {
      const result = await client.execute({
        sql: 'SELECT * FROM payment_events WHERE session_id = ? ORDER BY id',
        args: [sessionId],
      });
      return result.rows.map(eventFromRow);
    },

    async claimOutbox(now, leaseUntil, limit) {
      const result = await write(tx =>
        tx.execute({
          sql: `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
            WHERE id IN (
              SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?
              ORDER BY id LIMIT ?)
            RETURNING *`,
          args: [leaseUntil.toISOString(), now.toISOString(), limit],
        }),
      );
      return result.rows.map(outboxFromRow).sort((a, b) => a.id - b.id);
    },

    async markOutboxDelivered(id, at) {
      await write(tx =>
        tx.execute({
          sql: 'UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL',
          args: [at.toISOString(), id],
        }),
      );
    },

    async markOutboxFailed(id, error, retryAt) {
      await write(tx =>
        tx.execute({
          sql: `UPDATE outbox SET last_error = ?, next_attempt_at = ?
            WHERE id = ? AND delivered_at IS NULL`,
          args: [error.slice(0, MAX_ERROR_LENGTH), retryAt.toISOString(), id],
        }),
      );
    },

    async listOutbox(sessionId) {
      const result = await client.execute({
        sql: 'SELECT * FROM outbox WHERE session_id = ? ORDER BY id',
        args: [sessionId],
      });
      return result.rows.map(outboxFromRow);
    },

    async beginIdempotent(key, requestHash, now, expiresBefore) {
      return write(async tx => {
        await tx.execute({
          sql: 'DELETE FROM idempotency_keys WHERE created_at < ?',
          args: [expiresBefore.toISOString()],
        });
        const inserted = await tx.execute({
          sql: `INSERT INTO idempotency_keys (idempotency_key, request_hash, state, created_at)
            VALUES (?, ?, 'in_flight', ?)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING idempotency_key`,
          args: [key, requestHash, now.toISOString()],
        });
        if (inserted.rows.length === 1) return { state: 'started' };
        const existing = await tx.execute({
          sql: 'SELECT * FROM idempotency_keys WHERE idempotency_key = ?',
          args: [key],
        });
        return idempotencyStateFromRow(existing.rows[0] as Row, requestHash);
      });
    },

    async finishIdempotent(key, status, body) {
      await write(tx =>
        tx.execute({
          sql: `UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
            WHERE idempotency_key = ?`,
          args: [status, body, key],
        }),
      );
    },

    async abandonIdempotent(key) {
      await write(tx =>
        tx.execute({ sql: 'DELETE FROM idempotency_keys WHERE idempotency_key = ?', args: [key] }),
      );
    },

    async publish(sessionId) {
      // Listeners run after the publisher's turn, as they would on a NOTIFY, so none can fail it.
      for (const listener of local.listeners) queueMicrotask(() => listener(sessionId));
    },

    async subscribe(listener) {
      const own = (sessionId: string) => listener(sessionId);
      local.listeners.add(own);
      ownListeners.add(own);
      return async () => {
        local.listeners.delete(own);
        ownListeners.delete(own);
      };
    },
  };
}
