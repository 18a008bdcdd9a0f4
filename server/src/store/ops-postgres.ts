/**
 * The PostgreSQL half of {@link OperationsStore}: schema versions 3 and 5, and the methods. A guarded operation
 * locks its session row first (`FOR UPDATE`), so two processes refunding one payment at once are serialized
 * and the second sees the first's reservation; unique indexes back every rule up.
 */

import type Pg from 'pg';
import { pgDriver } from './drivers.js';
import {
  cardFromRow,
  linkFromRow,
  LIVE_OPERATION_STATES,
  MONEY_KINDS_SQL,
  operationFromRow,
  operationOutbox,
} from './operation-rows.js';
import type { BeginOperation, Operation, OperationsStore } from './operations.js';
import { sessionFromRow, type Row } from './rows.js';

const LIVE = LIVE_OPERATION_STATES.map(s => `'${s}'`).join(', ');

/** Schema version 3: session plans, the operations audit trail, saved cards, payment links. */
export const POSTGRES_OPERATIONS_MIGRATION = {
  version: 3,
  statements: [
    'ALTER TABLE sessions ADD COLUMN plan text',
    `CREATE TABLE operations (
      id text PRIMARY KEY,
      session_id text,
      kind text NOT NULL,
      amount bigint,
      state text NOT NULL,
      idempotency_key text,
      request_hash text,
      operator text NOT NULL,
      gateway_request_id text,
      gateway_ref text,
      response_code text,
      response_message text,
      raw text,
      detail text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`,
    `CREATE UNIQUE INDEX operations_idempotency_key ON operations (kind, idempotency_key)
      WHERE idempotency_key IS NOT NULL`,
    `CREATE UNIQUE INDEX operations_one_capture_or_void ON operations (session_id)
      WHERE kind IN ('capture', 'void') AND state IN (${LIVE})`,
    'CREATE INDEX operations_session_idx ON operations (session_id, created_at)',
    'CREATE INDEX operations_created_idx ON operations (created_at)',
    `CREATE TABLE saved_cards (
      id text PRIMARY KEY,
      customer_ref text NOT NULL,
      token_digest text NOT NULL UNIQUE,
      token_ciphertext text NOT NULL,
      key_id text NOT NULL,
      payment_method text NOT NULL,
      brand text,
      source text,
      masked_number text NOT NULL,
      holder_name text,
      session_id text,
      created_at timestamptz NOT NULL,
      deleted_at timestamptz
    )`,
    'CREATE INDEX saved_cards_customer_idx ON saved_cards (customer_ref, created_at)',
    `CREATE TABLE payment_links (
      order_no text PRIMARY KEY,
      link_ref text NOT NULL UNIQUE,
      name text NOT NULL,
      description text NOT NULL,
      amount bigint NOT NULL,
      currency text NOT NULL,
      methods text NOT NULL,
      fields text NOT NULL,
      short_link text NOT NULL,
      status text NOT NULL,
      late boolean NOT NULL DEFAULT false,
      payer text,
      paid_amount bigint,
      raw text,
      detail text,
      operator text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      paid_at timestamptz,
      updated_at timestamptz NOT NULL
    )`,
    'CREATE INDEX payment_links_created_idx ON payment_links (created_at)',
  ],
} as const;

/**
 * Schema version 5 (issue 11): an operation whose outcome is unknown is asked about again with backoff
 * (how many checks, and when next), and the background pass finds the unsettled ones by index.
 */
export const POSTGRES_OPERATION_CHECKS_MIGRATION = {
  version: 5,
  statements: [
    'ALTER TABLE operations ADD COLUMN check_count integer NOT NULL DEFAULT 0',
    'ALTER TABLE operations ADD COLUMN next_check_at timestamptz',
    `CREATE INDEX operations_unsettled_idx ON operations (state, updated_at)
      WHERE state IN ('pending', 'unknown')`,
  ],
} as const;

type Queryable = Pick<Pg.ClientBase, 'query'>;

/** Inside a transaction: queues the merchant's notice of an operation that just changed state. */
async function queueNotice(client: Queryable, op: Operation, at: Date): Promise<void> {
  if (op.sessionId === null) return;
  const session = await first(
    client,
    'SELECT * FROM sessions WHERE id = $1',
    [op.sessionId],
    sessionFromRow,
  );
  if (!session) return;
  const refunded = await client.query<{ total: string }>(
    `SELECT COALESCE(SUM(amount), 0)::bigint AS total FROM operations
      WHERE session_id = $1 AND kind = 'refund' AND state = 'succeeded'`,
    [op.sessionId],
  );
  const notice = operationOutbox(op, session, Number(refunded.rows[0]?.total ?? 0), at);
  if (notice === null) return;
  await client.query(
    `INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
      VALUES ($1, $2, $3, $4, $4) ON CONFLICT (session_id, event) DO NOTHING`,
    [op.sessionId, notice.event, notice.payload, at],
  );
}

function isUnique(error: unknown, constraint: string): boolean {
  return (
    error instanceof pgDriver().DatabaseError &&
    error.code === '23505' &&
    error.constraint === constraint
  );
}

async function first<T>(
  db: Queryable,
  sql: string,
  params: unknown[],
  map: (row: Row) => T,
): Promise<T | null> {
  const row = (await db.query<Row>(sql, params)).rows[0];
  return row === undefined ? null : map(row);
}

/** The methods, over the adapter's pool and its transaction helper. */
export function postgresOperations(
  pool: Pg.Pool,
  inTransaction: <T>(work: (client: Pg.PoolClient) => Promise<T>) => Promise<T>,
): OperationsStore {
  const byKey = (db: Queryable, kind: string, key: string) =>
    first(
      db,
      'SELECT * FROM operations WHERE kind = $1 AND idempotency_key = $2',
      [kind, key],
      operationFromRow,
    );
  const holder = (db: Queryable, sessionId: string | null) =>
    first(
      db,
      `SELECT * FROM operations WHERE session_id = $1 AND kind IN ('capture', 'void')
        AND state IN (${LIVE}) LIMIT 1`,
      [sessionId],
      operationFromRow,
    );

  return {
    async beginOperation(op, guard = {}) {
      try {
        return await inTransaction(async (client): Promise<BeginOperation> => {
          if (op.sessionId !== null) {
            await client.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [op.sessionId]);
          }
          if (op.idempotencyKey !== null) {
            const existing = await byKey(client, op.kind, op.idempotencyKey);
            if (existing) return { state: 'exists', operation: existing };
          }
          if (guard.exclusive) {
            const taken = await holder(client, op.sessionId);
            if (taken) return { state: 'conflict', operation: taken };
          }
          if (guard.maxTotal !== undefined) {
            const sum = await client.query<{ total: number }>(
              `SELECT COALESCE(SUM(amount), 0)::bigint AS total FROM operations
                WHERE session_id = $1 AND kind = $2 AND state IN (${LIVE})`,
              [op.sessionId, op.kind],
            );
            const total = Number(sum.rows[0]?.total ?? 0);
            if (total + (op.amount ?? 0) > guard.maxTotal) return { state: 'exceeds', total };
          }
          const inserted = await client.query<Row>(
            `INSERT INTO operations (id, session_id, kind, amount, state, idempotency_key,
              request_hash, operator, gateway_request_id, gateway_ref, detail, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *`,
            [
              op.id,
              op.sessionId,
              op.kind,
              op.amount,
              op.state ?? 'pending',
              op.idempotencyKey,
              op.requestHash,
              op.operator,
              op.gatewayRequestId,
              op.gatewayRef,
              op.detail,
              op.createdAt,
            ],
          );
          return { state: 'started', operation: operationFromRow(inserted.rows[0] as Row) };
        });
      } catch (error) {
        // A session-less operation with a key raced another one: the winner's row is the answer.
        if (isUnique(error, 'operations_idempotency_key') && op.idempotencyKey !== null) {
          const existing = await byKey(pool, op.kind, op.idempotencyKey);
          if (existing) return { state: 'exists', operation: existing };
        }
        if (isUnique(error, 'operations_one_capture_or_void')) {
          const taken = await holder(pool, op.sessionId);
          if (taken) return { state: 'conflict', operation: taken };
        }
        throw error;
      }
    },

    async finishOperation(id, outcome, at, expect) {
      return inTransaction(async client => {
        const guard = expect
          ? 'state = $8 AND updated_at <= $9'
          : "state IN ('pending', 'unknown')";
        const updated = await client.query<Row>(
          `UPDATE operations SET state = $2, response_code = $3, response_message = $4, raw = $5,
              detail = COALESCE($6, detail), updated_at = $7
            WHERE id = $1 AND ${guard} RETURNING *`,
          [
            id,
            outcome.state,
            outcome.responseCode,
            outcome.responseMessage,
            outcome.raw,
            outcome.detail ?? null,
            at,
            ...(expect ? [expect.state, expect.notUpdatedAfter] : []),
          ],
        );
        const row = updated.rows[0];
        if (row !== undefined) await queueNotice(client, operationFromRow(row), at);
        const current = await first(
          client,
          'SELECT * FROM operations WHERE id = $1',
          [id],
          operationFromRow,
        );
        if (!current) throw new Error(`operation ${id} does not exist`);
        return current;
      });
    },

    claimOperation(id, at) {
      return first(
        pool,
        `UPDATE operations SET state = 'pending', updated_at = $2
          WHERE id = $1 AND state = 'unknown' RETURNING *`,
        [id, at],
        operationFromRow,
      );
    },

    async listUnsettledOperations(now, staleBefore, limit) {
      const result = await pool.query<Row>(
        `SELECT * FROM operations WHERE kind IN (${MONEY_KINDS_SQL}) AND (
            (state = 'unknown' AND (next_check_at IS NULL OR next_check_at <= $1))
            OR (state = 'pending' AND updated_at < $2))
          ORDER BY updated_at, id LIMIT $3`,
        [now, staleBefore, limit],
      );
      return result.rows.map(operationFromRow);
    },

    async scheduleOperationCheck(id, checkCount, nextCheckAt) {
      await pool.query('UPDATE operations SET check_count = $2, next_check_at = $3 WHERE id = $1', [
        id,
        checkCount,
        nextCheckAt,
      ]);
    },

    getOperation(id) {
      return first(pool, 'SELECT * FROM operations WHERE id = $1', [id], operationFromRow);
    },

    async listOperations({ sessionId, limit }) {
      const result =
        sessionId === undefined
          ? await pool.query<Row>(
              'SELECT * FROM operations ORDER BY created_at DESC, id LIMIT $1',
              [limit],
            )
          : await pool.query<Row>(
              'SELECT * FROM operations WHERE session_id = $1 ORDER BY created_at DESC, id LIMIT $2',
              [sessionId, limit],
            );
      return result.rows.map(operationFromRow);
    },

    async setSessionPlan(sessionId, plan) {
      await pool.query('UPDATE sessions SET plan = $2 WHERE id = $1', [
        sessionId,
        JSON.stringify(plan),
      ]);
    },

    async listSessionsByOrder(orderRef) {
      const result = await pool.query<Row>(
        'SELECT * FROM sessions WHERE order_ref = $1 ORDER BY created_at DESC, id',
        [orderRef],
      );
      return result.rows.map(sessionFromRow);
    },

    async listRecentSessions(limit, status) {
      const result =
        status === undefined
          ? await pool.query<Row>('SELECT * FROM sessions ORDER BY created_at DESC, id LIMIT $1', [
              limit,
            ])
          : await pool.query<Row>(
              'SELECT * FROM sessions WHERE status = $1 ORDER BY created_at DESC, id LIMIT $2',
              [status, limit],
            );
      return result.rows.map(sessionFromRow);
    },

    async saveCard(card) {
      const inserted = await pool.query<Row>(
        `INSERT INTO saved_cards (id, customer_ref, token_digest, token_ciphertext, key_id,
          payment_method, brand, source, masked_number, holder_name, session_id, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (token_digest) DO NOTHING RETURNING *`,
        [
          card.id,
          card.customerRef,
          card.tokenDigest,
          card.tokenCiphertext,
          card.keyId,
          card.paymentMethod,
          card.brand,
          card.source,
          card.maskedNumber,
          card.holderName,
          card.sessionId,
          card.createdAt,
        ],
      );
      const row = inserted.rows[0];
      if (row !== undefined) return { card: cardFromRow(row), created: true };
      const stored = await pool.query<Row>('SELECT * FROM saved_cards WHERE token_digest = $1', [
        card.tokenDigest,
      ]);
      return { card: cardFromRow(stored.rows[0] as Row), created: false };
    },

    async listCards(customerRef) {
      const result = await pool.query<Row>(
        `SELECT * FROM saved_cards WHERE customer_ref = $1 AND deleted_at IS NULL
          ORDER BY created_at, id`,
        [customerRef],
      );
      return result.rows.map(cardFromRow);
    },

    getCard(customerRef, id) {
      return first(
        pool,
        'SELECT * FROM saved_cards WHERE id = $1 AND customer_ref = $2 AND deleted_at IS NULL',
        [id, customerRef],
        cardFromRow,
      );
    },

    async deleteCard(customerRef, id, at) {
      const result = await pool.query(
        `UPDATE saved_cards SET deleted_at = $3
          WHERE id = $1 AND customer_ref = $2 AND deleted_at IS NULL`,
        [id, customerRef, at],
      );
      return result.rowCount === 1;
    },

    async createLink(input) {
      const result = await pool.query<Row>(
        `INSERT INTO payment_links (order_no, link_ref, name, description, amount, currency,
          methods, fields, short_link, status, operator, created_at, expires_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12, $11) RETURNING *`,
        [
          input.orderNo,
          input.linkRef,
          input.name,
          input.description,
          input.amount,
          input.currency,
          JSON.stringify(input.methods),
          JSON.stringify(input.fields),
          input.shortLink,
          input.operator,
          input.createdAt,
          input.expiresAt,
        ],
      );
      return linkFromRow(result.rows[0] as Row);
    },

    getLink(orderNo) {
      return first(pool, 'SELECT * FROM payment_links WHERE order_no = $1', [orderNo], linkFromRow);
    },

    async listLinks(limit) {
      const result = await pool.query<Row>(
        'SELECT * FROM payment_links ORDER BY created_at DESC, order_no LIMIT $1',
        [limit],
      );
      return result.rows.map(linkFromRow);
    },

    async settleLink(orderNo, s) {
      const result = await pool.query<Row>(
        `UPDATE payment_links SET status = $2, late = $3, payer = $4, paid_amount = $5, raw = $6,
            detail = $7, paid_at = $8, updated_at = $9
          WHERE order_no = $1 AND status = 'open' RETURNING *`,
        [
          orderNo,
          s.status,
          s.late,
          s.payer === null ? null : JSON.stringify(s.payer),
          s.paidAmount,
          s.raw,
          s.detail,
          s.status === 'paid' ? s.at : null,
          s.at,
        ],
      );
      const row = result.rows[0];
      if (row !== undefined) return { changed: true, link: linkFromRow(row) };
      return {
        changed: false,
        link: await first(
          pool,
          'SELECT * FROM payment_links WHERE order_no = $1',
          [orderNo],
          linkFromRow,
        ),
      };
    },
  };
}
