/**
 * The operations' background pass: refunds, voids and captures whose outcome is unknown are asked about
 * with backoff until the gateway's answer settles them, and authorizations that auto capture never asked for
 * are captured or voided, never left held.
 */

import type { HttpError } from '../http/errors.js';
import type { Operation, Session } from '../store/store.js';
import {
  operationCheckDelayMs,
  PENDING_LEASE_MS,
  SYSTEM_OPERATOR,
  type OperationsSweepDeps,
} from './common.js';
import { querySession } from './query.js';
import { followSession } from './send.js';
import { voidOrCapture } from './void-capture.js';

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
