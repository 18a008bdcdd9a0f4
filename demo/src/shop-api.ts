/** The shop's JSON API for its pages: the catalogue, orders priced on the server, saved cards and FAST_PAY. */

import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { adminError, ShopError, type AdminClient } from './admin-api.js';
import { products } from './products.js';
import { newOrderRef, priceCart, publicOrder, truncate, type ShopOrder } from './shop-orders.js';

export interface ShopApiDeps {
  admin: AdminClient;
  orders: Map<string, ShopOrder>;
}

const SHOP_NAME = 'Cà Phê Ngân Hà';
/** The demo's stand-in for a signed-in customer: a random id in an HttpOnly cookie, one per browser. */
const CUSTOMER_COOKIE = 'gp_demo_customer';
const CUSTOMER_REF = /^demo-[0-9a-f]{16}$/;
/** Customer handles the shop mints for its pages live 15 minutes (the signer allows up to 24 h). */
const HANDLE_TTL_SECONDS = 900;

export function shopApiRoutes(app: express.Express, { admin, orders }: ShopApiDeps): void {
  app.get('/api/products', (_req, res) => {
    res.set('cache-control', 'no-store').json({ products, currency: 'VND' });
  });

  app.post('/api/orders', express.json({ limit: '4kb' }), async (req, res) => {
    const lines = priceCart(req.body);
    const amount = lines.reduce((sum, line) => sum + line.lineTotal, 0);
    const orderRef = newOrderRef();
    const description = `${SHOP_NAME}: ${lines.map(l => `${l.quantity}× ${l.name.vi}`).join(', ')}`;
    const registered = await admin('/admin/orders', {
      method: 'POST',
      body: { orderRef, amount, currency: 'VND', description: truncate(description, 250) },
    }).catch(() => null);
    if (!registered || registered.status !== 201) {
      throw new ShopError(502, 'signer_unavailable', 'the payment service did not take the order');
    }
    const order: ShopOrder = {
      orderRef,
      lines,
      amount,
      currency: 'VND',
      status: 'awaiting_payment',
      transactionId: null,
      createdAt: new Date().toISOString(),
      paidAt: null,
      refunded: 0,
      notices: [],
    };
    orders.set(orderRef, order);
    res.status(201).set('cache-control', 'no-store').json(publicOrder(order));
  });

  app.get('/api/orders/:orderRef', (req, res) => {
    const order = orders.get(req.params.orderRef);
    if (!order) throw new ShopError(404, 'order_not_found', 'no such order');
    res.set('cache-control', 'no-store').json(publicOrder(order));
  });

  // Saved cards. The customer is whoever this browser's cookie says (the demo has no login): the page gets
  // a short-lived, signed customer handle for that customer, never a customer id it could change.
  app.post('/api/customer', async (req, res) => {
    const customerRef = customerOf(req, res);
    const [minted, cards] = await Promise.all([
      admin<{ handle: string; expiresAt: string }>('/admin/customer-handles', {
        method: 'POST',
        body: { customerRef, ttlSeconds: HANDLE_TTL_SECONDS },
      }),
      admin<{ cards: unknown[] }>(`/admin/customers/${customerRef}/cards`),
    ]);
    if (minted.status !== 201) throw adminError(minted);
    if (cards.status !== 200) throw adminError(cards);
    res.set('cache-control', 'no-store').json({
      handle: minted.body.handle,
      expiresAt: minted.body.expiresAt,
      cards: cards.body.cards,
    });
  });

  app.post('/api/customer/cards/:tokenId/delete', async (req, res) => {
    const customerRef = customerOf(req, res);
    const tokenId = encodeURIComponent(String(req.params.tokenId));
    const answer = await admin(`/admin/customers/${customerRef}/cards/${tokenId}`, {
      method: 'DELETE',
      operator: 'demo-customer',
    });
    if (answer.status !== 200) throw adminError(answer);
    res.set('cache-control', 'no-store').json({ deleted: true });
  });

  // FAST_PAY: the shop's back end charges a saved international card, no page and no OTP (the shopper's
  // "pay now with my saved card"; also how a shop renews a subscription).
  app.post('/api/orders/:orderRef/fast-pay', express.json({ limit: '1kb' }), async (req, res) => {
    const customerRef = customerOf(req, res);
    const order = orders.get(String(req.params.orderRef));
    if (!order) throw new ShopError(404, 'order_not_found', 'no such order');
    const tokenId = (req.body as { tokenId?: unknown } | undefined)?.tokenId;
    if (typeof tokenId !== 'string') throw new ShopError(400, 'invalid_field', 'send a tokenId');
    const answer = await admin<{ payment: Record<string, unknown> }>('/admin/fast-pay', {
      method: 'POST',
      body: { orderRef: order.orderRef, customerRef, tokenId },
      operator: 'demo-shop',
    });
    if (answer.status !== 201) throw adminError(answer);
    const { status, transactionId, amount, code } = answer.body.payment;
    res.set('cache-control', 'no-store').json({ status, transactionId, amount, code });
  });
}

/** The demo customer of this browser (set on first use). */
function customerOf(req: Request, res: Response): string {
  const cookie = /(?:^|;\s*)gp_demo_customer=([^;]*)/.exec(req.get('cookie') ?? '')?.[1];
  if (cookie && CUSTOMER_REF.test(cookie)) return cookie;
  const customerRef = `demo-${randomBytes(8).toString('hex')}`;
  res.append(
    'set-cookie',
    `${CUSTOMER_COOKIE}=${customerRef}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000`,
  );
  return customerRef;
}
