/**
 * The statements of the merchant-operations part of the store (operations, saved cards, payment links), each
 * written once for both databases (see `dialect.ts`).
 */

import { MONEY_OPERATION_KINDS } from '../operation-rows.js';
import { LIVE_OPERATION_STATES } from '../operation-types.js';
import { literals, sql } from './dialect.js';

const LIVE = literals(LIVE_OPERATION_STATES);

/** Taken first by a guarded operation on PostgreSQL: two processes refunding one payment are serialized. */
export const LOCK_SESSION = sql(
  'lock_session',
  (p, d) => `SELECT 1 FROM sessions WHERE id = ${p('sessionId')}${d.forUpdate}`,
);

export const OPERATION = sql('operation', p => `SELECT * FROM operations WHERE id = ${p('id')}`);

export const OPERATION_BY_KEY = sql(
  'operation_by_key',
  p =>
    `SELECT * FROM operations WHERE kind = ${p('kind')} AND idempotency_key = ${p('idempotencyKey')}`,
);

/** The live capture or void that holds a session, if any. */
export const CAPTURE_OR_VOID_HOLDER = sql(
  'capture_or_void_holder',
  p => `SELECT * FROM operations WHERE session_id = ${p('sessionId')} AND kind IN ('capture', 'void')
    AND state IN (${LIVE}) LIMIT 1`,
);

/** What the session's live operations of a kind already take. */
export const LIVE_TOTAL = sql(
  'live_total',
  p => `SELECT CAST(COALESCE(SUM(amount), 0) AS bigint) AS total FROM operations
    WHERE session_id = ${p('sessionId')} AND kind = ${p('kind')} AND state IN (${LIVE})`,
);

/** What has been refunded of a session so far. */
export const REFUNDED_TOTAL = sql(
  'refunded_total',
  p => `SELECT CAST(COALESCE(SUM(amount), 0) AS bigint) AS total FROM operations
    WHERE session_id = ${p('sessionId')} AND kind = 'refund' AND state = 'succeeded'`,
);

export const INSERT_OPERATION = sql(
  'insert_operation',
  p => `INSERT INTO operations (id, session_id, kind, amount, state, idempotency_key, request_hash,
      operator, gateway_request_id, gateway_ref, detail, created_at, updated_at)
    VALUES (${p('id')}, ${p('sessionId')}, ${p('kind')}, ${p('amount')}, ${p('state')},
      ${p('idempotencyKey')}, ${p('requestHash')}, ${p('operator')}, ${p('gatewayRequestId')},
      ${p('gatewayRef')}, ${p('detail')}, ${p('createdAt')}, ${p('createdAt')})
    RETURNING *`,
);

const finish = (name: string, guard: (p: (name: string) => string) => string) =>
  sql(
    name,
    p => `UPDATE operations SET state = ${p('state')}, response_code = ${p('responseCode')},
        response_message = ${p('responseMessage')}, raw = ${p('raw')},
        detail = COALESCE(${p('detail')}, detail), updated_at = ${p('at')}
      WHERE id = ${p('id')} AND ${guard(p)} RETURNING *`,
  );

/** Records an answer on an operation still pending or unknown. */
export const FINISH_OPERATION = finish('finish_operation', () => "state IN ('pending', 'unknown')");

/** Records an answer on an operation still as expected (`OperationExpectation`). */
export const FINISH_EXPECTED_OPERATION = finish(
  'finish_expected_operation',
  p => `state = ${p('expectedState')} AND updated_at <= ${p('notUpdatedAfter')}`,
);

export const CLAIM_OPERATION = sql(
  'claim_operation',
  p => `UPDATE operations SET state = 'pending', updated_at = ${p('at')}
    WHERE id = ${p('id')} AND state = 'unknown' RETURNING *`,
);

export const UNSETTLED_OPERATIONS = sql(
  'unsettled_operations',
  p => `SELECT * FROM operations WHERE kind IN (${literals(MONEY_OPERATION_KINDS)}) AND (
      (state = 'unknown' AND (next_check_at IS NULL OR next_check_at <= ${p('now')}))
      OR (state = 'pending' AND updated_at < ${p('staleBefore')}))
    ORDER BY updated_at, id LIMIT ${p('limit')}`,
);

export const SCHEDULE_OPERATION_CHECK = sql(
  'schedule_operation_check',
  p => `UPDATE operations SET check_count = ${p('checkCount')}, next_check_at = ${p('nextCheckAt')}
    WHERE id = ${p('id')}`,
);

export const RECENT_OPERATIONS = sql(
  'recent_operations',
  p => `SELECT * FROM operations ORDER BY created_at DESC, id LIMIT ${p('limit')}`,
);

export const OPERATIONS_OF_SESSION = sql(
  'operations_of_session',
  p => `SELECT * FROM operations WHERE session_id = ${p('sessionId')}
    ORDER BY created_at DESC, id LIMIT ${p('limit')}`,
);

export const SET_SESSION_PLAN = sql(
  'set_session_plan',
  p => `UPDATE sessions SET plan = ${p('plan')} WHERE id = ${p('sessionId')}`,
);

export const SESSIONS_OF_ORDER = sql(
  'sessions_of_order',
  p => `SELECT * FROM sessions WHERE order_ref = ${p('orderRef')} ORDER BY created_at DESC, id`,
);

export const RECENT_SESSIONS = sql(
  'recent_sessions',
  p => `SELECT * FROM sessions ORDER BY created_at DESC, id LIMIT ${p('limit')}`,
);

export const RECENT_SESSIONS_IN = sql(
  'recent_sessions_in',
  p => `SELECT * FROM sessions WHERE status = ${p('status')} ORDER BY created_at DESC, id
    LIMIT ${p('limit')}`,
);

export const INSERT_CARD = sql(
  'insert_card',
  p => `INSERT INTO saved_cards (id, customer_ref, token_digest, token_ciphertext, key_id,
      payment_method, brand, source, masked_number, holder_name, session_id, created_at)
    VALUES (${p('id')}, ${p('customerRef')}, ${p('tokenDigest')}, ${p('tokenCiphertext')},
      ${p('keyId')}, ${p('paymentMethod')}, ${p('brand')}, ${p('source')}, ${p('maskedNumber')},
      ${p('holderName')}, ${p('sessionId')}, ${p('createdAt')})
    ON CONFLICT (token_digest) DO NOTHING RETURNING *`,
);

export const CARD_BY_DIGEST = sql(
  'card_by_digest',
  p => `SELECT * FROM saved_cards WHERE token_digest = ${p('tokenDigest')}`,
);

export const CARDS_OF_CUSTOMER = sql(
  'cards_of_customer',
  p => `SELECT * FROM saved_cards WHERE customer_ref = ${p('customerRef')} AND deleted_at IS NULL
    ORDER BY created_at, id`,
);

export const CARD = sql(
  'card',
  p => `SELECT * FROM saved_cards
    WHERE id = ${p('id')} AND customer_ref = ${p('customerRef')} AND deleted_at IS NULL`,
);

export const DELETE_CARD = sql(
  'delete_card',
  p => `UPDATE saved_cards SET deleted_at = ${p('at')}
    WHERE id = ${p('id')} AND customer_ref = ${p('customerRef')} AND deleted_at IS NULL`,
);

export const INSERT_LINK = sql(
  'insert_link',
  p => `INSERT INTO payment_links (order_no, link_ref, name, description, amount, currency, methods,
      fields, short_link, status, operator, created_at, expires_at, updated_at)
    VALUES (${p('orderNo')}, ${p('linkRef')}, ${p('name')}, ${p('description')}, ${p('amount')},
      ${p('currency')}, ${p('methods')}, ${p('fields')}, ${p('shortLink')}, 'open', ${p('operator')},
      ${p('createdAt')}, ${p('expiresAt')}, ${p('createdAt')})
    RETURNING *`,
);

export const LINK = sql(
  'link',
  p => `SELECT * FROM payment_links WHERE order_no = ${p('orderNo')}`,
);

export const RECENT_LINKS = sql(
  'recent_links',
  p => `SELECT * FROM payment_links ORDER BY created_at DESC, order_no LIMIT ${p('limit')}`,
);

export const SETTLE_LINK = sql(
  'settle_link',
  p => `UPDATE payment_links SET status = ${p('status')}, late = ${p('late')}, payer = ${p('payer')},
      paid_amount = ${p('paidAmount')}, raw = ${p('raw')}, detail = ${p('detail')},
      paid_at = ${p('paidAt')}, updated_at = ${p('at')}
    WHERE order_no = ${p('orderNo')} AND status = 'open' RETURNING *`,
);
