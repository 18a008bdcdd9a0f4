/**
 * Refunds: part or all of a captured payment, within the refund window, never more than is left (the
 * amount is reserved with the operation row), once per Idempotency-Key.
 */

import { HttpError } from '../http/errors.js';
import type { Session } from '../store/store.js';
import {
  balanceOf,
  managementReference,
  newOperation,
  operationHash,
  type OperationResult,
  type OperationsDeps,
} from './common.js';
import { repeat, send } from './send.js';

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
