/** `createApp(options)`: the standalone signer's Express app. Builds, never listens (main.ts does). */

import express from 'express';
import { createSigner, type Signer, type SignerOptions } from './signer.js';

export interface AppOptions extends SignerOptions {
  /** Proxy hops in front of the app (`trust proxy`); 0 = none. Exact, so X-Forwarded-For cannot be spoofed. */
  trustProxy?: number;
}

export function createApp(options: AppOptions): { app: express.Express; signer: Signer } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy ?? 0);
  const signer = createSigner(options);
  // Mounted at PUBLIC_URL's path, so the callback URLs the signer builds resolve to its own routes.
  const basePath = new URL(options.publicUrl).pathname.replace(/\/+$/, '');
  app.use(basePath || '/', signer);
  return { app, signer };
}
