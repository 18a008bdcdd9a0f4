/**
 * `/api/backoffice/*`: the shop's back office, built on the signer's admin API. The page calls these routes
 * on the shop's own origin; the shop's back end calls the signer with the admin token (server to server) and
 * passes its answers on. The token never reaches the browser.
 *
 * Money operations carry an Idempotency-Key the page mints when it shows the form: pressing "Refund" twice,
 * or again after a timeout, is one refund (the signer answers the repeat from the first).
 */

import express from 'express';
import { adminError, ShopError, type AdminAnswer, type AdminClient } from './admin-api.js';

export interface BackofficeDeps {
  admin: AdminClient;
  /** The shop's own record of an order (what its webhook learnt), shown next to the signer's. */
  orders: ReadonlyMap<string, { notices: string[] }>;
}

/** Who acts, in the signer's audit trail. A real back office names the signed-in staff member. */
const OPERATOR = 'demo-staff';
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,64}$/;
const STATUSES = new Set([
  'pending',
  'pending_unknown',
  'authorized',
  'paid',
  'failed',
  'cancelled',
  'expired',
  'needs_review',
  'voided',
]);

export function backofficeRoutes(deps: BackofficeDeps): express.Router {
  const { admin } = deps;
  const router = express.Router();
  const json = express.json({ limit: '2kb' });
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  /** Sends the signer's answer on as it is (2xx), or its error. */
  const pass = (res: express.Response, answer: AdminAnswer, ok: number[] = [200, 201]) => {
    if (!ok.includes(answer.status)) throw adminError(answer);
    res.status(answer.status).json(answer.body);
  };

  router.get('/orders', async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : '';
    if (status && !STATUSES.has(status)) throw new ShopError(400, 'invalid_field', 'bad status');
    pass(res, await admin(`/admin/orders?limit=100${status ? `&status=${status}` : ''}`));
  });

  router.get('/orders/:orderRef', async (req, res) => {
    const orderRef = String(req.params.orderRef);
    const answer = await admin(`/admin/orders/${encodeURIComponent(orderRef)}`);
    if (answer.status !== 200) throw adminError(answer);
    const own = deps.orders.get(orderRef);
    const shop = own ? (({ notices: _notices, ...rest }) => rest)(own) : null;
    res.json({ ...answer.body, shop });
  });

  router.post('/orders/:orderRef/:operation', json, async (req, res) => {
    const orderRef = encodeURIComponent(String(req.params.orderRef));
    const operation = String(req.params.operation);
    const body = (req.body ?? {}) as { amount?: unknown; reason?: unknown; key?: unknown };
    const key = typeof body.key === 'string' && IDEMPOTENCY_KEY.test(body.key) ? body.key : '';
    const amount =
      body.amount === undefined || body.amount === '' ? undefined : Number(body.amount);
    if (amount !== undefined && !Number.isInteger(amount)) {
      throw new ShopError(400, 'invalid_field', 'the amount is a whole number of đồng');
    }
    const call = { method: 'POST' as const, operator: OPERATOR, idempotencyKey: key || undefined };
    switch (operation) {
      case 'refund': {
        if (!key) throw new ShopError(400, 'idempotency_key_required', 'send the form key');
        const reason =
          typeof body.reason === 'string' && body.reason.trim() ? body.reason : 'refund';
        const answer = await admin(`/admin/orders/${orderRef}/refund`, {
          ...call,
          body: { amount, reason: reason.trim().slice(0, 200) },
        });
        return pass(res, answer);
      }
      case 'capture':
        return pass(
          res,
          await admin(`/admin/orders/${orderRef}/capture`, {
            ...call,
            body: amount === undefined ? {} : { amount },
          }),
        );
      case 'void':
        return pass(res, await admin(`/admin/orders/${orderRef}/void`, call));
      case 'query':
        return pass(res, await admin(`/admin/orders/${orderRef}/query`, { ...call, body: {} }));
      default:
        throw new ShopError(404, 'not_found', 'no such operation');
    }
  });

  router.get('/links', async (_req, res) => {
    pass(res, await admin('/admin/links?limit=50'));
  });

  router.post('/links', json, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const description =
      typeof body.description === 'string' && body.description.trim()
        ? body.description.trim()
        : name;
    const amount = Number(body.amount);
    const hours = Number(body.expiryHours ?? 24);
    if (!name || !Number.isInteger(amount) || !Number.isInteger(hours) || hours < 1) {
      throw new ShopError(400, 'invalid_field', 'a name, a whole amount and whole hours');
    }
    const answer = await admin('/admin/links', {
      method: 'POST',
      operator: OPERATOR,
      body: {
        name: name.slice(0, 250),
        description: description.slice(0, 250),
        amount,
        expiryDuration: hours,
        expiryUnit: 'HOUR',
        language: body.language === 'en' ? 'en' : 'vi',
      },
    });
    pass(res, answer, [201]);
  });

  return router;
}
