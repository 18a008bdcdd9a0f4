/**
 * What every merchant operation on a payment shares: its dependencies and settings, the balance of a
 * payment, a new audit-trail row, and the answers for operations that did not happen or whose outcome is
 * unknown. The operations themselves: query.ts, refund.ts, void-capture.ts (both sent by send.ts), and the
 * background pass in sweep.ts.
 *
 * Each one is checked against what the store knows before the gateway is called (a refusal changes
 * nothing), recorded as an audit-trail operation (who, when, what, the gateway's answer), and reconciled
 * into the session afterwards through the gateway's Query Transaction answer — the same path an IPN takes.
 *
 * Only evidence settles money. A refund, void or capture is `succeeded` on its own success answer or on a
 * query answer that shows it; `failed` on a definite refusal of its first send, or on a query answer (asked
 * after its last send ended) that shows it did not happen. Anything else — a timeout, a reset, a 5xx, a reply
 * whose signature does not verify, a refusal of a re-send — leaves it `unknown`: a refund's amount stays
 * reserved, the merchant is told, and the background pass (sweep.ts `reconcileOperations`) asks the
 * gateway, with backoff, until its answer settles it.
 */

import { createHash } from 'node:crypto';
import { newRequestId } from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import type { GatewayClient } from '../gateway/client.js';
import type { GatewayError } from '../gateway/errors.js';
import type { Logger } from '../logger.js';
import { randomId } from '../payments/ids.js';
import type { NewOperation, Operation, OperationKind, Session, Store } from '../store/store.js';

export interface OperationsDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
  /** How long after the payment a refund is allowed. Galaxy Pay documents one year. */
  refundWindowMs: number;
  /** Which `orderID` refunds, voids and captures carry. Default `per-operation`. */
  managementOrderId?: ManagementOrderId;
}

/**
 * The `orderID` a refund, void or capture sends (docs/gateway-fidelity.md, M1–M5). Galaxy Pay calls it
 * "Transaction ID at Merchant" and shows no rule; its refund example and its API playground send a fresh id.
 * - `per-operation` (default): each operation gets a reference of its own, made once and kept with it: a
 *   re-send of the same operation carries the same one (the gateway can recognise a retry), and two partial
 *   refunds of equal amounts carry different ones (neither can be refused as a duplicate of the other).
 * - `original`: every operation sends the payment's own orderID (if UAT shows the gateway requires it).
 */
export type ManagementOrderId = 'per-operation' | 'original';
export const DEFAULT_MANAGEMENT_ORDER_ID: ManagementOrderId = 'per-operation';

/** The `orderID` a new refund, void or capture will send (and every re-send of it). */
export function managementReference(deps: OperationsDeps, session: Session): string {
  const mode = deps.managementOrderId ?? DEFAULT_MANAGEMENT_ORDER_ID;
  return mode === 'original' ? session.gatewayOrderId : newRequestId();
}

/**
 * What the background pass does with an authorization that auto capture never asked for (the gateway
 * answered `authorized` to an auto-capture checkout): capture it, or void it.
 */
export type UnexpectedAuthorization = 'capture' | 'void';

/**
 * Default `void`: the one action that cannot take money wrongly. The order stays unpaid and can be paid
 * again, and the merchant is told (`authorized`, then `voided`); a capture is opt-in.
 */
export const DEFAULT_UNEXPECTED_AUTHORIZATION: UnexpectedAuthorization = 'void';

export interface OperationsSweepDeps extends OperationsDeps {
  unexpectedAuthorization: UnexpectedAuthorization;
}

/** Galaxy Pay: refunds within one year of the original transaction (§7.10). */
export const DEFAULT_REFUND_WINDOW_MS = 365 * 24 * 3600 * 1000;

/** Who the signer's own operations are recorded as. */
export const SYSTEM_OPERATOR = 'system';

/**
 * A send still `pending` after this long lost its process mid-call (a send takes at most a few gateway
 * timeouts): its outcome is unknown from then on, and the gateway is asked.
 */
export const PENDING_LEASE_MS = 5 * 60_000;

/** How long to wait before asking the gateway again about an unknown operation: 15 s, 30 s … 1 h. */
export function operationCheckDelayMs(checks: number): number {
  return Math.min(15_000 * 2 ** Math.max(0, checks - 1), 3_600_000);
}

/** A session with what has been captured and refunded so far. */
export interface PaymentBalance {
  captured: number;
  refunded: number;
  /** Refunds whose outcome is not known yet (still reserved). */
  refundPending: number;
  refundable: number;
}

/** What is captured and refunded on a session, from its operations. */
export function balanceOf(session: Session, operations: readonly Operation[]): PaymentBalance {
  const capture = operations.find(op => op.kind === 'capture' && op.state === 'succeeded');
  const captured =
    session.status === 'paid' ? (capture?.amount ?? session.amount) : (capture?.amount ?? 0);
  const refunds = operations.filter(op => op.kind === 'refund');
  const sum = (ops: Operation[]) => ops.reduce((total, op) => total + (op.amount ?? 0), 0);
  const refunded = sum(refunds.filter(op => op.state === 'succeeded'));
  const refundPending = sum(refunds.filter(op => op.state === 'pending' || op.state === 'unknown'));
  return { captured, refunded, refundPending, refundable: captured - refunded - refundPending };
}

/** What an unknown operation means, in words (admin API, CLI). */
export const UNKNOWN_NOTE =
  'The gateway did not give an answer we can trust (timeout, reset, server error or bad signature): ' +
  'this operation may or may not have happened. A refund keeps its amount reserved. The signer asks the ' +
  'gateway again, with backoff, and records the outcome as soon as the gateway shows it.';

/** A hash of what an idempotency key was used for: another request under the same key is refused. */
export function operationHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function newOperation(
  deps: OperationsDeps,
  kind: OperationKind,
  fields: Partial<NewOperation> & { operator: string },
): NewOperation {
  return {
    id: randomId(),
    sessionId: null,
    kind,
    amount: null,
    idempotencyKey: null,
    requestHash: null,
    gatewayRequestId: newRequestId(),
    gatewayRef: null,
    detail: null,
    createdAt: deps.now(),
    ...fields,
  };
}

export interface OperationResult {
  operation: Operation;
  session: Session;
  /** True when an earlier request with the same Idempotency-Key is being answered again. */
  replayed: boolean;
}

/** Codes by which the gateway answered and refused: on a first send, nothing happened. */
export const REFUSALS = new Set(['gateway_rejected', 'gateway_duplicate', 'gateway_auth_failed']);

/** The answer to a call that definitely did nothing (refused by the gateway, or never sent). */
export function gatewayRefusal(error: GatewayError): HttpError {
  if (error.code === 'gateway_rejected' || error.code === 'gateway_duplicate') {
    return new HttpError(
      422,
      'gateway_refused',
      `the gateway refused: ${error.responseCode ?? ''} ${error.responseMessage ?? ''}`.trim(),
    );
  }
  if (error.code === 'upstream_timeout') {
    return new HttpError(
      504,
      'upstream_timeout',
      'the gateway did not answer in time; try again later',
    );
  }
  if (error.code === 'circuit_open') {
    return new HttpError(503, 'gateway_unavailable', 'the gateway is paused; try again shortly', {
      'retry-after': String(error.retryAfterSeconds ?? 30),
    });
  }
  return new HttpError(502, error.code, 'the gateway call failed; try again later');
}

/** The answer to an operation whose outcome is unknown: 504 after a timeout, 502 otherwise. */
export function unknownOutcome(error: GatewayError, op: Operation): HttpError {
  return new HttpError(
    error.code === 'upstream_timeout' ? 504 : 502,
    'outcome_unknown',
    `the gateway gave no answer we can trust (${error.code}): whether ${op.kind} ${op.id} happened is ` +
      `unknown. It is being checked with the gateway${op.kind === 'refund' ? ' and its amount stays reserved' : ''}; ` +
      'see GET /admin/orders/{orderRef}, or retry with the same Idempotency-Key',
  );
}

/** The answer to a repeat of an operation that failed: the same outcome, nothing sent again. */
export function failedAnswer(op: Operation): HttpError {
  if (op.responseCode === null) {
    return new HttpError(
      422,
      'operation_not_sent',
      `this ${op.kind} never reached the gateway (${op.detail ?? 'not sent'}): nothing happened; ` +
        'send a new Idempotency-Key to try again',
    );
  }
  return new HttpError(
    422,
    'gateway_refused',
    `this ${op.kind} did not happen (gateway ${`${op.responseCode} ${op.responseMessage ?? ''}`.trim()}); ` +
      'send a new Idempotency-Key to try again',
  );
}

/** An audit row for an operation that is not a gateway money call (link created, card deleted). */
export async function recordAudit(
  deps: Pick<OperationsDeps, 'store' | 'now'>,
  kind: 'link_create' | 'token_delete',
  operator: string,
  detail: string,
): Promise<void> {
  await deps.store.beginOperation({
    id: randomId(),
    sessionId: null,
    kind,
    amount: null,
    state: 'succeeded',
    idempotencyKey: null,
    requestHash: null,
    operator,
    gatewayRequestId: null,
    gatewayRef: null,
    detail: detail.slice(0, 200),
    createdAt: deps.now(),
  });
}
