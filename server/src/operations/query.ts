/**
 * Query Transaction as a merchant operation: ask the gateway about a session, record the question in the
 * audit trail, apply the answer as an IPN would, and settle the session's refunds, voids and captures whose
 * outcome was unknown where the answer shows what happened.
 */

import {
  classifyTransactionStatus,
  numericText,
  type QueryResponseData,
} from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import { GatewayError } from '../gateway/errors.js';
import { reportFromQuery, settle } from '../payments/settlement.js';
import type { Operation, OperationKind, OperationOutcome, Session } from '../store/store.js';
import { gatewayRefusal, newOperation, type OperationsDeps } from './common.js';

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
export async function reconcileAfter(deps: OperationsDeps, session: Session, operator: string) {
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
