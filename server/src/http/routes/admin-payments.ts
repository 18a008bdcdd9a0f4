/**
 * Admin handlers acting on an order's payment: query the gateway now, refund, void, capture. Each answers
 * with the operation (the audit-trail row) and the payment as it now stands. Behind the bearer check.
 */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { OperationsDeps } from '../../operations/common.js';
import { querySession } from '../../operations/query.js';
import { refund } from '../../operations/refund.js';
import { voidOrCapture } from '../../operations/void-capture.js';
import { orderRefSchema } from '../../payments/orders.js';
import type { Session } from '../../store/store.js';
import { HttpError } from '../errors.js';
import { idempotencyKeyOf, operatorOf, parseBody } from '../validation.js';
import { operationView, paymentView } from '../views.js';

const amount = z.number().int().min(1).max(100_000_000_000);
const refundBody = z.strictObject({ amount, reason: z.string().min(1).max(200).optional() });
const captureBody = z.strictObject({ amount: amount.optional() }).optional();

/** The session an operation on an order acts on: the paid or authorized one, else the newest. */
async function targetSession(deps: OperationsDeps, orderRef: string): Promise<Session> {
  if (!orderRefSchema.safeParse(orderRef).success) {
    throw new HttpError(404, 'order_not_found', 'no such order');
  }
  const paid = await deps.store.findPaidSession(orderRef);
  if (paid) return paid;
  const [newest] = await deps.store.listSessionsByOrder(orderRef);
  if (!newest) throw new HttpError(404, 'order_not_found', 'no payment for this order');
  return newest;
}

export function adminPaymentHandlers(
  deps: OperationsDeps,
): Record<'query' | 'refund' | 'void' | 'capture', RequestHandler> {
  /** `POST /admin/orders/:orderRef/query`: ask the gateway now and apply its answer. */
  const query: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const session = await targetSession(deps, String(req.params.orderRef));
    const result = await querySession(deps, session, operator);
    res.json({
      payment: await paymentView(deps, result.session),
      gateway: result.gateway,
      operation: operationView(result.operation),
    });
  };

  /** `POST /admin/orders/:orderRef/refund`: part or all of a captured payment, once per Idempotency-Key. */
  const refundPayment: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const key = idempotencyKeyOf(req, true)!;
    const body = parseBody(refundBody, req.body ?? {});
    const session = await targetSession(deps, String(req.params.orderRef));
    const result = await refund(deps, session, {
      amount: body.amount,
      reason: body.reason ?? 'refund',
      idempotencyKey: key,
      operator,
    });
    res
      .status(result.replayed ? 200 : 201)
      .set(result.replayed ? { 'idempotent-replayed': 'true' } : {})
      .json({
        operation: operationView(result.operation),
        payment: await paymentView(deps, result.session),
      });
  };

  /** `POST /admin/orders/:orderRef/void` or `…/capture`: of an authorized payment, at most one, once. */
  const voidOrCapturePayment =
    (kind: 'void' | 'capture'): RequestHandler =>
    async (req, res) => {
      const operator = operatorOf(req);
      const key = idempotencyKeyOf(req, false);
      const body = kind === 'capture' ? parseBody(captureBody, req.body ?? {}) : undefined;
      const session = await targetSession(deps, String(req.params.orderRef));
      const result = await voidOrCapture(deps, session, {
        kind,
        amount: body?.amount,
        operator,
        idempotencyKey: key,
      });
      res.status(result.replayed ? 200 : 201).json({
        operation: operationView(result.operation),
        payment: await paymentView(deps, result.session),
      });
    };

  return {
    query,
    refund: refundPayment,
    void: voidOrCapturePayment('void'),
    capture: voidOrCapturePayment('capture'),
  };
}
