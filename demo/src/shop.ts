/**
 * `createShop(options)`: the demo shop's Express app. It serves two static pages (script tag and ESM import
 * of the widget) under a strict CSP, prices carts on the server, registers each order with the signer's
 * admin API, and learns about payments from the signer's signed webhook. Builds, never listens.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { verifyWebhook, type PaymentNotice } from '@galaxy-pay/server';
import { demoDir, type ShopAssets } from './assets.js';
import { productById, products } from './products.js';

export interface ShopOptions {
  /** The signer's base URL, as the browser and this server reach it. */
  signerUrl: string;
  /** Where this server reaches the signer's admin API, if not at `signerUrl` (another instance). */
  adminUrl?: string;
  /** The signer's `ADMIN_TOKEN`: order registration happens server to server. */
  adminToken: string;
  /** Origins of the gateway's hosted pages (the CSP's `frame-src`). */
  gatewayOrigins: string[];
  /** Secret of the signer's webhook to `POST /api/galaxy-pay/webhook`; absent: no webhook route. */
  webhookSecret?: string;
  assets: ShopAssets;
}

export type ShopOrderStatus =
  | 'awaiting_payment'
  | 'paid'
  | 'partially_refunded'
  | 'refunded'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'needs_review';

export interface ShopOrderLine {
  productId: string;
  name: { vi: string; en: string };
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

/** The shop's own record of an order (in memory: this is a demo). */
export interface ShopOrder {
  orderRef: string;
  lines: ShopOrderLine[];
  amount: number;
  currency: 'VND';
  status: ShopOrderStatus;
  transactionId: string | null;
  createdAt: string;
  paidAt: string | null;
  /** What the signer reports refunded so far (its `refunded` events carry the running total). */
  refunded: number;
  /** Webhook ids already applied (the signer delivers at least once). */
  notices: string[];
}

export interface Shop {
  app: express.Express;
  orders: Map<string, ShopOrder>;
}

const MAX_LINES = 10;
const MAX_QUANTITY = 20;
const SHOP_NAME = 'Cà Phê Ngân Hà';

class ShopError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createShop(options: ShopOptions): Shop {
  const signerUrl = options.signerUrl.replace(/\/+$/, '');
  const signerOrigin = new URL(signerUrl).origin;
  const adminUrl = (options.adminUrl ?? signerUrl).replace(/\/+$/, '');
  const orders = new Map<string, ShopOrder>();
  const pages = {
    index: renderPage('index.html', options, signerUrl),
    spa: renderPage('spa.html', options, signerUrl),
  };
  // The iframe starts on the gateway and ends on the signer's return page: both must be allowed.
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${signerOrigin}`,
    `frame-src ${[...options.gatewayOrigins, signerOrigin].join(' ')}`,
    "frame-ancestors 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.set({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' });
    next();
  });

  const page =
    (html: string): RequestHandler =>
    (_req, res) => {
      res.set({
        'content-security-policy': csp,
        // Keeps the popup's opener (the return page talks back through it); `same-origin` would cut it.
        'cross-origin-opener-policy': 'same-origin-allow-popups',
        'x-frame-options': 'SAMEORIGIN',
        'cache-control': 'no-store',
      });
      res.type('html').send(html);
    };
  app.get(['/', '/index.html'], page(pages.index));
  app.get(['/spa', '/spa.html'], page(pages.spa));

  const script =
    (body: string | Buffer): RequestHandler =>
    (_req, res) => {
      res.set('cache-control', 'no-cache').type('text/javascript').send(body);
    };
  app.get('/assets/galaxy-pay-button.js', script(options.assets.widgetScript));
  if (options.assets.widgetSourceMap) {
    const map = options.assets.widgetSourceMap;
    app.get('/assets/galaxy-pay-button.js.map', (_req, res) => res.type('json').send(map));
  }
  app.get('/assets/shop.js', script(options.assets.shopScript));
  app.get('/assets/spa.js', script(options.assets.spaScript));
  app.use(express.static(join(demoDir, 'public'), { index: false, maxAge: '1h' }));

  app.get('/api/products', (_req, res) => {
    res.set('cache-control', 'no-store').json({ products, currency: 'VND' });
  });

  app.post('/api/orders', express.json({ limit: '4kb' }), async (req, res) => {
    const lines = priceCart(req.body);
    const amount = lines.reduce((sum, line) => sum + line.lineTotal, 0);
    const orderRef = newOrderRef();
    const description = `${SHOP_NAME}: ${lines.map(l => `${l.quantity}× ${l.name.vi}`).join(', ')}`;
    const registered = await fetch(`${adminUrl}/admin/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.adminToken}`,
        'content-type': 'application/json',
        'x-operator': 'demo-shop',
      },
      body: JSON.stringify({
        orderRef,
        amount,
        currency: 'VND',
        description: truncate(description, 250),
      }),
      signal: AbortSignal.timeout(10_000),
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

  if (options.webhookSecret) {
    const secret = options.webhookSecret;
    app.post(
      '/api/galaxy-pay/webhook',
      express.text({ type: 'application/json', limit: '16kb' }),
      (req, res) => {
        const body = typeof req.body === 'string' ? req.body : '';
        try {
          verifyWebhook(body, req.headers as Record<string, string | undefined>, {
            secret,
            now: Date.now,
          });
        } catch {
          throw new ShopError(401, 'invalid_signature', 'webhook signature does not verify');
        }
        applyNotice(orders, JSON.parse(body) as PaymentNotice);
        res.status(204).end();
      },
    );
  }

  app.use('/api', (_req, _res, next) => next(new ShopError(404, 'not_found', 'no such route')));
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const known = error instanceof ShopError;
    const status = known ? error.status : Number(error?.status) || 500;
    const code = known ? error.code : status < 500 ? 'bad_request' : 'internal_error';
    res.status(status).set('cache-control', 'no-store');
    res.json({ error: { code, message: known ? error.message : 'something went wrong' } });
  };
  app.use(onError);
  return { app, orders };
}

/** Prices a cart from the catalogue; quantities and ids are all the browser may say. */
function priceCart(body: unknown): ShopOrderLine[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_LINES) {
    throw new ShopError(400, 'invalid_cart', `send 1 to ${MAX_LINES} items`);
  }
  const quantities = new Map<string, number>();
  for (const item of items as Array<{ id?: unknown; quantity?: unknown }>) {
    const product = typeof item?.id === 'string' ? productById.get(item.id) : undefined;
    const quantity = item?.quantity;
    if (!product || !Number.isInteger(quantity)) {
      throw new ShopError(400, 'invalid_cart', 'unknown product or bad quantity');
    }
    quantities.set(product.id, (quantities.get(product.id) ?? 0) + (quantity as number));
  }
  return [...quantities].map(([id, quantity]) => {
    const product = productById.get(id)!;
    if (quantity < 1 || quantity > MAX_QUANTITY) {
      throw new ShopError(400, 'invalid_cart', `quantities go from 1 to ${MAX_QUANTITY}`);
    }
    return {
      productId: id,
      name: product.name,
      quantity,
      unitPrice: product.price,
      lineTotal: product.price * quantity,
    };
  });
}

function applyNotice(orders: Map<string, ShopOrder>, notice: PaymentNotice): void {
  const order = orders.get(notice.orderRef);
  if (!order || order.notices.includes(notice.id)) return;
  order.notices.push(notice.id);
  if (notice.event === 'refunded') {
    // Each refund carries the total refunded so far: the largest seen wins (deliveries may cross).
    order.refunded = Math.max(order.refunded, notice.refunded ?? 0);
    order.status = order.refunded >= order.amount ? 'refunded' : 'partially_refunded';
    return;
  }
  // A paid order stays paid; anything later about another session of it is only recorded.
  if (order.paidAt !== null) return;
  const status = notice.status as ShopOrderStatus;
  if (['paid', 'failed', 'cancelled', 'expired', 'needs_review'].includes(status)) {
    order.status = status;
  }
  if (status === 'paid') {
    order.transactionId = notice.transactionId;
    order.paidAt = notice.at;
  }
}

function publicOrder(order: ShopOrder) {
  const { notices: _notices, ...rest } = order;
  return rest;
}

/** `GC-<base36 time>-<random>`: unique, and only characters the signer accepts in an orderRef. */
function newOrderRef(): string {
  return `GC-${Date.now().toString(36).toUpperCase()}-${randomBytes(3).toString('hex').toUpperCase()}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Fills a page template: the signer URL and the widget's SRI hash. */
function renderPage(file: string, options: ShopOptions, signerUrl: string): string {
  return readFileSync(join(demoDir, 'pages', file), 'utf8')
    .replaceAll('%SIGNER_URL%', escapeAttribute(signerUrl))
    .replaceAll('%WIDGET_INTEGRITY%', escapeAttribute(options.assets.widgetIntegrity));
}
