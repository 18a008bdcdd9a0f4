import { OPERATION_EVENTS, type OperationEvent } from './operation-types.js';
import {
  CANCEL_REASONS,
  EVENT_VERDICTS,
  EVIDENCE_KINDS,
  FINAL_STATUSES,
  SESSION_STATUSES,
  type IdempotencyBegin,
  type Order,
  type OutboxEvent,
  type OutboxItem,
  type PaymentEvent,
  type Session,
  type SessionFacts,
  type SessionPlan,
} from './types.js';

/**
 * One result row as either driver returns it. The mappers accept both drivers' encodings (SQLite:
 * ISO text dates, 0/1 booleans; PostgreSQL: `Date`, `boolean`), so both adapters share them.
 */
export type Row = Readonly<Record<string, unknown>>;

/** A session's own events (its final statuses), then the operations' ones. */
const OUTBOX_EVENTS: readonly (OutboxEvent | OperationEvent)[] = [
  ...(FINAL_STATUSES as readonly OutboxEvent[]),
  ...OPERATION_EVENTS,
];

function unexpected(column: string, value: unknown, wanted: string): TypeError {
  return new TypeError(
    `column ${column}: expected ${wanted}, got ${typeof value} ${String(value)}`,
  );
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw unexpected(column, value, 'text');
  return value;
}

export function textOrNull(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}

export function oneOf<T extends string>(row: Row, column: string, allowed: readonly T[]): T {
  const value = text(row, column);
  if (!(allowed as readonly string[]).includes(value))
    throw unexpected(column, value, allowed.join(' | '));
  return value as T;
}

export function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (
    typeof value === 'bigint' &&
    value <= Number.MAX_SAFE_INTEGER &&
    value >= -Number.MAX_SAFE_INTEGER
  ) {
    return Number(value);
  }
  throw unexpected(column, value, 'a safe integer');
}

export function bool(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw unexpected(column, value, 'a boolean');
}

export function date(row: Row, column: string): Date {
  const value = row[column];
  const parsed = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (parsed === null || Number.isNaN(parsed.getTime())) throw unexpected(column, value, 'a date');
  return parsed;
}

export function dateOrNull(row: Row, column: string): Date | null {
  return row[column] === null ? null : date(row, column);
}

/** Maps an `orders` row. */
export function orderFromRow(row: Row): Order {
  return {
    orderRef: text(row, 'order_ref'),
    amount: int(row, 'amount'),
    currency: text(row, 'currency'),
    description: text(row, 'description'),
    netAmount: int(row, 'net_amount'),
    feeAmount: int(row, 'fee_amount'),
    discountAmount: int(row, 'discount_amount'),
    createdAt: date(row, 'created_at'),
  };
}

/** Maps a `sessions` row. */
export function sessionFromRow(row: Row): Session {
  return {
    id: text(row, 'id'),
    nonce: text(row, 'nonce'),
    orderRef: text(row, 'order_ref'),
    gatewayOrderId: text(row, 'gateway_order_id'),
    requestId: text(row, 'request_id'),
    transactionId: textOrNull(row, 'transaction_id'),
    amount: int(row, 'amount'),
    currency: text(row, 'currency'),
    status: oneOf(row, 'status', SESSION_STATUSES),
    lateSuccess: bool(row, 'late_success'),
    code: textOrNull(row, 'code'),
    message: textOrNull(row, 'message'),
    cancelReason: row.cancel_reason === null ? null : oneOf(row, 'cancel_reason', CANCEL_REASONS),
    locale: text(row, 'locale'),
    paymentMethod: textOrNull(row, 'payment_method'),
    sourceType: textOrNull(row, 'source_type'),
    returnUrl: textOrNull(row, 'return_url'),
    checkoutUrl: textOrNull(row, 'checkout_url'),
    merchantOrigin: textOrNull(row, 'merchant_origin'),
    createdAt: date(row, 'created_at'),
    updatedAt: date(row, 'updated_at'),
    expiresAt: date(row, 'expires_at'),
    paidAt: dateOrNull(row, 'paid_at'),
    plan: planFromText(row.plan === undefined ? null : textOrNull(row, 'plan')),
    clientKeyHash: row.client_key_hash === undefined ? null : textOrNull(row, 'client_key_hash'),
    checkFailures: row.check_failures === undefined ? 0 : int(row, 'check_failures'),
    nextCheckAt: row.next_check_at === undefined ? null : dateOrNull(row, 'next_check_at'),
  };
}

/** Maps the columns of `SESSION_FACTS_BY_GATEWAY_ORDER`. */
export function sessionFactsFromRow(row: Row): SessionFacts {
  return {
    id: text(row, 'id'),
    status: oneOf(row, 'status', SESSION_STATUSES),
    plan: planFromText(textOrNull(row, 'plan')),
    amount: int(row, 'amount'),
    currency: text(row, 'currency'),
    transactionId: textOrNull(row, 'transaction_id'),
  };
}

/** The session plan column: JSON text, or null for a plain hosted checkout. */
export function planFromText(text: string | null): SessionPlan | null {
  if (text === null) return null;
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw unexpected('plan', text, 'a JSON object');
  }
  return parsed as SessionPlan;
}

/** Maps a `payment_events` row. */
export function eventFromRow(row: Row): PaymentEvent {
  return {
    id: int(row, 'id'),
    sessionId: textOrNull(row, 'session_id'),
    kind: oneOf(row, 'kind', EVIDENCE_KINDS),
    transactionId: textOrNull(row, 'transaction_id'),
    raw: text(row, 'raw'),
    verified: bool(row, 'verified'),
    verdict: oneOf(row, 'verdict', EVENT_VERDICTS),
    detail: textOrNull(row, 'detail'),
    receivedAt: date(row, 'received_at'),
  };
}

/** Maps an `outbox` row. */
export function outboxFromRow(row: Row): OutboxItem {
  return {
    id: int(row, 'id'),
    sessionId: text(row, 'session_id'),
    // `<event>` for a session's event, `<event>:<operationId>` for an operation's (see operation-rows.ts).
    event: oneOf({ event: text(row, 'event').split(':')[0] }, 'event', OUTBOX_EVENTS),
    operationId: text(row, 'event').split(':')[1] ?? null,
    payload: text(row, 'payload'),
    attempts: int(row, 'attempts'),
    nextAttemptAt: date(row, 'next_attempt_at'),
    deliveredAt: dateOrNull(row, 'delivered_at'),
    lastError: textOrNull(row, 'last_error'),
  };
}

/**
 * What `beginIdempotent` reports for a key that is already stored: a different request under the
 * same key is a mismatch whatever its state (IETF Idempotency-Key draft: 422 before 409).
 */
export function idempotencyStateFromRow(row: Row, requestHash: string): IdempotencyBegin {
  if (text(row, 'request_hash') !== requestHash) return { state: 'mismatch' };
  const state = oneOf(row, 'state', ['in_flight', 'done'] as const);
  if (state === 'in_flight') return { state: 'in_flight' };
  return { state: 'done', status: int(row, 'response_status'), body: text(row, 'response_body') };
}
