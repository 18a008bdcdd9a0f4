/**
 * Voids and captures of an authorized payment (manual capture): at most one of the two, once, and a capture
 * never more than was authorized.
 */

import { HttpError } from '../http/errors.js';
import type { Session } from '../store/store.js';
import {
  managementReference,
  newOperation,
  operationHash,
  type OperationResult,
  type OperationsDeps,
} from './common.js';
import { repeat, send } from './send.js';

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
