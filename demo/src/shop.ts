/**
 * `createShop(options)`: the demo shop's Express app. It serves its pages (the shop with the widget by script
 * tag and by ESM import, the back office, the demo bank) under a strict CSP, prices carts on the server,
 * registers each order with the signer's admin API, and learns about payments from the signer's signed
 * webhook. Everything that needs the admin token (orders, saved cards, FAST_PAY, the back office) happens
 * here, server to server. Builds, never listens.
 */

import { randomBytes } from 'node:crypto';
import { extname, join } from 'node:path';
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { verifyWebhook, type PaymentNotice } from '@galaxy-pay/server';
import { adminClient, adminError, ShopError } from './admin-api.js';
import { demoDir, type ShopAssets } from './assets.js';
import { backofficeRoutes } from './backoffice.js';
import { bankRoutes } from './bank.js';
import { renderPage } from './pages.js';
import { productById, products } from './products.js';

export interface ShopOptions {
  /** The signer's base URL, as the browser and this server reach it. */
  signerUrl: string;
  /**
   * A signer with `CAPTURE_MODE=manual` on the same origin and store (the demo mounts one at `/manual`): the
   * checkout's "authorize only" choice points the button at it. Absent: no such choice.
   */
  manualSignerUrl?: string;
  /** Where this server reaches the signer's admin API, if not at `signerUrl` (another instance). */
  adminUrl?: string;
  /** The signer's `ADMIN_TOKEN`: order registration happens server to server. */
  adminToken: string;
  /** Origins of the gateway's hosted pages (the CSP's `frame-src`). */
  gatewayOrigins: string[];
  /** Secret of the signer's webhook to `POST /api/galaxy-pay/webhook`; absent: no webhook route. */
  webhookSecret?: string;
  /** The local sandbox: enables the demo bank (`/bank`), which "scans" QR codes through its inspection API. */
  sandboxUrl?: string;
  assets: ShopAssets;
}

export type ShopOrderStatus =
  | 'awaiting_payment'
  | 'authorized'
  | 'voided'
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
/** The demo's stand-in for a signed-in customer: a random id in an HttpOnly cookie, one per browser. */
const CUSTOMER_COOKIE = 'gp_demo_customer';
const CUSTOMER_REF = /^demo-[0-9a-f]{16}$/;
/** Customer handles the shop mints for its pages live 15 minutes (the signer allows up to 24 h). */
const HANDLE_TTL_SECONDS = 900;

export function createShop(options: ShopOptions): Shop {
  const signerUrl = options.signerUrl.replace(/\/+$/, '');
  const signerOrigin = new URL(signerUrl).origin;
  const manualSignerUrl = options.manualSignerUrl?.replace(/\/+$/, '') ?? '';
  const admin = adminClient(options.adminUrl ?? signerUrl, options.adminToken);
  const orders = new Map<string, ShopOrder>();
  const routes = { index: '/', spa: '/spa', backoffice: '/backoffice', bank: '/bank' };
  const pages = Object.fromEntries(
    Object.entries(routes).map(([name, route]) => [
      name,
      renderPage(`${name}.html`, route, {
        SIGNER_URL: signerUrl,
        MANUAL_SIGNER_URL: manualSignerUrl,
        WIDGET_INTEGRITY: options.assets.widgetIntegrity,
      }),
    ]),
  );
  // The iframe starts on the gateway and ends on the signer's return page: both must be allowed. The QR
  // code of a QRPAY payment is an image the signer renders (`<img src="{signer}/sessions/:id/qr.svg">`).
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${signerOrigin}`,
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
  app.get(['/', '/index.html'], page(pages.index!));
  app.get(['/spa', '/spa.html'], page(pages.spa!));
  // In a real shop this page sits behind the staff's login; the demo runs on loopback only.
  app.get(['/backoffice', '/backoffice.html'], page(pages.backoffice!));
  if (options.sandboxUrl) app.get(['/bank', '/bank.html'], page(pages.bank!));

  const script =
    (body: string | Buffer): RequestHandler =>
    (_req, res) => {
      res.set('cache-control', 'no-cache').type('text/javascript').send(body);
    };
  app.get('/assets/shop.js', script(options.assets.shopScript));
  app.get('/assets/spa.js', script(options.assets.spaScript));
  app.get('/assets/backoffice.js', script(options.assets.backofficeScript));
  app.get('/assets/bank.js', script(options.assets.bankScript));
  // Every file of the widget's dist, not a list: the script-tag file imports others from next to itself
  // (`galaxy-pay-extras.js` for saved cards and QR codes, and whatever a later build splits off).
  app.use('/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let name: string;
    try {
      name = decodeURIComponent(req.path.slice(1));
    } catch {
      return next();
    }
    const file = options.assets.widgetFiles.get(name);
    if (!file) return next();
    res.set('cache-control', 'no-cache').type(contentTypeOf(name)).send(file);
  });
  app.use(express.static(join(demoDir, 'public'), { index: false, maxAge: '1h' }));

  // Browsers send Origin on every cross-origin POST: the shop's own pages are the only callers of its API.
  app.use('/api', refuseCrossSite);

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

  app.use('/api/backoffice', backofficeRoutes({ admin, orders }));
  if (options.sandboxUrl) app.use('/api/bank', bankRoutes(options.sandboxUrl));

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

/**
 * Refuses a state-changing request another site's page made (CSRF): browsers send `Sec-Fetch-Site` and
 * `Origin` with it. Server-to-server callers (the signer's webhook, tests) send neither.
 */
const refuseCrossSite: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.path === '/galaxy-pay/webhook') {
    return next();
  }
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  if (
    (site !== undefined && site !== 'same-origin' && site !== 'none') ||
    (origin !== undefined && origin !== `${req.protocol}://${req.get('host')}`)
  ) {
    return next(
      new ShopError(403, 'cross_site_request', "this API answers the shop's own pages only"),
    );
  }
  next();
};

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

function contentTypeOf(name: string): string {
  switch (extname(name)) {
    case '.js':
    case '.mjs':
      return 'text/javascript';
    case '.map':
    case '.json':
      return 'application/json';
    case '.css':
      return 'text/css';
    default:
      return 'text/plain';
  }
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
  // An authorization is held until the back office captures it (then `paid`) or voids it (`voided`).
  if (order.status === 'authorized' && notice.event !== 'paid' && notice.event !== 'voided') return;
  if (
    ['paid', 'authorized', 'voided', 'failed', 'cancelled', 'expired', 'needs_review'].includes(
      status,
    )
  ) {
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

/**
 * `GC<base36 time><random>`, 16 letters and digits: unique, and it fits the gateway's `orderNumber`
 * (alphanumeric, ≤ 20), so the hosted page and Galaxy Pay's portal show the shop's own reference.
 */
function newOrderRef(): string {
  return `GC${Date.now().toString(36).toUpperCase()}${randomBytes(3).toString('hex').toUpperCase()}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
