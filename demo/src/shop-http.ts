/** The shop API's guards and error answers: refusing cross-site requests, and `{error: {code, message}}`. */

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ShopError } from './admin-api.js';

/**
 * Refuses a state-changing request another site's page made (CSRF): browsers send `Sec-Fetch-Site` and
 * `Origin` with it. Server-to-server callers (the signer's webhook, tests) send neither.
 */
export const refuseCrossSite: RequestHandler = (req, _res, next) => {
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

/** Every error as `{error: {code, message}}`: a `ShopError` says its own, anything else says little. */
export const onError: ErrorRequestHandler = (error, _req, res, _next) => {
  const known = error instanceof ShopError;
  const status = known ? error.status : Number(error?.status) || 500;
  const code = known ? error.code : status < 500 ? 'bad_request' : 'internal_error';
  res.status(status).set('cache-control', 'no-store');
  res.json({ error: { code, message: known ? error.message : 'something went wrong' } });
};
