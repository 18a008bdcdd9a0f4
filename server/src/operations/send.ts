/**
 * Sending a refund, void or capture to the gateway, and recording what came of it: succeeded, failed (a
 * definite refusal of its first send, or never sent) or unknown (the query decides later). A repeat under
 * the same Idempotency-Key answers the recorded outcome, or re-sends the very same request when unknown.
 */

import { formatGatewayDateTime, type ManagementRequestData } from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import { GatewayError } from '../gateway/errors.js';
import type { Operation, Session } from '../store/store.js';
import {
  failedAnswer,
  gatewayRefusal,
  REFUSALS,
  unknownOutcome,
  type OperationResult,
  type OperationsDeps,
} from './common.js';
import { reconcileAfter } from './query.js';

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

/** A request whose Idempotency-Key is known: its outcome again, or (unknown) the same request re-sent. */
export async function repeat(
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
export function send(
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
export async function followSession(
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
