/**
 * The statements on orders, sessions, evidence, the outbox and idempotency keys, each written once for both
 * databases (see `dialect.ts`). Parameters are named after the record fields they take, so a record can be
 * passed as it is.
 */

import { ALLOWED_FROM, LATE_SUCCESS_FROM } from '../transitions.js';
import { OPEN_STATUSES, type Transition } from '../types.js';
import { literals, sql, type Statement } from './dialect.js';

/**
 * A session's columns, named rather than `*` where a statement is prepared once per connection: a column that
 * a later migration adds (by another process, while this one runs) then cannot change a prepared result's shape.
 */
export const SESSION_COLUMNS = `id, nonce, order_ref, gateway_order_id, request_id, transaction_id, amount,
  currency, status, late_success, code, message, cancel_reason, locale, payment_method, source_type, return_url,
  checkout_url, merchant_origin, created_at, updated_at, expires_at, paid_at, plan, client_key_hash,
  check_failures, next_check_at`;

export const INSERT_ORDER = sql(
  'insert_order',
  p => `INSERT INTO orders (order_ref, amount, currency, description, net_amount, fee_amount,
      discount_amount, created_at)
    VALUES (${p('orderRef')}, ${p('amount')}, ${p('currency')}, ${p('description')}, ${p('netAmount')},
      ${p('feeAmount')}, ${p('discountAmount')}, ${p('createdAt')})
    ON CONFLICT (order_ref) DO NOTHING`,
);

export const ORDER = sql('order', p => `SELECT * FROM orders WHERE order_ref = ${p('orderRef')}`);

export const INSERT_SESSION = sql(
  'insert_session',
  p => `INSERT INTO sessions (id, nonce, order_ref, gateway_order_id, request_id, amount, currency,
      status, locale, payment_method, source_type, return_url, merchant_origin, created_at, updated_at,
      expires_at, plan, client_key_hash)
    VALUES (${p('id')}, ${p('nonce')}, ${p('orderRef')}, ${p('gatewayOrderId')}, ${p('requestId')},
      ${p('amount')}, ${p('currency')}, 'pending', ${p('locale')}, ${p('paymentMethod')},
      ${p('sourceType')}, ${p('returnUrl')}, ${p('merchantOrigin')}, ${p('createdAt')}, ${p('createdAt')},
      ${p('expiresAt')}, ${p('plan')}, ${p('clientKeyHash')})
    RETURNING *`,
);

export const SESSION = sql(
  'session',
  p => `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ${p('id')}`,
  { prepared: true },
);

export const SESSION_BY_GATEWAY_ORDER = sql(
  'session_by_gateway_order',
  p => `SELECT ${SESSION_COLUMNS} FROM sessions WHERE gateway_order_id = ${p('gatewayOrderId')}`,
  { prepared: true },
);

/** What `SessionFacts` holds: an IPN's decision reads these alone (a third of the row, and no dates). */
export const SESSION_FACTS_BY_GATEWAY_ORDER = sql(
  'session_facts_by_gateway_order',
  p => `SELECT id, status, plan, amount, currency, transaction_id FROM sessions
    WHERE gateway_order_id = ${p('gatewayOrderId')}`,
  { prepared: true },
);

export const OPEN_SESSION = sql(
  'open_session',
  p => `SELECT * FROM sessions
    WHERE order_ref = ${p('orderRef')} AND status IN (${literals(OPEN_STATUSES)})
      AND expires_at > ${p('now')}
    ORDER BY created_at DESC LIMIT 1`,
);

/** A paid order, or one whose authorization awaits capture. */
export const PAID_SESSION = sql(
  'paid_session',
  p => `SELECT * FROM sessions WHERE order_ref = ${p('orderRef')} AND status IN ('paid', 'authorized')
    ORDER BY paid_at LIMIT 1`,
);

export const ENDED_WITH_PAGE = sql(
  'ended_with_page',
  p => `SELECT * FROM sessions
    WHERE order_ref = ${p('orderRef')} AND status IN ('cancelled', 'failed')
      AND transaction_id IS NOT NULL AND checkout_url <> '' AND expires_at > ${p('expiresAfter')}
    ORDER BY created_at DESC LIMIT 5`,
);

export const ENDED_TO_WATCH = sql(
  'ended_to_watch',
  p => `SELECT * FROM sessions
    WHERE status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL AND checkout_url <> ''
      AND (cancel_reason IS NULL OR cancel_reason IN ('user', 'closed'))
      AND expires_at > ${p('expiresAfter')} AND updated_at < ${p('before')}
      AND (next_check_at IS NULL OR next_check_at <= ${p('now')})
    ORDER BY updated_at, id LIMIT ${p('limit')}`,
);

export const REOPEN_SESSION = sql(
  'reopen_session',
  p => `UPDATE sessions SET status = 'pending', cancel_reason = NULL, updated_at = ${p('at')}
    WHERE id = ${p('id')} AND status IN ('cancelled', 'failed') AND transaction_id IS NOT NULL
    RETURNING *`,
);

export const STALE_PENDING = sql(
  'stale_pending',
  p => `SELECT * FROM sessions
    WHERE status IN (${literals(OPEN_STATUSES)}) AND updated_at < ${p('before')}
      AND (next_check_at IS NULL OR next_check_at <= ${p('due')})
    ORDER BY updated_at, id LIMIT ${p('limit')}`,
);

export const SCHEDULE_CHECK = sql(
  'schedule_check',
  p => `UPDATE sessions SET check_failures = ${p('failures')}, next_check_at = ${p('nextCheckAt')}
    WHERE id = ${p('id')}`,
);

export const ATTACH_CHECKOUT = sql(
  'attach_checkout',
  p => `UPDATE sessions SET
      transaction_id = COALESCE(transaction_id, ${p('transactionId')}),
      checkout_url = COALESCE(checkout_url, ${p('checkoutUrl')}),
      status = CASE WHEN status = 'pending_unknown' THEN 'pending' ELSE status END,
      updated_at = ${p('at')}
    WHERE id = ${p('id')} RETURNING *`,
);

export const MARK_PENDING_UNKNOWN = sql(
  'mark_pending_unknown',
  p => `UPDATE sessions SET status = 'pending_unknown', updated_at = ${p('at')}
    WHERE id = ${p('id')} AND status = 'pending' RETURNING *`,
);

/**
 * One conditional UPDATE per target status: the WHERE clause is the state machine. Parameters: `id` and the
 * fields of `TransitionChanges`. Under PostgreSQL's READ COMMITTED a concurrent loser waits for the winner's
 * row lock, re-checks the WHERE clause against the committed row and updates nothing.
 */
function transitionStatement(
  to: string,
  from: readonly string[],
  keepingTransactionId: boolean,
): Statement {
  return sql(
    `transition_${to}${keepingTransactionId ? '_keeping_transaction_id' : ''}`,
    p => `UPDATE sessions SET
        status = ${p('status')},
        late_success = late_success OR (${p('flagLateSuccess')}
          AND status IN (${literals(LATE_SUCCESS_FROM)})),${
            keepingTransactionId
              ? ''
              : `
        transaction_id = COALESCE(transaction_id, ${p('transactionId')}),`
          }
        code = COALESCE(${p('code')}, code),
        message = COALESCE(${p('message')}, message),
        payment_method = COALESCE(${p('paymentMethod')}, payment_method),
        source_type = COALESCE(${p('sourceType')}, source_type),
        cancel_reason = COALESCE(${p('cancelReason')}, cancel_reason),
        paid_at = COALESCE(${p('paidAt')}, paid_at),
        updated_at = ${p('at')}
      WHERE id = ${p('id')} AND status IN (${literals(from)})${
        keepingTransactionId ? ' AND transaction_id IS NOT NULL' : ''
      }
      RETURNING ${SESSION_COLUMNS}`,
  );
}

export const TRANSITION = Object.fromEntries(
  Object.entries(ALLOWED_FROM).map(([to, from]) => [to, transitionStatement(to, from, false)]),
) as Record<Transition['to'], Statement>;

/**
 * The same UPDATE for a session that already has its transaction id (every session whose checkout answered),
 * without naming that column: SQLite rewrites the entry of every index on a column an UPDATE names, changed or
 * not, and transaction ids are random, so naming it cost a random index page per IPN. Moves nothing when the
 * session has no transaction id yet; the store then runs {@link TRANSITION}. (SQLite only: PostgreSQL's UPDATE
 * adds an entry to every index of the row anyway.)
 */
export const TRANSITION_KEEPING_TRANSACTION_ID = Object.fromEntries(
  Object.entries(ALLOWED_FROM).map(([to, from]) => [to, transitionStatement(to, from, true)]),
) as Record<Transition['to'], Statement>;

/** An outbox row, once per session and event (a session's event, or `<event>:<operationId>`). */
export const QUEUE_OUTBOX = sql(
  'queue_outbox',
  p => `INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
    VALUES (${p('sessionId')}, ${p('event')}, ${p('payload')}, ${p('at')}, ${p('at')})
    ON CONFLICT (session_id, event) DO NOTHING`,
);

/** The columns and values of a verified payment event (also written into PostgreSQL's transition). */
export const EVENT_COLUMNS =
  'session_id, kind, transaction_id, raw, verified, verdict, detail, received_at';
export function eventValues(p: (name: string) => string): string {
  return `${p('sessionId')}, ${p('kind')}, ${p('transactionId')}, ${p('raw')}, ${p('verified')},
    ${p('verdict')}, ${p('detail')}, ${p('receivedAt')}`;
}

export const INSERT_EVENT = sql(
  'insert_event',
  p => `INSERT INTO payment_events (${EVENT_COLUMNS}) VALUES (${eventValues(p)})`,
  { prepared: true },
);

export const EVENTS_OF_SESSION = sql(
  'events_of_session',
  p => `SELECT * FROM payment_events WHERE session_id = ${p('sessionId')} ORDER BY id`,
);

export const CLAIM_OUTBOX = sql(
  'claim_outbox',
  (p, d) => `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ${p('leaseUntil')}
    WHERE id IN (
      SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ${p('now')}
      ORDER BY id LIMIT ${p('limit')}${d.skipLocked})
    RETURNING *`,
);

export const OUTBOX_DELIVERED = sql(
  'outbox_delivered',
  p => `UPDATE outbox SET delivered_at = ${p('at')} WHERE id = ${p('id')} AND delivered_at IS NULL`,
);

export const OUTBOX_FAILED = sql(
  'outbox_failed',
  p => `UPDATE outbox SET last_error = ${p('error')}, next_attempt_at = ${p('retryAt')}
    WHERE id = ${p('id')} AND delivered_at IS NULL`,
);

export const OUTBOX_OF_SESSION = sql(
  'outbox_of_session',
  p => `SELECT * FROM outbox WHERE session_id = ${p('sessionId')} ORDER BY id`,
);

/** Forgets expired keys, and keys still in flight after their lease. */
export const EXPIRE_IDEMPOTENCY = sql(
  'expire_idempotency',
  p => `DELETE FROM idempotency_keys
    WHERE created_at < ${p('expiresBefore')} OR (state = 'in_flight' AND created_at < ${p('leaseStart')})`,
);

export const INSERT_IDEMPOTENCY = sql(
  'insert_idempotency',
  p => `INSERT INTO idempotency_keys (idempotency_key, request_hash, state, created_at)
    VALUES (${p('key')}, ${p('requestHash')}, 'in_flight', ${p('now')})
    ON CONFLICT (idempotency_key) DO NOTHING`,
);

export const IDEMPOTENCY = sql(
  'idempotency',
  p => `SELECT * FROM idempotency_keys WHERE idempotency_key = ${p('key')}`,
);

export const FINISH_IDEMPOTENCY = sql(
  'finish_idempotency',
  p => `UPDATE idempotency_keys SET state = 'done', response_status = ${p('status')},
      response_body = ${p('body')}
    WHERE idempotency_key = ${p('key')}`,
);

export const ABANDON_IDEMPOTENCY = sql(
  'abandon_idempotency',
  p => `DELETE FROM idempotency_keys WHERE idempotency_key = ${p('key')}`,
);
