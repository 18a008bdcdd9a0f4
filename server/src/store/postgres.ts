import type Pg from 'pg';
import { pgDriver } from './drivers.js';

import { openSessionExists, sessionNotFound, StoreError, transactionIdConflict } from './errors.js';
import {
  POSTGRES_OPERATION_CHECKS_MIGRATION,
  POSTGRES_OPERATIONS_MIGRATION,
  postgresOperations,
} from './ops-postgres.js';
import { PAID_OR_AUTHORIZED } from './ops-sqlite.js';
import { listenToChannel } from './pg-listen.js';
import {
  capUnverified,
  evidenceLimits,
  POSTGRES_EVIDENCE_MIGRATION,
  POSTGRES_RECORD_UNVERIFIED_SQL,
  POSTGRES_SWEEP_EVERY,
  type EvidenceStoreOptions,
} from './evidence.js';
import {
  eventFromRow,
  idempotencyStateFromRow,
  orderFromRow,
  outboxFromRow,
  sessionFromRow,
} from './rows.js';
import type { Row } from './rows.js';
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

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends EvidenceStoreOptions {
  /**
   * Keep every table in this schema (created by `migrate()`), e.g. a fresh one per test run.
   * Lower-case letters, digits and underscores; it also scopes the notification channel.
   */
  schema?: string;
}

const POOL_SIZE = 10;
const NOTIFY_CHANNEL = 'galaxy_pay_sessions';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

/** Longest `last_error` kept per outbox item. */
const MAX_ERROR_LENGTH = 1000;

/** How many times `beginIdempotent` retries when its key vanishes between insert and read. */
const IDEMPOTENCY_ATTEMPTS = 3;

/** Versioned schema changes, applied in order; append new versions, never edit applied ones. */
const MIGRATIONS: readonly { version: number; statements: readonly string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE orders (
        order_ref text PRIMARY KEY,
        amount bigint NOT NULL,
        currency text NOT NULL,
        description text NOT NULL,
        net_amount bigint NOT NULL,
        fee_amount bigint NOT NULL,
        discount_amount bigint NOT NULL,
        created_at timestamptz NOT NULL
      )`,
      `CREATE TABLE sessions (
        id text PRIMARY KEY,
        nonce text NOT NULL,
        order_ref text NOT NULL REFERENCES orders (order_ref),
        gateway_order_id text NOT NULL UNIQUE,
        request_id text NOT NULL,
        transaction_id text,
        amount bigint NOT NULL,
        currency text NOT NULL,
        status text NOT NULL,
        late_success boolean NOT NULL DEFAULT false,
        code text,
        message text,
        cancel_reason text,
        locale text NOT NULL,
        payment_method text,
        source_type text,
        return_url text,
        checkout_url text,
        merchant_origin text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        paid_at timestamptz
      )`,
      `CREATE UNIQUE INDEX sessions_transaction_id_key ON sessions (transaction_id)
        WHERE transaction_id IS NOT NULL`,
      'CREATE INDEX sessions_order_ref_status_idx ON sessions (order_ref, status)',
      'CREATE INDEX sessions_status_updated_at_idx ON sessions (status, updated_at)',
      // No foreign key on session_id: evidence is kept even when it names no known session.
      `CREATE TABLE payment_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text,
        kind text NOT NULL,
        transaction_id text,
        raw text NOT NULL,
        verified boolean NOT NULL,
        verdict text NOT NULL,
        detail text,
        received_at timestamptz NOT NULL
      )`,
      'CREATE INDEX payment_events_session_id_idx ON payment_events (session_id, id)',
      `CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id),
        event text NOT NULL,
        payload text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        delivered_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL,
        UNIQUE (session_id, event)
      )`,
      'CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL',
      `CREATE TABLE idempotency_keys (
        idempotency_key text PRIMARY KEY,
        request_hash text NOT NULL,
        state text NOT NULL,
        response_status integer,
        response_body text,
        created_at timestamptz NOT NULL
      )`,
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
  POSTGRES_OPERATIONS_MIGRATION,
  {
    // Issue 11: unanswered gateway queries are retried with backoff; open sessions are bound to a browser.
    version: 4,
    statements: [
      'ALTER TABLE sessions ADD COLUMN check_failures integer NOT NULL DEFAULT 0',
      'ALTER TABLE sessions ADD COLUMN next_check_at timestamptz',
      'ALTER TABLE sessions ADD COLUMN client_key_hash text',
    ],
  },
  POSTGRES_OPERATION_CHECKS_MIGRATION,
  POSTGRES_EVIDENCE_MIGRATION,
];
/**
 * One conditional UPDATE per target status: the WHERE clause is the state machine. Under READ
 * COMMITTED a concurrent loser waits for the winner's row lock, re-checks the WHERE clause against
 * the committed row and updates nothing.
 */
const TRANSITION_SQL = Object.fromEntries(
  Object.entries(ALLOWED_FROM).map(([to, from]) => [
    to,
    `UPDATE sessions SET
      status = $2,
      late_success = late_success OR ($3 AND status IN (${statusList(LATE_SUCCESS_FROM)})),
      transaction_id = COALESCE(transaction_id, $4),
      code = COALESCE($5, code),
      message = COALESCE($6, message),
      payment_method = COALESCE($7, payment_method),
      source_type = COALESCE($8, source_type),
      cancel_reason = COALESCE($9, cancel_reason),
      paid_at = COALESCE($10, paid_at),
      updated_at = $11
    WHERE id = $1 AND status IN (${statusList(from)})
    RETURNING *`,
  ]),
) as Record<Transition['to'], string>;

const INSERT_EVENT_SQL = `INSERT INTO payment_events
  (session_id, kind, transaction_id, raw, verified, verdict, detail, received_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

function eventParams(event: PaymentEvent): unknown[] {
  return [
    event.sessionId,
    event.kind,
    event.transactionId,
    event.raw,
    event.verified,
    event.verdict,
    event.detail,
    event.receivedAt,
  ];
}

/** BIGINT columns (amounts, ids, counts) come back as strings by default; ours fit in a number. */
function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds a safe integer`);
  return value;
}

function isTransactionIdConflict(error: unknown): boolean {
  return (
    error instanceof pgDriver().DatabaseError &&
    error.code === '23505' &&
    error.constraint === 'sessions_transaction_id_key'
  );
}

type Queryable = Pick<Pg.ClientBase, 'query'>;

async function selectSession(db: Queryable, id: string): Promise<Session | null> {
  const result = await db.query<Row>('SELECT * FROM sessions WHERE id = $1', [id]);
  const row = result.rows[0];
  return row === undefined ? null : sessionFromRow(row);
}

/**
 * Opens the PostgreSQL store (a pool of {@link POOL_SIZE} connections) for several signer processes.
 * Each transition is one READ COMMITTED transaction around a conditional UPDATE; `publish` is a
 * NOTIFY on a channel named after the schema, so stores on other schemas never hear it.
 */
export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const { schema } = options;
  const limits = evidenceLimits(options.unverifiedEvidence);
  // Unverified inserts so far: the first and every POSTGRES_SWEEP_EVERY-th sweep from the start.
  let unverifiedInserts = 0;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      'invalid_config',
      `schema must match ${String(SCHEMA_NAME)}, got ${schema}`,
    );
  }
  const types = new (pgDriver().TypeOverrides)();
  types.setTypeParser(pgDriver().types.builtins.INT8, parseBigint);
  const clientConfig: Pg.ClientConfig = {
    connectionString: url,
    types,
    application_name: 'galaxy-pay-signer',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const pool = new (pgDriver().Pool)({ ...clientConfig, max: POOL_SIZE });
  // An idle connection can drop (server restart); the pool discards it, and an unhandled 'error'
  // event would crash the process.
  pool.on('error', () => undefined);
  const channel = schema === undefined ? NOTIFY_CHANNEL : `${NOTIFY_CHANNEL}_${schema}`;
  const listener = listenToChannel(clientConfig, channel);
  let closed = false;

  async function inTransaction<T>(work: (client: Pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').then(
        () => client.release(),
        (rollbackError: Error) => client.release(rollbackError),
      );
      throw error;
    }
  }

  async function selectOne<T>(
    sql: string,
    params: unknown[],
    map: (row: Row) => T,
  ): Promise<T | null> {
    const row = (await pool.query<Row>(sql, params)).rows[0];
    return row === undefined ? null : map(row);
  }

  return {
    ...postgresOperations(pool, inTransaction),

    async migrate() {
      await inTransaction(async client => {
        // Serializes concurrent starts, including CREATE SCHEMA IF NOT EXISTS, which races otherwise.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `galaxy-pay:migrate:${schema ?? 'public'}`,
        ]);
        if (schema !== undefined) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${pgDriver().escapeIdentifier(schema)}`);
        }
        await client.query(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
          )`,
        );
        const current = await client.query<{ version: number }>(
          'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
        );
        const version = current.rows[0]?.version ?? 0;
        for (const migration of MIGRATIONS) {
          if (migration.version <= version) continue;
          for (const statement of migration.statements) await client.query(statement);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [
            migration.version,
          ]);
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },

    async putOrder(order) {
      await pool.query(
        `INSERT INTO orders (order_ref, amount, currency, description, net_amount, fee_amount,
            discount_amount, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
          ON CONFLICT (order_ref) DO NOTHING`,
        [
          order.orderRef,
          order.amount,
          order.currency,
          order.description,
          order.netAmount,
          order.feeAmount,
          order.discountAmount,
          order.createdAt,
        ],
      );
      const stored = await pool.query<Row>('SELECT * FROM orders WHERE order_ref = $1', [
        order.orderRef,
      ]);
      return orderFromRow(stored.rows[0] as Row);
    },

    getOrder(orderRef) {
      return selectOne('SELECT * FROM orders WHERE order_ref = $1', [orderRef], orderFromRow);
    },

    async createSession(session) {
      const inserted = await pool
        .query<Row>(
          `INSERT INTO sessions (id, nonce, order_ref, gateway_order_id, request_id, amount, currency,
            status, locale, payment_method, source_type, return_url, merchant_origin, created_at,
            updated_at, expires_at, plan, client_key_hash)
          VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)
          RETURNING *`,
          [
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
            session.createdAt,
            session.expiresAt,
            session.plan ? JSON.stringify(session.plan) : null,
            session.clientKeyHash ?? null,
          ],
        )
        .catch((error: unknown) => {
          if (
            error instanceof pgDriver().DatabaseError &&
            error.code === '23505' &&
            error.constraint === 'sessions_one_open_per_order'
          ) {
            throw openSessionExists(session.orderRef, error);
          }
          throw error;
        });
      return sessionFromRow(inserted.rows[0] as Row);
    },

    getSession(id) {
      return selectSession(pool, id);
    },

    getSessionByGatewayOrderId(gatewayOrderId) {
      return selectOne(
        'SELECT * FROM sessions WHERE gateway_order_id = $1',
        [gatewayOrderId],
        sessionFromRow,
      );
    },

    findOpenSession(orderRef, now) {
      return selectOne(
        `SELECT * FROM sessions
          WHERE order_ref = $1 AND status IN (${statusList(OPEN_STATUSES)}) AND expires_at > $2
          ORDER BY created_at DESC LIMIT 1`,
        [orderRef, now],
        sessionFromRow,
      );
    },

    async findEndedWithPage(orderRef, now) {
      const result = await pool.query<Row>(
        `SELECT * FROM sessions
          WHERE order_ref = $1 AND status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL
            AND checkout_url <> '' AND expires_at > $2
          ORDER BY created_at DESC LIMIT 5`,
        [orderRef, now],
      );
      return result.rows.map(sessionFromRow);
    },

    async listEndedToWatch(before, expiresAfter, now, limit) {
      const result = await pool.query<Row>(
        `SELECT * FROM sessions
          WHERE status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL AND checkout_url <> ''
            AND (cancel_reason IS NULL OR cancel_reason IN ('user', 'closed'))
            AND expires_at > $1 AND updated_at < $2 AND (next_check_at IS NULL OR next_check_at <= $3)
          ORDER BY updated_at, id LIMIT $4`,
        [expiresAfter, before, now, limit],
      );
      return result.rows.map(sessionFromRow);
    },

    async reopenSession(id, at) {
      const result = await pool
        .query<Row>(
          `UPDATE sessions SET status = 'pending', cancel_reason = NULL, updated_at = $2
            WHERE id = $1 AND status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL
            RETURNING *`,
          [id, at],
        )
        .catch((error: unknown) => {
          if (
            error instanceof pgDriver().DatabaseError &&
            error.code === '23505' &&
            error.constraint === 'sessions_one_open_per_order'
          ) {
            throw openSessionExists(id, error);
          }
          throw error;
        });
      const row = result.rows[0];
      if (row !== undefined) {
        await pool.query('SELECT pg_notify($1, $2)', [channel, id]).catch(() => undefined);
        return { changed: true, session: sessionFromRow(row) };
      }
      const current = await selectSession(pool, id);
      if (current === null) throw sessionNotFound(id);
      return { changed: false, session: current };
    },

    findPaidSession(orderRef) {
      return selectOne(
        `SELECT * FROM sessions WHERE order_ref = $1 AND status IN (${PAID_OR_AUTHORIZED})
          ORDER BY paid_at LIMIT 1`,
        [orderRef],
        sessionFromRow,
      );
    },

    async listStalePending(before, limit, now) {
      // Without `now`, sessions waiting out a backoff are listed too (an operator's explicit reconcile).
      const result = await pool.query<Row>(
        `SELECT * FROM sessions
          WHERE status IN (${statusList(OPEN_STATUSES)}) AND updated_at < $1
            AND ($3::timestamptz IS NULL OR next_check_at IS NULL OR next_check_at <= $3)
          ORDER BY updated_at, id LIMIT $2`,
        [before, limit, now ?? null],
      );
      return result.rows.map(sessionFromRow);
    },

    async scheduleCheck(id, failures, nextCheckAt) {
      await pool.query(
        'UPDATE sessions SET check_failures = $2, next_check_at = $3 WHERE id = $1',
        [id, failures, nextCheckAt],
      );
    },

    async attachCheckout(id, checkout, at) {
      let result;
      try {
        result = await pool.query<Row>(
          `UPDATE sessions SET
              transaction_id = COALESCE(transaction_id, $2),
              checkout_url = COALESCE(checkout_url, $3),
              status = CASE WHEN status = 'pending_unknown' THEN 'pending' ELSE status END,
              updated_at = $4
            WHERE id = $1 RETURNING *`,
          [id, checkout.transactionId, checkout.checkoutUrl, at],
        );
      } catch (error) {
        if (isTransactionIdConflict(error)) {
          throw transactionIdConflict(id, checkout.transactionId, error);
        }
        throw error;
      }
      const row = result.rows[0];
      if (row === undefined) throw sessionNotFound(id);
      return sessionFromRow(row);
    },

    async markPendingUnknown(id, at) {
      const result = await pool.query<Row>(
        `UPDATE sessions SET status = 'pending_unknown', updated_at = $2
          WHERE id = $1 AND status = 'pending' RETURNING *`,
        [id, at],
      );
      const row = result.rows[0];
      if (row !== undefined) return sessionFromRow(row);
      const current = await selectSession(pool, id);
      if (current === null) throw sessionNotFound(id);
      return current;
    },

    async transition(id, transition, event) {
      const changes = transitionChanges(transition);
      return inTransaction(async client => {
        let updated;
        try {
          updated = await client.query<Row>(TRANSITION_SQL[transition.to], [
            id,
            changes.status,
            changes.flagLateSuccess,
            changes.transactionId,
            changes.code,
            changes.message,
            changes.paymentMethod,
            changes.sourceType,
            changes.cancelReason,
            changes.paidAt,
            changes.at,
          ]);
        } catch (error) {
          if (isTransactionIdConflict(error)) {
            throw transactionIdConflict(id, changes.transactionId, error);
          }
          throw error;
        }
        const row = updated.rows[0];
        if (row === undefined) {
          const current = await selectSession(client, id);
          if (current === null) throw sessionNotFound(id);
          if (event !== undefined) {
            await client.query(INSERT_EVENT_SQL, eventParams(eventAsRecorded(event, false)));
          }
          return { changed: false, session: current };
        }
        const session = sessionFromRow(row);
        // One round trip for the outbox row, the event and the NOTIFY (which leaves with the commit).
        const params: unknown[] = [
          id,
          transition.to,
          outboxPayload(session, transition),
          changes.at,
          channel,
        ];
        const eventCte =
          event === undefined
            ? ''
            : `, recorded AS (INSERT INTO payment_events
                (session_id, kind, transaction_id, raw, verified, verdict, detail, received_at)
                VALUES ($6, $7, $8, $9, $10, $11, $12, $13))`;
        if (event !== undefined) params.push(...eventParams(eventAsRecorded(event, true)));
        await client.query(
          `WITH queued AS (INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
              VALUES ($1, $2, $3, $4, $4) ON CONFLICT (session_id, event) DO NOTHING)${eventCte}
            SELECT pg_notify($5, $1)`,
          params,
        );
        return { changed: true, session };
      });
    },

    async recordEvent(event) {
      if (event.verified) {
        await pool.query(INSERT_EVENT_SQL, eventParams(event));
        return;
      }
      // Unverified: a prefix, in a window capped by rows and bytes; the oldest go in the same statement.
      const { event: kept, bytes } = capUnverified(event);
      await pool.query(POSTGRES_RECORD_UNVERIFIED_SQL, [
        ...eventParams(kept),
        bytes,
        limits.maxRows,
        limits.maxBytes,
        unverifiedInserts++ % POSTGRES_SWEEP_EVERY === 0,
      ]);
    },

    async listEvents(sessionId) {
      const result = await pool.query<Row>(
        'SELECT * FROM payment_events WHERE session_id = $1 ORDER BY id',
        [sessionId],
      );
      return result.rows.map(eventFromRow);
    },

    async claimOutbox(now, leaseUntil, limit) {
      // SKIP LOCKED: two workers claiming at once take disjoint items instead of waiting.
      const result = await pool.query<Row>(
        `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2
          WHERE id IN (
            SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1
            ORDER BY id LIMIT $3
            FOR UPDATE SKIP LOCKED)
          RETURNING *`,
        [now, leaseUntil, limit],
      );
      return result.rows.map(outboxFromRow).sort((a, b) => a.id - b.id);
    },

    async markOutboxDelivered(id, at) {
      await pool.query(
        'UPDATE outbox SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL',
        [id, at],
      );
    },

    async markOutboxFailed(id, error, retryAt) {
      await pool.query(
        `UPDATE outbox SET last_error = $2, next_attempt_at = $3
          WHERE id = $1 AND delivered_at IS NULL`,
        [id, error.slice(0, MAX_ERROR_LENGTH), retryAt],
      );
    },

    async listOutbox(sessionId) {
      const result = await pool.query<Row>(
        'SELECT * FROM outbox WHERE session_id = $1 ORDER BY id',
        [sessionId],
      );
      return result.rows.map(outboxFromRow);
    },

    async beginIdempotent(key, requestHash, now, expiresBefore) {
      await pool.query(
        `DELETE FROM idempotency_keys
          WHERE created_at < $1 OR (state = 'in_flight' AND created_at < $2)`,
        [expiresBefore, new Date(now.getTime() - IDEMPOTENCY_LEASE_MS)],
      );
      // The key can be abandoned between our insert and our read; then it is free to take again.
      for (let attempt = 0; attempt < IDEMPOTENCY_ATTEMPTS; attempt += 1) {
        const inserted = await pool.query(
          `INSERT INTO idempotency_keys (idempotency_key, request_hash, state, created_at)
            VALUES ($1, $2, 'in_flight', $3)
            ON CONFLICT (idempotency_key) DO NOTHING`,
          [key, requestHash, now],
        );
        if (inserted.rowCount === 1) return { state: 'started' };
        const existing = await pool.query<Row>(
          'SELECT * FROM idempotency_keys WHERE idempotency_key = $1',
          [key],
        );
        const row = existing.rows[0];
        if (row !== undefined) return idempotencyStateFromRow(row, requestHash);
      }
      return { state: 'in_flight' };
    },

    async finishIdempotent(key, status, body) {
      await pool.query(
        `UPDATE idempotency_keys SET state = 'done', response_status = $2, response_body = $3
          WHERE idempotency_key = $1`,
        [key, status, body],
      );
    },

    async abandonIdempotent(key) {
      await pool.query('DELETE FROM idempotency_keys WHERE idempotency_key = $1', [key]);
    },

    async publish(sessionId) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, sessionId]);
    },

    subscribe(listen) {
      return listener.add(listen);
    },
  };
}
