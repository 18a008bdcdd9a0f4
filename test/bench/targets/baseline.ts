/**
 * Target entry: the baseline, a bare Express 5 app with helmet() and one JSON endpoint answering like an
 * accepted IPN. It parses the same body the signer gets, so only the signer's own work differs.
 */

import express from 'express';
import helmet from 'helmet';
import { listen, serve, stop } from './serve.js';

void serve(async () => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.post('/ipn', express.json({ limit: '32kb', inflate: false, strict: true }), (_req, res) => {
    res.json({ ipnStatus: '200' });
  });
  const { server, url } = await listen();
  server.on('request', app);
  return { url, close: () => stop(server) };
});
