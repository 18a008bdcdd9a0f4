/**
 * `createShop(options)`: the demo shop's Express app. It serves its pages (the shop with the widget by script
 * tag and by ESM import, the back office, the demo bank) under a strict CSP, prices carts on the server,
 * registers each order with the signer's admin API, and learns about payments from the signer's signed
 * webhook. Everything that needs the admin token (orders, saved cards, FAST_PAY, the back office) happens
 * here, server to server. Builds, never listens.
 */

import express from 'express';
import { adminClient, ShopError } from './admin-api.js';
import type { ShopAssets } from './assets.js';
import { backofficeRoutes } from './backoffice.js';
import { bankRoutes } from './bank.js';
import { shopApiRoutes } from './shop-api.js';
import { onError, refuseCrossSite } from './shop-http.js';
import type { ShopOrder } from './shop-orders.js';
import { servePages } from './shop-pages.js';
import { webhookRoute } from './shop-webhook.js';

export type { ShopOrder, ShopOrderLine, ShopOrderStatus } from './shop-orders.js';

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

export interface Shop {
  app: express.Express;
  orders: Map<string, ShopOrder>;
}

export function createShop(options: ShopOptions): Shop {
  const signerUrl = options.signerUrl.replace(/\/+$/, '');
  const manualSignerUrl = options.manualSignerUrl?.replace(/\/+$/, '') ?? '';
  const admin = adminClient(options.adminUrl ?? signerUrl, options.adminToken);
  const orders = new Map<string, ShopOrder>();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.set({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' });
    next();
  });

  servePages(app, {
    signerUrl,
    manualSignerUrl,
    gatewayOrigins: options.gatewayOrigins,
    sandboxUrl: options.sandboxUrl,
    assets: options.assets,
  });

  // Browsers send Origin on every cross-origin POST: the shop's own pages are the only callers of its API.
  app.use('/api', refuseCrossSite);
  shopApiRoutes(app, { admin, orders });

  app.use('/api/backoffice', backofficeRoutes({ admin, orders }));
  if (options.sandboxUrl) app.use('/api/bank', bankRoutes(options.sandboxUrl));
  if (options.webhookSecret) webhookRoute(app, options.webhookSecret, orders);

  app.use('/api', (_req, _res, next) => next(new ShopError(404, 'not_found', 'no such route')));
  app.use(onError);
  return { app, orders };
}
