import {
  LINK_STATUSES,
  OPERATION_KINDS,
  OPERATION_STATES,
  type MoneyOperationKind,
  type Operation,
  type OperationEvent,
  type PaymentLink,
  type SavedCard,
} from './operation-types.js';
import { bool, date, dateOrNull, int, oneOf, text, textOrNull, type Row } from './rows.js';
import { sessionNotice } from './transitions.js';
import type { Session } from './types.js';

/** The kinds that move money at the gateway (and are told to the merchant). */
export const MONEY_OPERATION_KINDS: readonly MoneyOperationKind[] = ['refund', 'void', 'capture'];

/** The merchant's notice for an operation now in this state, if it gets one. */
export function operationEventOf(op: Pick<Operation, 'kind' | 'state'>): OperationEvent | null {
  if (!(MONEY_OPERATION_KINDS as readonly string[]).includes(op.kind)) return null;
  const kind = op.kind as MoneyOperationKind;
  switch (op.state) {
    case 'pending':
      return null;
    case 'succeeded':
      // A void's success moves the session to `voided`, which is told as the session's own event.
      return kind === 'refund' ? 'refunded' : kind === 'capture' ? 'captured' : null;
    case 'failed':
      return `${kind}_failed`;
    case 'unknown':
      return `${kind}_unknown`;
  }
}

/**
 * The outbox row of an operation's notice: `event` is `<event>:<operationId>` (unique per session, event
 * and operation, where a session's own events are unique per session and event), and the payload is the
 * session's notice plus the operation and the session's cumulative refunded amount, fixed at commit.
 */
export function operationOutbox(
  op: Operation,
  session: Session,
  refunded: number,
  at: Date,
): { event: string; payload: string } | null {
  const event = operationEventOf(op);
  if (event === null) return null;
  const payload = {
    ...sessionNotice(event, session, at),
    operation: {
      id: op.id,
      kind: op.kind,
      state: op.state,
      amount: op.amount,
      operator: op.operator,
      idempotencyKey: op.idempotencyKey,
      responseCode: op.responseCode,
    },
    refunded,
  };
  return { event: `${event}:${op.id}`, payload: JSON.stringify(payload) };
}

function intOrNull(row: Row, column: string): number | null {
  return row[column] === null ? null : int(row, column);
}

function jsonOf<T>(row: Row, column: string): T | null {
  const value = textOrNull(row, column);
  return value === null ? null : (JSON.parse(value) as T);
}

export function operationFromRow(row: Row): Operation {
  return {
    id: text(row, 'id'),
    sessionId: textOrNull(row, 'session_id'),
    kind: oneOf(row, 'kind', OPERATION_KINDS),
    amount: intOrNull(row, 'amount'),
    state: oneOf(row, 'state', OPERATION_STATES),
    idempotencyKey: textOrNull(row, 'idempotency_key'),
    requestHash: textOrNull(row, 'request_hash'),
    operator: text(row, 'operator'),
    gatewayRequestId: textOrNull(row, 'gateway_request_id'),
    gatewayRef: textOrNull(row, 'gateway_ref'),
    responseCode: textOrNull(row, 'response_code'),
    responseMessage: textOrNull(row, 'response_message'),
    raw: textOrNull(row, 'raw'),
    detail: textOrNull(row, 'detail'),
    createdAt: date(row, 'created_at'),
    updatedAt: date(row, 'updated_at'),
    checkCount: row.check_count === undefined ? 0 : int(row, 'check_count'),
    nextCheckAt: row.next_check_at === undefined ? null : dateOrNull(row, 'next_check_at'),
  };
}

export function cardFromRow(row: Row): SavedCard {
  return {
    id: text(row, 'id'),
    customerRef: text(row, 'customer_ref'),
    tokenDigest: text(row, 'token_digest'),
    tokenCiphertext: text(row, 'token_ciphertext'),
    keyId: text(row, 'key_id'),
    paymentMethod: text(row, 'payment_method'),
    brand: textOrNull(row, 'brand'),
    source: textOrNull(row, 'source'),
    maskedNumber: text(row, 'masked_number'),
    holderName: textOrNull(row, 'holder_name'),
    sessionId: textOrNull(row, 'session_id'),
    createdAt: date(row, 'created_at'),
    deletedAt: dateOrNull(row, 'deleted_at'),
  };
}

export function linkFromRow(row: Row): PaymentLink {
  return {
    orderNo: text(row, 'order_no'),
    linkRef: text(row, 'link_ref'),
    name: text(row, 'name'),
    description: text(row, 'description'),
    amount: int(row, 'amount'),
    currency: text(row, 'currency'),
    methods: jsonOf<string[]>(row, 'methods') ?? [],
    fields: jsonOf<string[]>(row, 'fields') ?? [],
    shortLink: text(row, 'short_link'),
    status: oneOf(row, 'status', LINK_STATUSES),
    late: bool(row, 'late'),
    payer: jsonOf<Record<string, string>>(row, 'payer'),
    paidAmount: intOrNull(row, 'paid_amount'),
    raw: textOrNull(row, 'raw'),
    detail: textOrNull(row, 'detail'),
    operator: text(row, 'operator'),
    createdAt: date(row, 'created_at'),
    expiresAt: date(row, 'expires_at'),
    paidAt: dateOrNull(row, 'paid_at'),
    updatedAt: date(row, 'updated_at'),
  };
}
