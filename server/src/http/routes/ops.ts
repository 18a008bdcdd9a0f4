/**
 * `/admin/*` merchant operations (mounted behind the bearer check of admin.ts): orders and their payments,
 * query, refund, void, capture, reconcile, customer handles, saved cards, FAST_PAY, payment links. Every
 * operation is recorded with who did it (`x-operator`), when, what, and the gateway's answer.
 */

import express, { type Request } from 'express';
import { z } from 'zod';
import { paymentLinkMethods } from '@galaxy-pay/protocol';
import { openSession, randomId, type CheckoutDeps } from '../checkout.js';
import { HttpError } from '../errors.js';
import { createLink, linkView, type LinkDeps } from '../links.js';
import {
  balanceOf,
  operationView,
  querySession,
  refund,
  UNKNOWN_NOTE,
  voidOrCapture,
  type OperationsDeps,
} from '../operations/service.js';
import { orderRefSchema } from '../orders.js';
import type { Session, SessionStatus } from '../store/store.js';
import { FINAL_STATUSES } from '../store/store.js';
import { cardOf, cardView, deleteCard, requireCards, type CardsDeps } from '../tokens/cards.js';
import {
  CUSTOMER_REF,
  MAX_HANDLE_TTL_SECONDS,
  mintCustomerHandle,
} from '../tokens/customer-handle.js';
import { sessionView, validationError } from './sessions.js';

export interface OpsDeps extends OperationsDeps, CardsDeps, LinkDeps {
  checkout: CheckoutDeps;
  /** Sessions opened from now on are authorize-only (capture or void from this API). */
  manualCapture: boolean;
}

const OPERATOR = /^[A-Za-z0-9_.@:+-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const amount = z.number().int().min(1).max(100_000_000_000);

/** Who is acting: the `x-operator` header (a person or system name), else `admin`. */
function operatorOf(req: Request): string {
  const given = req.get('x-operator');
  if (given === undefined) return 'admin';
  if (!OPERATOR.test(given)) {
    throw new HttpError(
      400,
      'invalid_operator',
      'x-operator must be 1-64 of A-Z a-z 0-9 _ . @ : + -',
    );
  }
  return given;
}

function idempotencyKeyOf(req: Request, required: boolean): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) {
    if (required) {
      throw new HttpError(
        400,
        'idempotency_key_required',
        'send an Idempotency-Key header: a retry with the same key never refunds twice',
      );
    }
    return undefined;
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-255 printable ASCII characters',
    );
  }
  return key;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw validationError(result.error, body);
  return result.data;
}

const refundBody = z.strictObject({ amount, reason: z.string().min(1).max(200).optional() });
const captureBody = z.strictObject({ amount: amount.optional() }).optional();
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
const handleBody = z.strictObject({
  customerRef: z
    .string()
    .regex(CUSTOMER_REF, 'customerRef must be 1-100 of A-Z a-z 0-9 _ . : @ + -'),
  ttlSeconds: z.number().int().min(60).max(MAX_HANDLE_TTL_SECONDS).optional(),
});
const fastPayBody = z.strictObject({
  orderRef: orderRefSchema,
  customerRef: z.string().regex(CUSTOMER_REF),
  tokenId: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
});
const linkBody = z.strictObject({
  name: z.string().min(1).max(250),
  description: z.string().min(1).max(250),
  amount,
  expiryDuration: z.number().int().min(1).max(10_000),
  expiryUnit: z.enum(['DAY', 'HOUR', 'MINUTE']).default('DAY'),
  methods: z
    .array(z.enum(paymentLinkMethods as unknown as [string, ...string[]]))
    .min(1)
    .max(10)
    .default(['GALAXYPAY', 'MPGS', 'QRPAY', 'NAPAS']),
  fields: z
    .array(z.enum(['email', 'fullname', 'phone', 'shippingAddress']))
    .max(4)
    .default([]),
  language: z.enum(['vi', 'en']).optional(),
});
const STATUSES: readonly string[] = [
  'pending',
  'pending_unknown',
  'authorized',
  ...FINAL_STATUSES,
] satisfies SessionStatus[];

function limitOf(req: Request, fallback = 50): number {
  const raw = req.query.limit;
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= 500))
    throw new HttpError(400, 'invalid_field', 'limit must be 1-500');
  return value;
}

/** The session an operation on an order acts on: the paid or authorized one, else the newest. */
async function targetSession(deps: OpsDeps, orderRef: string): Promise<Session> {
  if (!orderRefSchema.safeParse(orderRef).success) {
    throw new HttpError(404, 'order_not_found', 'no such order');
  }
  const paid = await deps.store.findPaidSession(orderRef);
  if (paid) return paid;
  const [newest] = await deps.store.listSessionsByOrder(orderRef);
  if (!newest) throw new HttpError(404, 'order_not_found', 'no payment for this order');
  return newest;
}

async function paymentView(deps: OpsDeps, session: Session) {
  const operations = await deps.store.listOperations({ sessionId: session.id, limit: 1000 });
  // Refunds, voids and captures the gateway has not settled yet: neither done nor failed (UNKNOWN_NOTE).
  const unknown = operations.filter(op => op.state === 'unknown');
  return {
    ...adminSessionView(session),
    ...balanceOf(session, operations),
    outcomeUnknown: unknown.map(op => ({
      operationId: op.id,
      kind: op.kind,
      amount: op.amount,
      since: op.updatedAt.toISOString(),
      nextCheckAt: op.nextCheckAt?.toISOString() ?? null,
    })),
    ...(unknown.length > 0 ? { outcomeUnknownNote: UNKNOWN_NOTE } : {}),
  };
}

/** The widget's view of a session, plus what only the back office sees (the CLI's UPDATED column). */
function adminSessionView(session: Session) {
  return {
    ...sessionView(session),
    updatedAt: session.updatedAt.toISOString(),
    plan: planView(session),
  };
}

function planView(session: Session) {
  const plan = session.plan;
  if (!plan) return null;
  return {
    op: plan.op ?? null,
    capture: plan.capture ?? 'auto',
    customerRef: plan.customerRef ?? null,
  };
}

export function opsRoutes(deps: OpsDeps): express.Router {
  const router = express.Router();
  router.use('/admin', (req, _res, next) => {
    operatorOf(req);
    next();
  });

  router.get('/admin/orders', async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new HttpError(400, 'invalid_field', `status must be one of ${STATUSES.join(', ')}`);
    }
    const sessions = await deps.store.listRecentSessions(limitOf(req), status);
    res.json({
      payments: sessions.map(adminSessionView),
    });
  });

  router.get('/admin/orders/:orderRef', async (req, res) => {
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
  });

  router.post('/admin/orders/:orderRef/query', async (req, res) => {
    const operator = operatorOf(req);
    const session = await targetSession(deps, String(req.params.orderRef));
    const result = await querySession(deps, session, operator);
    res.json({
      payment: await paymentView(deps, result.session),
      gateway: result.gateway,
      operation: operationView(result.operation),
    });
  });

  router.post('/admin/orders/:orderRef/refund', async (req, res) => {
    const operator = operatorOf(req);
    const key = idempotencyKeyOf(req, true)!;
    const body = parse(refundBody, req.body);
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
  });

  for (const kind of ['void', 'capture'] as const) {
    router.post(`/admin/orders/:orderRef/${kind}`, async (req, res) => {
      const operator = operatorOf(req);
      const key = idempotencyKeyOf(req, false);
      const body = kind === 'capture' ? parse(captureBody, req.body) : undefined;
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
    });
  }

  router.post('/admin/reconcile', async (req, res) => {
    const operator = operatorOf(req);
    const body = parse(reconcileBody, req.body);
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
  });

  router.get('/admin/operations', async (req, res) => {
    const operations = await deps.store.listOperations({ limit: limitOf(req, 100) });
    res.json({ operations: operations.map(op => operationView(op)) });
  });

  router.post('/admin/customer-handles', (req, res) => {
    const cards = requireCards(deps);
    const body = parse(handleBody, req.body);
    const { handle, expiresAt } = mintCustomerHandle(
      cards.handleSecret,
      body.customerRef,
      body.ttlSeconds ?? 3600,
      deps.now(),
    );
    res.status(201).json({ handle, expiresAt: expiresAt.toISOString() });
  });

  router.get('/admin/customers/:customerRef/cards', async (req, res) => {
    requireCards(deps);
    const customerRef = String(req.params.customerRef);
    if (!CUSTOMER_REF.test(customerRef))
      throw new HttpError(400, 'invalid_field', 'bad customerRef');
    res.json({ cards: (await deps.store.listCards(customerRef)).map(cardView) });
  });

  router.delete('/admin/customers/:customerRef/cards/:tokenId', async (req, res) => {
    const operator = operatorOf(req);
    const customerRef = String(req.params.customerRef);
    if (!CUSTOMER_REF.test(customerRef))
      throw new HttpError(400, 'invalid_field', 'bad customerRef');
    const result = await deleteCard(deps, customerRef, String(req.params.tokenId));
    await audit(
      deps,
      'token_delete',
      operator,
      `card ${String(req.params.tokenId)} of ${customerRef}`,
    );
    res.json({ deleted: true, ...result });
  });

  router.post('/admin/fast-pay', async (req, res) => {
    const operator = operatorOf(req);
    const body = parse(fastPayBody, req.body);
    const card = await cardOf(deps, body.customerRef, body.tokenId);
    if (card.paymentMethod !== 'INTERNATIONAL') {
      throw new HttpError(409, 'fast_pay_not_allowed', 'FAST_PAY takes international cards only');
    }
    const order = await deps.store.getOrder(body.orderRef);
    if (!order)
      throw new HttpError(404, 'order_not_found', 'register the order first (POST /admin/orders)');
    if (await deps.store.findOpenSession(order.orderRef, deps.now())) {
      throw new HttpError(
        409,
        'order_has_open_session',
        'this order has an open checkout; cancel it first',
      );
    }
    const { session } = await openSession(deps.checkout, order, {
      locale: 'vi',
      paymentMethod: 'INTERNATIONAL',
      merchantOrigin: null,
      plan: {
        op: 'fast_pay',
        customerRef: body.customerRef,
        cardId: card.id,
        ...(deps.manualCapture ? { capture: 'manual' as const } : {}),
      },
    });
    const settled = session.transactionId
      ? (await querySession(deps, session, operator, 'fast_pay')).session
      : session;
    res.status(201).json({ payment: await paymentView(deps, settled) });
  });

  router.post('/admin/links', async (req, res) => {
    const operator = operatorOf(req);
    const body = parse(linkBody, req.body);
    const link = await createLink(deps, {
      ...body,
      name: body.name.normalize('NFC'),
      description: body.description.normalize('NFC'),
      operator,
    });
    await audit(deps, 'link_create', operator, `link ${link.orderNo} for ${link.amount} VND`);
    res.status(201).json({ link: linkView(link, deps.now()) });
  });

  router.get('/admin/links', async (req, res) => {
    const links = await deps.store.listLinks(limitOf(req));
    res.json({ links: links.map(link => linkView(link, deps.now())) });
  });

  router.get('/admin/links/:orderNo', async (req, res) => {
    const link = await deps.store.getLink(String(req.params.orderNo).slice(0, 100));
    if (!link) throw new HttpError(404, 'link_not_found', 'no such payment link');
    res.json({ link: linkView(link, deps.now()) });
  });

  return router;
}

/** An audit row for an operation that is not a gateway money call (link created, card deleted). */
async function audit(
  deps: OpsDeps,
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
