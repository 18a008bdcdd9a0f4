/**
 * The SQLite half of {@link OperationsStore}: schema versions 3 and 5, and the methods. Every write runs inside the
 * adapter's group commit (`BEGIN IMMEDIATE`), so a read-check-insert is atomic within and across processes.
 */

import type Database from 'better-sqlite3';
import {
  cardFromRow,
  linkFromRow,
  LIVE_OPERATION_STATES,
  MONEY_KINDS_SQL,
  operationFromRow,
  operationOutbox,
} from './operation-rows.js';
import type { Operation, OperationsStore, PaymentLink } from './operations.js';
import { sessionFromRow, type Row } from './rows.js';
import type { Session } from './store.js';
import { statusList } from './transitions.js';

const LIVE = LIVE_OPERATION_STATES.map(s => `'${s}'`).join(', ');

/** Schema version 3: session plans, the operations audit trail, saved cards, payment links. */
export const SQLITE_OPERATIONS_MIGRATION = {
  version: 3,
  statements: [
    'ALTER TABLE sessions ADD COLUMN plan TEXT',
    `CREATE TABLE operations (
      id TEXT PRIMARY KEY,
      session_id TEXT,
      kind TEXT NOT NULL,
      amount INTEGER,
      state TEXT NOT NULL,
      idempotency_key TEXT,
      request_hash TEXT,
      operator TEXT NOT NULL,
      gateway_request_id TEXT,
      gateway_ref TEXT,
      response_code TEXT,
      response_message TEXT,
      raw TEXT,
      detail TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT`,
    `CREATE UNIQUE INDEX operations_idempotency_key ON operations (kind, idempotency_key)
      WHERE idempotency_key IS NOT NULL`,
    // A capture and a void exclude each other, and each happens once: the database says so too.
    `CREATE UNIQUE INDEX operations_one_capture_or_void ON operations (session_id)
      WHERE kind IN ('capture', 'void') AND state IN (${LIVE})`,
    'CREATE INDEX operations_session_idx ON operations (session_id, created_at)',
    'CREATE INDEX operations_created_idx ON operations (created_at)',
    `CREATE TABLE saved_cards (
      id TEXT PRIMARY KEY,
      customer_ref TEXT NOT NULL,
      token_digest TEXT NOT NULL UNIQUE,
      token_ciphertext TEXT NOT NULL,
      key_id TEXT NOT NULL,
      payment_method TEXT NOT NULL,
      brand TEXT,
      source TEXT,
      masked_number TEXT NOT NULL,
      holder_name TEXT,
      session_id TEXT,
      created_at TEXT NOT NULL,
      deleted_at TEXT
    ) STRICT`,
    'CREATE INDEX saved_cards_customer_idx ON saved_cards (customer_ref, created_at)',
    `CREATE TABLE payment_links (
      order_no TEXT PRIMARY KEY,
      link_ref TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      amount INTEGER NOT NULL,
      currency TEXT NOT NULL,
      methods TEXT NOT NULL,
      fields TEXT NOT NULL,
      short_link TEXT NOT NULL,
      status TEXT NOT NULL,
      late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
      payer TEXT,
      paid_amount INTEGER,
      raw TEXT,
      detail TEXT,
      operator TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      paid_at TEXT,
      updated_at TEXT NOT NULL
    ) STRICT`,
    'CREATE INDEX payment_links_created_idx ON payment_links (created_at)',
  ],
} as const;

/**
 * Schema version 5 (issue 11): an operation whose outcome is unknown is asked about again with backoff
 * (how many checks, and when next), and the background pass finds the unsettled ones by index.
 */
export const SQLITE_OPERATION_CHECKS_MIGRATION = {
  version: 5,
  statements: [
    'ALTER TABLE operations ADD COLUMN check_count INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE operations ADD COLUMN next_check_at TEXT',
    `CREATE INDEX operations_unsettled_idx ON operations (state, updated_at)
      WHERE state IN ('pending', 'unknown')`,
  ],
} as const;

type Statement = (sql: string) => Database.Statement<unknown[], Row>;

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** The methods, over the adapter's `write` (group commit) and `statement` (prepared-statement cache). */
export function sqliteOperations(
  write: <T>(work: () => T) => Promise<T>,
  statement: Statement,
): OperationsStore {
  const one = <T>(sql: string, args: unknown[], map: (row: Row) => T): T | null => {
    const row = statement(sql).get(...args);
    return row === undefined ? null : map(row);
  };
  const operation = (id: string) =>
    one('SELECT * FROM operations WHERE id = ?', [id], operationFromRow);
  const link = (orderNo: string) =>
    one('SELECT * FROM payment_links WHERE order_no = ?', [orderNo], linkFromRow);
  /** Inside `write`: queues the merchant's notice of an operation that just changed state. */
  const queueNotice = (op: Operation, at: Date) => {
    if (op.sessionId === null) return;
    const session = one('SELECT * FROM sessions WHERE id = ?', [op.sessionId], sessionFromRow);
    if (!session) return;
    const refunded = statement(
      `SELECT COALESCE(SUM(amount), 0) AS total FROM operations
        WHERE session_id = ? AND kind = 'refund' AND state = 'succeeded'`,
    ).get(op.sessionId);
    const notice = operationOutbox(op, session, Number(refunded?.total ?? 0), at);
    if (notice === null) return;
    statement(
      `INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, event) DO NOTHING`,
    ).run(op.sessionId, notice.event, notice.payload, at.toISOString(), at.toISOString());
  };

  return {
    beginOperation(op, guard = {}) {
      return write(() => {
        if (op.idempotencyKey !== null) {
          const existing = one(
            'SELECT * FROM operations WHERE kind = ? AND idempotency_key = ?',
            [op.kind, op.idempotencyKey],
            operationFromRow,
          );
          if (existing) return { state: 'exists', operation: existing } as const;
        }
        if (guard.exclusive) {
          const holder = one(
            `SELECT * FROM operations WHERE session_id = ? AND kind IN ('capture', 'void')
              AND state IN (${LIVE}) LIMIT 1`,
            [op.sessionId],
            operationFromRow,
          );
          if (holder) return { state: 'conflict', operation: holder } as const;
        }
        if (guard.maxTotal !== undefined) {
          const row = statement(
            `SELECT COALESCE(SUM(amount), 0) AS total FROM operations
              WHERE session_id = ? AND kind = ? AND state IN (${LIVE})`,
          ).get(op.sessionId, op.kind);
          const total = Number(row?.total ?? 0);
          if (total + (op.amount ?? 0) > guard.maxTotal)
            return { state: 'exceeds', total } as const;
        }
        const at = op.createdAt.toISOString();
        const inserted = statement(
          `INSERT INTO operations (id, session_id, kind, amount, state, idempotency_key, request_hash,
            operator, gateway_request_id, gateway_ref, detail, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        ).get(
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
          at,
          at,
        );
        return { state: 'started', operation: operationFromRow(inserted as Row) } as const;
      });
    },

    finishOperation(id, outcome, at, expect) {
      return write(() => {
        const guard = expect ? 'state = ? AND updated_at <= ?' : "state IN ('pending', 'unknown')";
        const updated = statement(
          `UPDATE operations SET state = ?, response_code = ?, response_message = ?, raw = ?,
              detail = COALESCE(?, detail), updated_at = ?
            WHERE id = ? AND ${guard} RETURNING *`,
        ).get(
          outcome.state,
          outcome.responseCode,
          outcome.responseMessage,
          outcome.raw,
          outcome.detail ?? null,
          at.toISOString(),
          id,
          ...(expect ? [expect.state, expect.notUpdatedAfter.toISOString()] : []),
        );
        if (updated !== undefined) queueNotice(operationFromRow(updated), at);
        const current = operation(id);
        if (!current) throw new Error(`operation ${id} does not exist`);
        return current;
      });
    },

    claimOperation(id, at) {
      return write(() => {
        const row = statement(
          `UPDATE operations SET state = 'pending', updated_at = ?
            WHERE id = ? AND state = 'unknown' RETURNING *`,
        ).get(at.toISOString(), id);
        return row === undefined ? null : operationFromRow(row);
      });
    },

    async listUnsettledOperations(now, staleBefore, limit) {
      return statement(
        `SELECT * FROM operations WHERE kind IN (${MONEY_KINDS_SQL}) AND (
            (state = 'unknown' AND (next_check_at IS NULL OR next_check_at <= ?))
            OR (state = 'pending' AND updated_at < ?))
          ORDER BY updated_at, id LIMIT ?`,
      )
        .all(now.toISOString(), staleBefore.toISOString(), limit)
        .map(operationFromRow);
    },

    async scheduleOperationCheck(id, checkCount, nextCheckAt) {
      await write(() =>
        statement('UPDATE operations SET check_count = ?, next_check_at = ? WHERE id = ?').run(
          checkCount,
          nextCheckAt.toISOString(),
          id,
        ),
      );
    },

    async getOperation(id) {
      return operation(id);
    },

    async listOperations({ sessionId, limit }) {
      const rows =
        sessionId === undefined
          ? statement('SELECT * FROM operations ORDER BY created_at DESC, id LIMIT ?').all(limit)
          : statement(
              'SELECT * FROM operations WHERE session_id = ? ORDER BY created_at DESC, id LIMIT ?',
            ).all(sessionId, limit);
      return rows.map(operationFromRow);
    },

    async setSessionPlan(sessionId, plan) {
      await write(() =>
        statement('UPDATE sessions SET plan = ? WHERE id = ?').run(JSON.stringify(plan), sessionId),
      );
    },

    async listSessionsByOrder(orderRef) {
      return statement('SELECT * FROM sessions WHERE order_ref = ? ORDER BY created_at DESC, id')
        .all(orderRef)
        .map(sessionFromRow);
    },

    async listRecentSessions(limit, status) {
      const rows: Row[] =
        status === undefined
          ? statement('SELECT * FROM sessions ORDER BY created_at DESC, id LIMIT ?').all(limit)
          : statement(
              'SELECT * FROM sessions WHERE status = ? ORDER BY created_at DESC, id LIMIT ?',
            ).all(status, limit);
      return rows.map(sessionFromRow) as Session[];
    },

    saveCard(card) {
      return write(() => {
        const inserted = statement(
          `INSERT INTO saved_cards (id, customer_ref, token_digest, token_ciphertext, key_id,
            payment_method, brand, source, masked_number, holder_name, session_id, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (token_digest) DO NOTHING RETURNING *`,
        ).get(
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
          card.createdAt.toISOString(),
        );
        if (inserted !== undefined) return { card: cardFromRow(inserted), created: true };
        const stored = statement('SELECT * FROM saved_cards WHERE token_digest = ?').get(
          card.tokenDigest,
        );
        return { card: cardFromRow(stored as Row), created: false };
      });
    },

    async listCards(customerRef) {
      return statement(
        `SELECT * FROM saved_cards WHERE customer_ref = ? AND deleted_at IS NULL
          ORDER BY created_at, id`,
      )
        .all(customerRef)
        .map(cardFromRow);
    },

    async getCard(customerRef, id) {
      return one(
        'SELECT * FROM saved_cards WHERE id = ? AND customer_ref = ? AND deleted_at IS NULL',
        [id, customerRef],
        cardFromRow,
      );
    },

    deleteCard(customerRef, id, at) {
      return write(() => {
        const result = statement(
          `UPDATE saved_cards SET deleted_at = ?
            WHERE id = ? AND customer_ref = ? AND deleted_at IS NULL`,
        ).run(at.toISOString(), id, customerRef);
        return result.changes === 1;
      });
    },

    createLink(input) {
      return write(() => {
        const at = input.createdAt.toISOString();
        const row = statement(
          `INSERT INTO payment_links (order_no, link_ref, name, description, amount, currency,
            methods, fields, short_link, status, operator, created_at, expires_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING *`,
        ).get(
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
          at,
          input.expiresAt.toISOString(),
          at,
        );
        return linkFromRow(row as Row);
      });
    },

    async getLink(orderNo) {
      return link(orderNo);
    },

    async listLinks(limit) {
      return statement('SELECT * FROM payment_links ORDER BY created_at DESC, order_no LIMIT ?')
        .all(limit)
        .map(linkFromRow) as PaymentLink[];
    },

    settleLink(orderNo, s) {
      return write(() => {
        const row = statement(
          `UPDATE payment_links SET status = ?, late = ?, payer = ?, paid_amount = ?, raw = ?,
              detail = ?, paid_at = ?, updated_at = ?
            WHERE order_no = ? AND status = 'open' RETURNING *`,
        ).get(
          s.status,
          s.late ? 1 : 0,
          s.payer === null ? null : JSON.stringify(s.payer),
          s.paidAmount,
          s.raw,
          s.detail,
          iso(s.status === 'paid' ? s.at : null),
          s.at.toISOString(),
          orderNo,
        );
        if (row !== undefined) return { changed: true, link: linkFromRow(row) };
        return { changed: false, link: link(orderNo) };
      });
    },
  };
}

/** `findPaidSession`'s statuses: a paid order, or one whose authorization awaits capture. */
export const PAID_OR_AUTHORIZED = statusList(['paid', 'authorized']);
