/** The shop's pages and files: its HTML pages under a strict CSP, its own scripts, the widget's files, `public/`. */

import { extname, join } from 'node:path';
import express, { type RequestHandler } from 'express';
import { demoDir, type ShopAssets } from './assets.js';
import { renderPage } from './pages.js';

export interface PagesOptions {
  /** The signer's base URL, no trailing slash. */
  signerUrl: string;
  /** The manual-capture signer's base URL, no trailing slash; '' when there is none. */
  manualSignerUrl: string;
  /** Origins of the gateway's hosted pages (the CSP's `frame-src`). */
  gatewayOrigins: string[];
  /** The local sandbox: when set, the demo bank's page (`/bank`) is served. */
  sandboxUrl?: string;
  assets: ShopAssets;
}

export function servePages(app: express.Express, options: PagesOptions): void {
  const { signerUrl, manualSignerUrl } = options;
  const signerOrigin = new URL(signerUrl).origin;
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
