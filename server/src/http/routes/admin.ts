/**
 * `/admin/*`: the merchant's back office (bearer ADMIN_TOKEN). This issue: order pre-registration, so the
 * browser only ever names an order the merchant has priced. Refunds and the rest come with their own issue.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import type { z } from 'zod';
import { HttpError } from '../errors.js';
import { orderInputSchema, orderRefSchema, toOrder } from '../orders.js';
import type { Store } from '../store/store.js';
import { validationError } from './sessions.js';

export interface AdminDeps {
  store: Store;
  now: () => Date;
  adminToken: string | undefined;
}

const registerBody = orderInputSchema.extend({ orderRef: orderRefSchema });

/** Constant-time bearer check: both sides are hashed first so lengths never leak. */
export function requireBearer(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const given = createHash('sha256')
      .update(header.startsWith('Bearer ') ? header.slice(7) : '')
      .digest();
    if (!header.startsWith('Bearer ') || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required', {
        'www-authenticate': 'Bearer',
      });
    }
    next();
  };
}

export function adminRoutes(deps: AdminDeps): express.Router {
  const router = express.Router();
  if (!deps.adminToken) {
    // No token configured: the back office does not exist.
    return router;
  }
  router.use('/admin', requireBearer(deps.adminToken));
  router.post('/admin/orders', async (req, res) => {
    const parsed = registerBody.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error as z.ZodError, req.body);
    const { orderRef, ...input } = parsed.data;
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
  });
  return router;
}
