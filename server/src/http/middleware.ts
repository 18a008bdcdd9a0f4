/**
 * The signer's own middleware, used by the routing table (routes.ts): request ids, the API headers, the
 * widget's origin guard and CORS, body parsers with their limits, the JSON depth limit, rate limits, the
 * admin bearer and operator checks. Each one refuses with the generic error shape (errors.ts).
 */

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import cors from 'cors';
import typeIs from 'type-is';
import helmet from 'helmet';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpError, sendError, UNSUPPORTED_ENCODING } from './errors.js';
import { fixedHeaders } from './fixed-headers.js';
import { operatorOf } from './validation.js';

/** Every response carries a request id (also in the error body and the logs). */
export const requestId: RequestHandler = (_req, res, next) => {
  res.locals.requestId = randomUUID();
  res.set('x-request-id', res.locals.requestId as string);
  next();
};

/**
 * No route takes a compressed body: 415, as the IPN intake answers, before any parser could inflate one. A
 * broken stream is never a 500, and a small gzip bomb never expands; the widget, the CLI and the gateway send
 * a few KB of plain JSON. Checked once for every route, so a route (or parser) added later cannot forget it.
 */
export const refuseEncodedBody: RequestHandler = (req, _res, next) => {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity' && typeIs.hasBody(req)) {
    const { status, code, message } = UNSUPPORTED_ENCODING;
    next(new HttpError(status, code, message));
    return;
  }
  next();
};

/** JSON API headers: nothing to frame, sniff or cache. */
export const apiHeaders = fixedHeaders(
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  }),
  { 'cache-control': 'no-store' },
);

/** A browser `Origin` must be exactly one of the merchant origins; `null` never is (T05). */
export function originGuard(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin !== undefined && !allowed.includes(origin)) {
      sendError(res, 403, 'origin_not_allowed', 'this origin may not use the signer');
      return;
    }
    next();
  };
}

/** CORS for the widget routes: the exact merchant origins, never a reflection of whatever came in. */
export function widgetCors(allowed: readonly string[]): RequestHandler {
  return cors({
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowed.includes(origin) ? origin : false),
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'idempotency-key', 'x-customer-handle'],
    exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
    maxAge: 600,
  });
}

/** State-changing widget routes take JSON only, so every cross-origin call is preflighted (ASVS 3.5.2). */
export const requireJson: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) {
    sendError(res, 415, 'unsupported_media_type', 'send application/json');
    return;
  }
  next();
};

/** A strict JSON body parser of at most `limit`; never inflates (a gzip bomb is refused, not expanded). */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit, strict: true, inflate: false });
}

/** A form body parser (the gateway's POST redirects): at most `limit` and 10 fields, never inflated. */
export function formBody(limit: string): RequestHandler {
  return express.urlencoded({ limit, inflate: false, extended: false, parameterLimit: 10 });
}

/** Deeper JSON is refused before anything walks it recursively (hashing, validation): rule 8, T27. */
const MAX_JSON_DEPTH = 64;

/** 400 for a parsed JSON body nested deeper than {@link MAX_JSON_DEPTH}; checked without recursion. */
export const limitJsonDepth: RequestHandler = (req, res, next) => {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: req.body, depth: 0 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      sendError(res, 400, 'body_too_deep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    for (const child of Object.values(value)) pending.push({ value: child, depth: depth + 1 });
  }
  next();
};

/**
 * The rate-limit key of a request: its address (an IPv6 /56 as one). A request whose client hung up before
 * the limiter ran has no address any more (`req.ip` is undefined); it shares one key rather than crashing
 * the library's key hashing into a 500.
 */
function limiterKey(req: express.Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}

/** A per-IP limit of `perMinute` requests; each call is a counter of its own. */
export function limiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    keyGenerator: limiterKey,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => sendError(res, 429, 'rate_limited', 'too many requests; slow down'),
  });
}

/** Constant-time bearer check: both sides are hashed first so lengths never leak. */
export function requireBearer(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const given = createHash('sha256')
      .update(header.startsWith('Bearer ') ? header.slice(7) : '')
      .digest();
    if (!header.startsWith('Bearer ') || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required', {
        'www-authenticate': 'Bearer',
      });
    }
    next();
  };
}

/** A malformed `x-operator` is refused on every admin route it reaches, before anything is done. */
export const checkOperator: RequestHandler = (req, _res, next) => {
  operatorOf(req);
  next();
};
