/** `createApp(options)`: the standalone signer's Express app. Builds, never listens (main.ts does). */

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import { createSigner, type Signer, type SignerOptions } from '../signer.js';

export interface AppOptions extends SignerOptions {
  /** Proxy hops in front of the app (`trust proxy`); 0 = none. Exact, so X-Forwarded-For cannot be spoofed. */
  trustProxy?: number;
}

export interface App {
  /** The Express app: every route, IPNs included. */
  app: express.Express;
  signer: Signer;
  /**
   * What the HTTP server should run: `POST <base>/ipn` goes straight to the IPN intake, the rest to `app`.
   * Express's own dispatch costs more CPU than an IPN's verification and commit; the gateway's bursts
   * should not pay it. Answers are the same either way (the router serves the same intake).
   */
  listener: RequestListener;
}

export function createApp(options: AppOptions): App {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy ?? 0);
  const signer = createSigner(options);
  // Mounted at PUBLIC_URL's path, so the callback URLs the signer builds resolve to its own routes.
  const basePath = new URL(options.publicUrl).pathname.replace(/\/+$/, '');
  app.use(basePath || '/', signer);
  app.use(signer.fallback);
  const ipnPath = `${basePath}/ipn`;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    // Only the exact path (a query string allowed): any other spelling Express matches still reaches it there.
    if (req.method === 'POST' && (url === ipnPath || url.startsWith(`${ipnPath}?`))) {
      signer.ipn(req, res);
    } else {
      app(req, res);
    }
  };
  return { app, signer, listener };
}
