/**
 * Admin handlers for orders: register one (so the browser only ever names an order the merchant has
 * priced), list recent payments, show an order with its payments and audit trail, list the operations, and
 * reconcile every stale pending session with the gateway. Behind the bearer check (routes.ts).
 */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { OperationsDeps } from '../../operations/common.js';
import { querySession } from '../../operations/query.js';
import { orderInputSchema, orderRefSchema, toOrder } from '../../payments/orders.js';
import { FINAL_STATUSES, type SessionStatus } from '../../store/store.js';
import { HttpError } from '../errors.js';
import { limitOf, operatorOf, parseBody } from '../validation.js';
import { adminSessionView, operationView, paymentView } from '../views.js';

const registerBody = orderInputSchema.extend({ orderRef: orderRefSchema });
const reconcileBody = z
  .strictObject({
    olderThanSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .optional(),
  })
  .optional();
const STATUSES: readonly string[] = [
  'pending',
  'pending_unknown',
  'authorized',
  ...FINAL_STATUSES,
] satisfies SessionStatus[];

export function adminOrderHandlers(
  deps: OperationsDeps,
): Record<'register' | 'list' | 'show' | 'reconcileStale' | 'operations', RequestHandler> {
  /** `POST /admin/orders`: register an order; its amount and currency never change afterwards. */
  const register: RequestHandler = async (req, res) => {
    const { orderRef, ...input } = parseBody(registerBody, req.body);
    let order;
    try {
      order = toOrder(orderRef, input, deps.now());
    } catch (error) {
      throw new HttpError(400, 'invalid_field', (error as Error).message);
    }
    const stored = await deps.store.putOrder(order);
    if (stored.amount !== order.amount || stored.currency !== order.currency) {
      throw new HttpError(
        409,
        'order_conflict',
        'this orderRef is already registered with another amount',
      );
    }
    res.status(201).json({
      orderRef: stored.orderRef,
      amount: stored.amount,
      currency: stored.currency,
      description: stored.description,
    });
  };

  /** `GET /admin/orders`: recent payments, newest first, optionally of one status. */
  const list: RequestHandler = async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new HttpError(400, 'invalid_field', `status must be one of ${STATUSES.join(', ')}`);
    }
    const sessions = await deps.store.listRecentSessions(limitOf(req), status);
    res.json({
      payments: sessions.map(adminSessionView),
    });
  };

  /** `GET /admin/orders/:orderRef`: the order, its payments and its audit trail. */
  const show: RequestHandler = async (req, res) => {
    const orderRef = String(req.params.orderRef);
    const order = orderRefSchema.safeParse(orderRef).success
      ? await deps.store.getOrder(orderRef)
      : null;
    if (!order) throw new HttpError(404, 'order_not_found', 'no such order');
    const sessions = await deps.store.listSessionsByOrder(orderRef);
    const payments = await Promise.all(sessions.map(session => paymentView(deps, session)));
    const operations = (
      await Promise.all(
        sessions.map(session => deps.store.listOperations({ sessionId: session.id, limit: 1000 })),
      )
    )
      .flat()
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    res.json({
      order: {
        orderRef: order.orderRef,
        amount: order.amount,
        currency: order.currency,
        description: order.description,
        createdAt: order.createdAt.toISOString(),
      },
      payments,
      operations: operations.map(op => operationView(op)),
    });
  };

  /** `POST /admin/reconcile`: query every pending session older than `olderThanSeconds` (default 60). */
  const reconcileStale: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const body = parseBody(reconcileBody, req.body ?? {});
    const before = new Date(deps.now().getTime() - (body?.olderThanSeconds ?? 60) * 1000);
    const stale = await deps.store.listStalePending(before, 200);
    const results = [];
    for (const session of stale) {
      if (session.transactionId === null) {
        results.push({
          sessionId: session.id,
          orderRef: session.orderRef,
          before: session.status,
          after: session.status,
          error: 'no_transaction',
        });
        continue;
      }
      try {
        const { session: after } = await querySession(deps, session, operator, 'reconcile');
        results.push({
          sessionId: session.id,
          orderRef: session.orderRef,
          before: session.status,
          after: after.status,
        });
      } catch (error) {
        const code = error instanceof HttpError ? error.code : 'internal_error';
        results.push({
          sessionId: session.id,
          orderRef: session.orderRef,
          before: session.status,
          after: session.status,
          error: code,
        });
      }
    }
    res.json({ checked: results.length, results });
  };

  /** `GET /admin/operations`: the audit trail, newest first. */
  const operations: RequestHandler = async (req, res) => {
    const found = await deps.store.listOperations({ limit: limitOf(req, 100) });
    res.json({ operations: found.map(op => operationView(op)) });
  };

  return { register, list, show, reconcileStale, operations };
}
