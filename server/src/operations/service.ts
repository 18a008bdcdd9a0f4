/**
 * Merchant operations on a payment: query, refund, void, capture. Each one is checked against what the store
 * knows before the gateway is called (a refusal changes nothing), recorded as an audit-trail operation
 * (who, when, what, the gateway's answer), and reconciled into the session afterwards through the gateway's
 * Query Transaction answer — the same path an IPN takes.
 */

import { createHash } from 'node:crypto';
import {
  formatGatewayDateTime,
  newRequestId,
  type ManagementRequestData,
  type QueryResponseData,
} from '@galaxy-pay/protocol';
import { randomId } from '../checkout.js';
import { HttpError } from '../errors.js';
import { GatewayError, type GatewayClient } from '../gateway-client.js';
import type { Logger } from '../logger.js';
import { reportFromQuery, settle } from '../settlement.js';
import type { NewOperation, Operation, OperationKind, Session, Store } from '../store/store.js';

export interface OperationsDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
  /** How long after the payment a refund is allowed. Galaxy Pay documents one year. */
  refundWindowMs: number;
}

/** Galaxy Pay: refunds within one year of the original transaction (§7.10). */
export const DEFAULT_REFUND_WINDOW_MS = 365 * 24 * 3600 * 1000;

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

/** The JSON an operation is shown as: never the raw gateway text, which stays in the store for audit. */
export function operationView(op: Operation) {
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    amount: op.amount,
    operator: op.operator,
    sessionId: op.sessionId,
    idempotencyKey: op.idempotencyKey,
    gatewayRequestId: op.gatewayRequestId,
    gatewayRef: op.gatewayRef,
    responseCode: op.responseCode,
    responseMessage: op.responseMessage,
    detail: op.detail,
    createdAt: op.createdAt.toISOString(),
    updatedAt: op.updatedAt.toISOString(),
  };
}

/** A hash of what an idempotency key was used for: another request under the same key is refused. */
export function operationHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function newOperation(
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

/** The gateway's refusal, as the admin sees it: a 4xx naming what the gateway said (sanitized by the client). */
function gatewayRefusal(error: GatewayError): HttpError {
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
      'the gateway did not answer in time; the outcome is unknown — retry with the same Idempotency-Key or query',
    );
  }
  if (error.code === 'circuit_open') {
    return new HttpError(503, 'gateway_unavailable', 'the gateway is paused; try again shortly', {
      'retry-after': String(error.retryAfterSeconds ?? 30),
    });
  }
  return new HttpError(502, error.code, 'the gateway call failed; try again later');
}

/** Whether a failed call definitely did nothing at the gateway (a refusal), or may have (in doubt). */
function definite(error: GatewayError): boolean {
  return (
    error.code === 'gateway_rejected' ||
    error.code === 'gateway_auth_failed' ||
    error.code === 'circuit_open' ||
    !error.mayHaveReachedGateway
  );
}

/**
 * Queries the gateway about a session, records it as an operation, and applies the answer (one atomic
 * transition, as an IPN would). Returns the session as it now stands and the gateway's data.
 */
export async function querySession(
  deps: OperationsDeps,
  session: Session,
  operator: string,
  kind: OperationKind = 'query',
): Promise<{ session: Session; gateway: QueryResponseData | null; operation: Operation }> {
  if (session.transactionId === null) {
    throw new HttpError(409, 'no_transaction', 'this session never reached the gateway');
  }
  const begun = await deps.store.beginOperation(
    newOperation(deps, kind, { sessionId: session.id, operator }),
  );
  if (begun.state !== 'started') throw new Error('an unguarded operation always starts');
  const op = begun.operation;
  try {
    const reply = await deps.gateway.query(session.transactionId);
    const data = reply.responseData ?? null;
    const after = data ? await settle(deps, reportFromQuery(reply.rawBody, data)) : null;
    const operation = await deps.store.finishOperation(
      op.id,
      {
        state: 'succeeded',
        responseCode: data?.transactionStatus ?? reply.responseCode,
        responseMessage: data?.transactionDescription ?? reply.responseMessage,
        raw: reply.rawBody,
      },
      deps.now(),
    );
    return { session: after?.session ?? session, gateway: data, operation };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    await deps.store.finishOperation(
      op.id,
      {
        state: 'failed',
        responseCode: error.responseCode ?? null,
        responseMessage: error.responseMessage ?? null,
        raw: null,
        detail: error.code,
      },
      deps.now(),
    );
    throw gatewayRefusal(error);
  }
}

/** Re-reads the session after an operation through the gateway's query (best effort). */
async function reconcileAfter(deps: OperationsDeps, session: Session, operator: string) {
  try {
    return (await querySession(deps, session, operator, 'reconcile')).session;
  } catch (error) {
    deps.logger.warn(
      { sessionId: session.id, errorName: (error as Error).name },
      'could not reconcile after an operation; the next query will',
    );
    return (await deps.store.getSession(session.id)) ?? session;
  }
}

function managementData(
  session: Session,
  orderId: string,
  amount: number,
  at: Date,
  description: string,
): ManagementRequestData {
  return {
    transactionID: session.transactionId!,
    orderID: orderId,
    orderAmount: amount,
    orderCurrency: session.currency as 'VND',
    orderDateTime: formatGatewayDateTime(at),
    orderDescription: description.normalize('NFC').slice(0, 250),
  };
}

export interface OperationResult {
  operation: Operation;
  session: Session;
  /** True when an earlier request with the same Idempotency-Key is being answered again. */
  replayed: boolean;
}

/**
 * Refunds part or all of a captured payment. The amount is reserved atomically with the operation row
 * (cumulative refunds ≤ captured), so two concurrent refunds can never exceed it; a definite gateway
 * refusal releases it, an unknown outcome keeps it until a retry with the same key settles it.
 */
export async function refund(
  deps: OperationsDeps,
  session: Session,
  input: { amount: number; reason: string; idempotencyKey: string; operator: string },
): Promise<OperationResult> {
  const hash = operationHash({ session: session.id, amount: input.amount, reason: input.reason });
  if (session.status !== 'paid') {
    throw new HttpError(
      409,
      'not_captured',
      `only a captured (paid) payment can be refunded; this one is ${session.status}`,
    );
  }
  const paidAt = session.paidAt ?? session.updatedAt;
  if (deps.now().getTime() - paidAt.getTime() > deps.refundWindowMs) {
    throw new HttpError(
      409,
      'refund_window_closed',
      'refunds are allowed within one year of the payment',
    );
  }
  const operations = await deps.store.listOperations({ sessionId: session.id, limit: 1000 });
  const { captured } = balanceOf(session, operations);
  const begun = await deps.store.beginOperation(
    newOperation(deps, 'refund', {
      sessionId: session.id,
      amount: input.amount,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      operator: input.operator,
      // Our own reference for this refund (the gateway refuses the same one twice: a retry is safe).
      gatewayRef: newRequestId(),
      detail: input.reason,
    }),
    { maxTotal: captured },
  );
  if (begun.state === 'exceeds') {
    throw new HttpError(
      409,
      'refund_exceeds_captured',
      `refund of ${input.amount} is more than the ${Math.max(0, captured - begun.total)} left to refund`,
    );
  }
  if (begun.state === 'conflict') throw new Error('unexpected capture/void conflict on a refund');
  if (begun.state === 'exists') {
    const op = begun.operation;
    if (op.requestHash !== hash) {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key was used for another refund',
      );
    }
    if (op.state === 'pending') {
      throw new HttpError(409, 'request_in_progress', 'this refund is still being processed', {
        'retry-after': '1',
      });
    }
    if (op.state !== 'unknown') return { operation: op, session, replayed: true };
    // The first attempt's outcome is unknown: send the very same request again.
    return sendRefund(deps, session, op);
  }
  return sendRefund(deps, session, begun.operation);
}

async function sendRefund(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
): Promise<OperationResult> {
  const data = managementData(
    session,
    op.gatewayRef ?? session.gatewayOrderId,
    op.amount ?? 0,
    op.createdAt,
    `Refund ${session.orderRef}`,
  );
  return callManagement(deps, session, op, () =>
    deps.gateway.refund(data, { requestId: op.gatewayRequestId ?? undefined }),
  );
}

/** Runs one management call and records what came of it. */
async function callManagement(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
  call: () => Promise<{ responseCode: string; responseMessage: string; rawBody: string }>,
): Promise<OperationResult> {
  try {
    const reply = await call();
    const operation = await deps.store.finishOperation(
      op.id,
      {
        state: 'succeeded',
        responseCode: reply.responseCode,
        responseMessage: reply.responseMessage,
        raw: reply.rawBody,
      },
      deps.now(),
    );
    deps.logger.info(
      { operationId: op.id, kind: op.kind, sessionId: session.id, operator: op.operator },
      'merchant operation succeeded',
    );
    return {
      operation,
      session: await reconcileAfter(deps, session, op.operator),
      replayed: false,
    };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    // A repeated refund reference answered 409: the first attempt did go through.
    if (error.code === 'gateway_duplicate' && op.kind === 'refund' && op.state === 'unknown') {
      const operation = await deps.store.finishOperation(
        op.id,
        {
          state: 'succeeded',
          responseCode: error.responseCode ?? '409',
          responseMessage: error.responseMessage ?? null,
          raw: null,
          detail: 'confirmed by a duplicate answer',
        },
        deps.now(),
      );
      return { operation, session, replayed: false };
    }
    await deps.store.finishOperation(
      op.id,
      {
        state: definite(error) ? 'failed' : 'unknown',
        responseCode: error.responseCode ?? null,
        responseMessage: error.responseMessage ?? null,
        raw: null,
        detail: error.code,
      },
      deps.now(),
    );
    deps.logger.warn(
      { operationId: op.id, kind: op.kind, sessionId: session.id, code: error.code },
      'merchant operation not done by the gateway',
    );
    throw gatewayRefusal(error);
  }
}

/** Voids an authorized (not captured) payment, or captures it: at most one of the two, once. */
export async function voidOrCapture(
  deps: OperationsDeps,
  session: Session,
  input: { kind: 'void' | 'capture'; amount?: number; operator: string; idempotencyKey?: string },
): Promise<OperationResult> {
  if (session.status !== 'authorized') {
    const [status, code, message] =
      session.status === 'paid'
        ? input.kind === 'void'
          ? [409, 'already_captured', 'the payment is captured; refund it instead of voiding']
          : [409, 'already_captured', 'the payment is already captured']
        : session.status === 'voided'
          ? [409, 'already_voided', 'the authorization was voided']
          : [
              409,
              'not_authorized',
              `only an authorized payment can be ${input.kind === 'void' ? 'voided' : 'captured'}; this one is ${session.status}`,
            ];
    throw new HttpError(status as number, code as string, message as string);
  }
  const amount = input.kind === 'capture' ? (input.amount ?? session.amount) : session.amount;
  if (amount > session.amount) {
    throw new HttpError(
      409,
      'capture_exceeds_authorized',
      `capture of ${amount} is more than the ${session.amount} authorized`,
    );
  }
  const hash = operationHash({ session: session.id, kind: input.kind, amount });
  const begun = await deps.store.beginOperation(
    newOperation(deps, input.kind, {
      sessionId: session.id,
      amount,
      operator: input.operator,
      idempotencyKey: input.idempotencyKey ?? null,
      requestHash: hash,
    }),
    { exclusive: true },
  );
  if (begun.state === 'exists') {
    if (begun.operation.requestHash !== hash) {
      throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used before');
    }
    return { operation: begun.operation, session, replayed: true };
  }
  if (begun.state === 'conflict') {
    const other = begun.operation;
    const code =
      other.kind === 'capture'
        ? 'already_captured'
        : other.kind === 'void'
          ? 'already_voided'
          : 'operation_conflict';
    throw new HttpError(
      409,
      code,
      `a ${other.kind} of this payment is already ${other.state === 'pending' ? 'in progress' : other.state}`,
    );
  }
  if (begun.state === 'exceeds') throw new Error('unexpected guard result');
  const op = begun.operation;
  const data = managementData(
    session,
    session.gatewayOrderId,
    amount,
    op.createdAt,
    `${input.kind === 'void' ? 'Void' : 'Capture'} ${session.orderRef}`,
  );
  const requestId = op.gatewayRequestId ?? undefined;
  return callManagement(deps, session, op, () =>
    input.kind === 'void'
      ? deps.gateway.void(data, { requestId })
      : deps.gateway.capture(data, { requestId }),
  );
}
