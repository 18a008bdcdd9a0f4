/**
 * Merchant operations on a payment: query, refund, void, capture. Each one is checked against what the store
 * knows before the gateway is called (a refusal changes nothing), recorded as an audit-trail operation
 * (who, when, what, the gateway's answer), and reconciled into the session afterwards through the gateway's
 * Query Transaction answer — the same path an IPN takes.
 *
 * Only evidence settles money. A refund, void or capture is `succeeded` on its own success answer or on a
 * query answer that shows it; `failed` on a definite refusal of its first send, or on a query answer (asked
 * after its last send ended) that shows it did not happen. Anything else — a timeout, a reset, a 5xx, a reply
 * whose signature does not verify, a refusal of a re-send — leaves it `unknown`: a refund's amount stays
 * reserved, the merchant is told, and the background pass ({@link reconcileOperations}) asks the gateway,
 * with backoff, until its answer settles it.
 */

import { createHash } from 'node:crypto';
import {
  classifyTransactionStatus,
  formatGatewayDateTime,
  newRequestId,
  numericText,
  type ManagementRequestData,
  type QueryResponseData,
} from '@galaxy-pay/protocol';
import { randomId } from '../checkout.js';
import { HttpError } from '../errors.js';
import { GatewayError, type GatewayClient } from '../gateway-client.js';
import type { Logger } from '../logger.js';
import { reportFromQuery, settle } from '../settlement.js';
import type {
  NewOperation,
  Operation,
  OperationKind,
  OperationOutcome,
  Session,
  Store,
} from '../store/store.js';

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
function managementReference(deps: OperationsDeps, session: Session): string {
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
    ...(op.state === 'unknown'
      ? {
          note: UNKNOWN_NOTE,
          checks: op.checkCount,
          nextCheckAt: op.nextCheckAt?.toISOString() ?? null,
        }
      : {}),
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

/** Codes by which the gateway answered and refused: on a first send, nothing happened. */
const REFUSALS = new Set(['gateway_rejected', 'gateway_duplicate', 'gateway_auth_failed']);

/** The answer to a call that definitely did nothing (refused by the gateway, or never sent). */
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
function unknownOutcome(error: GatewayError, op: Operation): HttpError {
  return new HttpError(
    error.code === 'upstream_timeout' ? 504 : 502,
    'outcome_unknown',
    `the gateway gave no answer we can trust (${error.code}): whether ${op.kind} ${op.id} happened is ` +
      `unknown. It is being checked with the gateway${op.kind === 'refund' ? ' and its amount stays reserved' : ''}; ` +
      'see GET /admin/orders/{orderRef}, or retry with the same Idempotency-Key',
  );
}

/** The answer to a repeat of an operation that failed: the same outcome, nothing sent again. */
function failedAnswer(op: Operation): HttpError {
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

/**
 * Queries the gateway about a session, records it as an operation, and applies the answer (one atomic
 * transition, as an IPN would); refunds, voids and captures of the session whose outcome is unknown are
 * settled by it where it shows what happened. Returns the session as it now stands and the gateway's data.
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
  // Any send that ended before this moment is in the answer, if it happened at all.
  const askedAt = deps.now();
  try {
    const reply = await deps.gateway.query(session.transactionId);
    const data = reply.responseData ?? null;
    const after = data ? await settle(deps, reportFromQuery(reply.rawBody, data)) : null;
    let current = after?.session ?? session;
    if (data) current = await settleOperations(deps, current, data, reply.rawBody, askedAt);
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
    return { session: current, gateway: data, operation };
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

/** A money amount the query answer carries, or undefined when it is absent or not a whole number. */
function amountField(value: unknown): number | undefined {
  const text = numericText(value);
  return text === undefined ? undefined : Number(text);
}

/**
 * Which of `candidates` (refunds not yet known) make up `surplus` (what the gateway has refunded beyond our
 * succeeded refunds): true for a refund in every combination that adds up, false for one in none; a refund
 * some combinations hold and others do not stays undecided, and so does every refund when none adds up.
 */
export function matchRefunds(
  candidates: ReadonlyArray<{ id: string; amount: number }>,
  surplus: number,
): Map<string, boolean> {
  const decided = new Map<string, boolean>();
  const total = candidates.reduce((sum, op) => sum + op.amount, 0);
  if (surplus < 0 || surplus > total) return decided;
  if (candidates.length > 16) {
    // Too many to try every combination: only "none of them" and "all of them" are certain.
    if (surplus === 0) for (const op of candidates) decided.set(op.id, false);
    else if (surplus === total) for (const op of candidates) decided.set(op.id, true);
    return decided;
  }
  const inEvery = candidates.map(() => true);
  const inNone = candidates.map(() => true);
  let matches = 0;
  for (let mask = 0; mask < 2 ** candidates.length; mask++) {
    let sum = 0;
    candidates.forEach((op, i) => {
      if (mask & (1 << i)) sum += op.amount;
    });
    if (sum !== surplus) continue;
    matches++;
    candidates.forEach((_, i) => {
      if (mask & (1 << i)) inNone[i] = false;
      else inEvery[i] = false;
    });
  }
  if (matches === 0) return decided;
  candidates.forEach((op, i) => {
    if (inEvery[i]) decided.set(op.id, true);
    else if (inNone[i]) decided.set(op.id, false);
  });
  return decided;
}

/** Far enough in the future that every update is before it (and still a 4-digit year: ISO text compares). */
const ANY_TIME = new Date('9999-12-31T23:59:59.999Z');

/**
 * Settles the session's unknown refunds, voids and captures from a verified query answer asked at
 * `askedAt`. "It happened" needs only the answer; "it did not happen" also needs the operation's last send
 * to have ended before the question was asked (checked atomically in the store, so a send under way or
 * ended since is never judged by an older answer). Returns the session as it now stands.
 *
 * `refundedAmount` and `capturedAmount` are in the sandbox's query answer but not in Galaxy Pay's guides
 * (§7.9 documents no such fields): they are evidence when present; when absent, unknown refunds stay
 * unknown (`transactionStatus`, which is documented, still settles voids and captures).
 */
export async function settleOperations(
  deps: OperationsDeps,
  session: Session,
  data: QueryResponseData,
  raw: string,
  askedAt: Date,
): Promise<Session> {
  const operations = await deps.store.listOperations({ sessionId: session.id, limit: 1000 });
  if (!operations.some(op => op.state === 'unknown' && isMoney(op))) return session;
  const decide = async (op: Operation, happened: boolean, why: string) => {
    const outcome: OperationOutcome = {
      state: happened ? 'succeeded' : 'failed',
      responseCode: data.transactionStatus,
      responseMessage: data.transactionDescription ?? null,
      raw,
      detail: `settled by query: ${why}`.slice(0, 200),
    };
    const expect = { state: 'unknown' as const, notUpdatedAfter: happened ? ANY_TIME : askedAt };
    const settled = await deps.store.finishOperation(op.id, outcome, deps.now(), expect);
    if (settled.state === outcome.state && settled.updatedAt > op.updatedAt) {
      deps.logger.info(
        { operationId: op.id, kind: op.kind, sessionId: session.id, state: settled.state },
        'unknown operation settled by the gateway query',
      );
    }
  };

  const refunds = operations.filter(op => op.kind === 'refund');
  const gatewayRefunded = amountField(data.refundedAmount);
  if (gatewayRefunded !== undefined && refunds.some(op => op.state === 'unknown')) {
    const succeeded = refunds
      .filter(op => op.state === 'succeeded')
      .reduce((sum, op) => sum + (op.amount ?? 0), 0);
    // A send under way may be in the gateway's total too: it is a candidate, never decided here.
    const open = refunds.filter(op => op.state === 'unknown' || op.state === 'pending');
    const surplus = gatewayRefunded - succeeded;
    const decided = matchRefunds(
      open.map(op => ({ id: op.id, amount: op.amount ?? 0 })),
      surplus,
    );
    if (decided.size === 0) {
      deps.logger.warn(
        { sessionId: session.id, gatewayRefunded, succeeded, open: open.length },
        'the gateway refunded amount does not single out the unknown refunds; they stay unknown',
      );
    }
    for (const op of open) {
      const happened = decided.get(op.id);
      if (op.state !== 'unknown' || happened === undefined) continue;
      await decide(op, happened, `gateway refundedAmount ${gatewayRefunded}`);
    }
  }

  const outcome = classifyTransactionStatus(data.transactionStatus);
  const captured = amountField(data.capturedAmount);
  for (const op of operations) {
    if (op.state !== 'unknown' || (op.kind !== 'capture' && op.kind !== 'void')) continue;
    const why = `transactionStatus ${data.transactionStatus}`;
    if (op.kind === 'capture') {
      // Captured, unless the (undocumented) capturedAmount, when present, says nothing was.
      if (outcome === 'paid' && captured !== 0) await decide(op, true, why);
      else if (outcome === 'authorized' || outcome === 'voided') await decide(op, false, why);
    } else if (outcome === 'voided') {
      await decide(op, true, why);
    } else if (outcome === 'authorized' || outcome === 'paid') {
      await decide(op, false, why);
    }
  }
  return (await deps.store.getSession(session.id)) ?? session;
}

function isMoney(op: Operation): boolean {
  return op.kind === 'refund' || op.kind === 'void' || op.kind === 'capture';
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
 * refusal releases it, an unknown outcome keeps it until evidence settles it.
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
      // The orderID this refund sends, every time it is sent (per-operation: the gateway refuses the same
      // reference twice, so a re-send cannot refund twice).
      gatewayRef: managementReference(deps, session),
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
    if (begun.operation.requestHash !== hash) {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key was used for another refund',
      );
    }
    return repeat(deps, session, begun.operation);
  }
  return send(deps, session, begun.operation, false);
}

/** A request whose Idempotency-Key is known: its outcome again, or (unknown) the same request re-sent. */
async function repeat(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
): Promise<OperationResult> {
  if (op.state === 'succeeded') return { operation: op, session, replayed: true };
  if (op.state === 'failed') throw failedAnswer(op);
  const claimed =
    op.state === 'unknown' ? await deps.store.claimOperation(op.id, deps.now()) : null;
  if (claimed) return send(deps, session, claimed, true);
  const current = (await deps.store.getOperation(op.id)) ?? op;
  if (current.state === 'succeeded') return { operation: current, session, replayed: true };
  if (current.state === 'failed') throw failedAnswer(current);
  throw new HttpError(409, 'request_in_progress', `this ${op.kind} is still being processed`, {
    'retry-after': '1',
  });
}

/** Sends a refund, void or capture (the very same request again when `resend`). */
function send(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
  resend: boolean,
): Promise<OperationResult> {
  const requestId = op.gatewayRequestId ?? undefined;
  if (op.kind === 'refund') {
    const data = managementData(
      session,
      op.gatewayRef ?? session.gatewayOrderId,
      op.amount ?? 0,
      op.createdAt,
      `Refund ${session.orderRef}`,
    );
    return callManagement(deps, session, op, resend, () =>
      deps.gateway.refund(data, { requestId }),
    );
  }
  const data = managementData(
    session,
    op.gatewayRef ?? session.gatewayOrderId,
    op.amount ?? session.amount,
    op.createdAt,
    `${op.kind === 'void' ? 'Void' : 'Capture'} ${session.orderRef}`,
  );
  return callManagement(deps, session, op, resend, () =>
    op.kind === 'void'
      ? deps.gateway.void(data, { requestId })
      : deps.gateway.capture(data, { requestId }),
  );
}

/**
 * Runs one management call and records what came of it: `succeeded` on its success answer; `failed` when
 * a first send was refused or never left; otherwise `unknown`. A re-send's refusal is ambiguous (a 409
 * duplicate or "more than is left" may be the gateway recognizing the first send): the gateway answered,
 * so nothing of ours is still under way there, and its query decides at once.
 */
async function callManagement(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
  resend: boolean,
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
    const moved =
      operation.state === 'succeeded' ? await followSession(deps, session, operation) : session;
    return {
      operation,
      session: await reconcileAfter(deps, moved, op.operator),
      replayed: false,
    };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const notSent = error.code === 'circuit_open' || !error.mayHaveReachedGateway;
    const refused = REFUSALS.has(error.code);
    const state = !resend && (notSent || refused) ? 'failed' : 'unknown';
    const operation = await deps.store.finishOperation(
      op.id,
      {
        state,
        responseCode: error.responseCode ?? null,
        responseMessage: error.responseMessage ?? null,
        raw: null,
        detail: error.code,
      },
      deps.now(),
    );
    deps.logger.warn(
      { operationId: op.id, kind: op.kind, sessionId: session.id, code: error.code, state, resend },
      state === 'failed'
        ? 'merchant operation not done by the gateway'
        : 'merchant operation outcome unknown; the gateway will be asked',
    );
    if (state === 'failed') throw gatewayRefusal(error);
    if (resend && refused) {
      const checked = await reconcileAfter(deps, session, op.operator);
      const current = (await deps.store.getOperation(op.id)) ?? operation;
      if (current.state === 'succeeded')
        return { operation: current, session: checked, replayed: false };
      if (current.state === 'failed') throw failedAnswer(current);
    }
    throw unknownOutcome(error, operation);
  }
}

/**
 * A capture or void that succeeded moves its session at once (authorized → paid or voided), on the
 * operation's own verified answer: the session never waits for a query to show what we already know.
 */
async function followSession(
  deps: OperationsDeps,
  session: Session,
  op: Operation,
): Promise<Session> {
  if (op.kind !== 'capture' && op.kind !== 'void') return session;
  const at = deps.now();
  const evidence = {
    kind: 'operation' as const,
    transactionId: session.transactionId,
    code: op.kind === 'capture' ? '200' : '210',
    message: op.kind === 'capture' ? 'Transaction is captured.' : 'Transaction is voided.',
  };
  const result = await deps.store.transition(
    session.id,
    op.kind === 'capture' ? { to: 'paid', evidence, at } : { to: 'voided', evidence, at },
    {
      sessionId: session.id,
      kind: 'operation',
      transactionId: session.transactionId,
      raw: op.raw ?? '',
      verified: true,
      verdict: 'applied',
      detail: `${op.kind} ${op.id} by ${op.operator}`,
      receivedAt: at,
    },
  );
  return result.session;
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
      gatewayRef: managementReference(deps, session),
    }),
    { exclusive: true },
  );
  if (begun.state === 'exists') {
    if (begun.operation.requestHash !== hash) {
      throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used before');
    }
    return repeat(deps, session, begun.operation);
  }
  if (begun.state === 'conflict') {
    const other = begun.operation;
    if (other.state === 'unknown') {
      throw new HttpError(
        409,
        'operation_unknown',
        `a ${other.kind} of this payment (operation ${other.id}) got no answer we can trust: whether ` +
          'it happened is being checked with the gateway',
      );
    }
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
  return send(deps, session, begun.operation, false);
}

/**
 * One background pass: every refund, void and capture whose outcome is unknown (and due, after its
 * backoff) is settled by a query of its session where the answer shows what happened, else asked about
 * again later; then every authorization that auto capture never asked for is captured or voided.
 */
export async function reconcileOperations(deps: OperationsSweepDeps, limit = 50): Promise<void> {
  const now = deps.now();
  const due = await deps.store.listUnsettledOperations(
    now,
    new Date(now.getTime() - PENDING_LEASE_MS),
    limit,
  );
  const bySession = new Map<string, Operation[]>();
  for (const op of due) {
    if (op.sessionId === null) continue;
    if (op.state === 'pending') {
      // Its process stopped mid-call: no answer was recorded, so its outcome is unknown from now on.
      await deps.store.finishOperation(
        op.id,
        {
          state: 'unknown',
          responseCode: null,
          responseMessage: null,
          raw: null,
          detail: 'no answer recorded',
        },
        now,
        { state: 'pending', notUpdatedAfter: op.updatedAt },
      );
    }
    bySession.set(op.sessionId, [...(bySession.get(op.sessionId) ?? []), op]);
  }
  for (const [sessionId, ops] of bySession) {
    const session = await deps.store.getSession(sessionId);
    if (!session) continue;
    try {
      await querySession(deps, session, SYSTEM_OPERATOR, 'reconcile');
    } catch (error) {
      deps.logger.warn(
        { sessionId, code: (error as HttpError).code ?? (error as Error).name },
        'could not ask the gateway about unknown operations; will ask again',
      );
    }
    // Whatever the answer did not settle is asked about again later, less and less often.
    for (const op of ops) {
      const current = await deps.store.getOperation(op.id);
      if (current?.state !== 'unknown') continue;
      const checks = current.checkCount + 1;
      await deps.store.scheduleOperationCheck(
        op.id,
        checks,
        new Date(deps.now().getTime() + operationCheckDelayMs(checks)),
      );
    }
  }
  await resolveUnexpectedAuthorizations(deps, now);
}

/**
 * Auto capture never leaves money authorized: an `authorized` answer it did not ask for is captured or
 * voided (`unexpectedAuthorization`), once, as an operation by `system`, and the merchant is told. A
 * capture is never made for a session whose order has another payment, nor for an authorization that came
 * after the session had ended (the merchant has moved on): those are voided whatever the setting, and so is
 * one whose capture the gateway refused. A refused void is tried again with backoff.
 */
async function resolveUnexpectedAuthorizations(deps: OperationsSweepDeps, now: Date) {
  const sessions = await deps.store.listRecentSessions(500, 'authorized');
  for (const session of sessions) {
    if (session.plan?.capture === 'manual') continue;
    const operations = await deps.store.listOperations({ sessionId: session.id, limit: 1000 });
    const held = operations.filter(op => op.kind === 'capture' || op.kind === 'void');
    const done = held.find(op => op.state === 'succeeded');
    if (done) {
      // Its session move was lost (the process stopped in between): make it now.
      await followSession(deps, session, done);
      continue;
    }
    if (held.some(op => op.state !== 'failed')) continue; // under way, or unknown: being checked
    const failures = held.filter(op => op.operator === SYSTEM_OPERATOR);
    const last = failures[0];
    if (last && now.getTime() - last.updatedAt.getTime() < operationCheckDelayMs(failures.length)) {
      continue;
    }
    const kind = await unexpectedAuthorizationAction(deps, session, failures);
    try {
      const result = await voidOrCapture(deps, session, { kind, operator: SYSTEM_OPERATOR });
      deps.logger.info(
        { sessionId: session.id, kind, state: result.operation.state },
        'authorization that auto capture did not ask for resolved',
      );
    } catch (error) {
      deps.logger.warn(
        { sessionId: session.id, kind, code: (error as HttpError).code ?? (error as Error).name },
        'could not resolve an authorization that auto capture did not ask for; will try again',
      );
    }
  }
}

async function unexpectedAuthorizationAction(
  deps: OperationsSweepDeps,
  session: Session,
  failures: readonly Operation[],
): Promise<'capture' | 'void'> {
  if (deps.unexpectedAuthorization === 'void') return 'void';
  if (session.lateSuccess || failures.some(op => op.kind === 'capture')) return 'void';
  const order = await deps.store.listSessionsByOrder(session.orderRef);
  const another = order.some(
    other => other.id !== session.id && (other.status === 'paid' || other.status === 'authorized'),
  );
  return another ? 'void' : 'capture';
}

/** The background pass for the signer's sweep: one at a time (a slow pass is never run twice at once). */
export function operationsSweeper(deps: OperationsSweepDeps): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= reconcileOperations(deps)
      .catch(error =>
        deps.logger.warn(
          { errorName: (error as Error | undefined)?.name },
          'operations pass failed; will try at the next pass',
        ),
      )
      .finally(() => (running = undefined));
    return running;
  };
}
