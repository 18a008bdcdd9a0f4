/**
 * `createSigner(options)`: the Express router a merchant mounts (e.g. at `/galaxy-pay`). It carries its own
 * security headers, CORS allow-list, rate limits and error handler, so a mounted signer answers exactly like
 * the standalone one. Background work (outbox delivery, reconciliation, cross-process fan-out) starts with it
 * and stops with `close()`.
 */

import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import cors from 'cors';
import typeIs from 'type-is';
import helmet from 'helmet';
import { fixedHeaders } from './fixed-headers.js';
import { rateLimit } from 'express-rate-limit';
import { defaultPageOrigins, type GatewayFlow } from './config.js';
import { errorHandler, HttpError, notFound, sendError, UNSUPPORTED_ENCODING } from './errors.js';
import {
  createGatewayClient,
  type GatewayClient,
  type GatewayClientOptions,
} from './gateway-client.js';
import { idempotency } from './idempotency.js';
import { defaultLogger, type Logger } from './logger.js';
import { SessionNotifier } from './notifier.js';
import type { OrderInput, ResolveOrder } from './orders.js';
import { OutboxWorker, type SignerHooks } from './outbox.js';
import { sweep } from './sweep.js';
import { adminRoutes } from './routes/admin.js';
import { applePayRoutes, gatewayTokenRoutes } from './routes/capabilities.js';
import { ipnIntake, type IpnIntake } from './routes/ipn.js';
import { returnRoutes } from './routes/return.js';
import { sessionRoutes } from './routes/sessions.js';
import { customerRoutes } from './routes/customer.js';
import { opsRoutes } from './routes/ops.js';
import {
  DEFAULT_REFUND_WINDOW_MS,
  DEFAULT_UNEXPECTED_AUTHORIZATION,
  operationsSweeper,
  type ManagementOrderId,
  type UnexpectedAuthorization,
} from './operations/service.js';
import { tokenResolver, type SavedCardsConfig } from './tokens/cards.js';
import { createTokenVault } from './tokens/vault.js';
import type { Store } from './store/store.js';

export interface SignerOptions {
  /** Galaxy Pay credentials: stay on the server, never in a response or a log line. */
  apiKey: string;
  salt: string;
  /** The gateway API base URL (UAT, production, or a local sandbox). */
  gatewayBaseUrl: string;
  /** Exact origins the hosted page may be on. Default: Galaxy Pay's known hosts, or a sandbox's own origin. */
  gatewayPageOrigins?: string[];
  /** Which gateway API opens the hosted page. Default `checkout`. */
  flow?: GatewayFlow;
  /** The absolute URL where this router is reachable, base path included (callback URLs use it). */
  publicUrl: string;
  /** Merchant page origins allowed to call the widget routes and frame the return page. */
  allowedOrigins: string[];
  store: Store;
  /** Prices an order reference (router mode). */
  resolveOrder?: ResolveOrder;
  /** Orders by reference (demo). */
  catalog?: Record<string, OrderInput>;
  /** Enables `/admin/*` with this bearer token. */
  adminToken?: string;
  /** How long a session stays payable. Default 30 minutes. */
  sessionTtlSeconds?: number;
  hooks?: SignerHooks;
  /** Standalone mode: signed webhook to the merchant's back end. */
  webhook?: { url: string; secret: string };
  /** Where warnings and errors go. Default: level `warn`, JSON lines on stderr. */
  logger?: Logger;
  now?: () => Date;
  /** Gateway client tuning (timeouts, retries, breaker), or a ready client. */
  gateway?: Partial<GatewayClientOptions> | GatewayClient;
  /** Background reconciliation: how old a pending session must be, and how often to look. */
  reconcile?: { staleAfterMs?: number; intervalMs?: number };
  /** Limits per minute and IP on the widget routes (tests raise them). */
  rateLimits?: { create?: number; read?: number; admin?: number };
  /** Concurrent IPNs processed at once; more get 503 + Retry-After. Default 64. */
  ipnMaxInFlight?: number;
  /**
   * Unverifiable IPNs (bad signature, malformed) recorded per minute and source, in bursts as large; beyond
   * it they are answered as usual but only counted. Never applies to verified IPNs. Default 60; 0 records none.
   */
  unverifiedIpnRate?: number;
  /** The same, per minute from all sources together (many addresses each start full). Default 600. */
  unverifiedIpnRateTotal?: number;
  /**
   * Proxy hops in front of the signer, as Express's `trust proxy`: how `signer.ipn` finds a request's source
   * when it runs before Express (mounted as a route, it uses the host app's `req.ip`). Default 0.
   */
  trustProxy?: number;
  /**
   * Saved cards: 32-byte AES-256-GCM keys (the first encrypts, all decrypt: rotation) and the HMAC secret of
   * customer handles. Absent: saved cards are off.
   */
  savedCards?: { encryptionKeys: Buffer[]; customerHandleSecret: string };
  /** `manual`: new sessions only authorize (`isAutoCapture: "false"`); capture or void from `/admin`. */
  captureMode?: 'auto' | 'manual';
  /** How long after a payment refunds are accepted. Default 365 days (Galaxy Pay: one year). */
  refundWindowDays?: number;
  /**
   * Auto capture: what the background pass does with an authorization the gateway answered instead of a
   * capture (never left held). Default `void` (no money moves that nobody confirmed; the order can be paid
   * again). `capture` captures it, except for an order paid by another session or an authorization that
   * came after the session ended: those are voided.
   */
  unexpectedAuthorization?: UnexpectedAuthorization;
  /**
   * Enables `POST /apple-pay/validate-merchant`, forwarding to this Galaxy Pay path (e.g.
   * `api/v1/applepay/validateMerchant`, our guess: the docs page's content is not available). Default: off.
   */
  applePayValidationPath?: string;
  /**
   * The `orderID` refunds, voids and captures send: `per-operation` (default) a reference of each operation's
   * own, kept across its re-sends; `original` the payment's orderID. See docs/gateway-fidelity.md (M1–M5).
   */
  managementOrderId?: ManagementOrderId;
}

/** The mountable router, plus its lifecycle. */
export type Signer = Router & {
  /**
   * `POST /ipn` as a plain Node handler. The router serves it too; calling it straight from the server's
   * request listener skips Express's dispatch, which costs more than the IPN itself (see `createApp`).
   */
  ipn: IpnIntake;
  /**
   * What answers requests no route took, outside this router too: a JSON 404 with the API headers and a
   * request id, and the generic error handler. The standalone app ends with it, so a path outside its base
   * path never gets Express's HTML page.
   */
  fallback: Array<RequestHandler | ErrorRequestHandler>;
  /** Resolves once background work is running. */
  ready: Promise<void>;
  /** Fails readiness from now on (first step of a graceful shutdown). */
  drain(): void;
  /** Stops background work (the store stays open: its owner closes it). */
  close(): Promise<void>;
  /** Runs one background reconciliation pass now, as the timer does (tests and operators). */
  sweepNow(): Promise<void>;
};

function isClient(value: SignerOptions['gateway']): value is GatewayClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    'call' in value &&
    typeof value.call === 'function'
  );
}

export function createSigner(options: SignerOptions): Signer {
  const logger = options.logger ?? defaultLogger();
  const now = options.now ?? (() => new Date());
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const allowedOrigins = [...options.allowedOrigins];
  const { store } = options;
  const gateway = isClient(options.gateway)
    ? options.gateway
    : createGatewayClient({
        baseUrl: options.gatewayBaseUrl,
        apiKey: options.apiKey,
        salt: options.salt,
        pageOrigins: options.gatewayPageOrigins ?? defaultPageOrigins(options.gatewayBaseUrl),
        logger,
        now,
        ...options.gateway,
      });
  const notifier = new SessionNotifier();
  const outbox = new OutboxWorker({
    store,
    logger,
    now,
    hooks: options.hooks,
    webhook: options.webhook,
  });
  const deps = { store, gateway, logger, now };
  const cards = savedCardsConfig(options.savedCards);
  const manualCapture = options.captureMode === 'manual';
  const staleAfterMs = options.reconcile?.staleAfterMs ?? 60_000;
  const checkoutDeps = {
    ...deps,
    flow: options.flow ?? 'checkout',
    publicUrl,
    sessionTtlMs: (options.sessionTtlSeconds ?? 1800) * 1000,
    resolveToken: tokenResolver({ ...deps, cards }),
  };

  const ipn = ipnIntake({
    ...deps,
    salt: options.salt,
    onChange: () => void outbox.drain(),
    maxInFlight: options.ipnMaxInFlight ?? 64,
    unverifiedPerMinute: options.unverifiedIpnRate ?? 60,
    unverifiedPerMinuteTotal: options.unverifiedIpnRateTotal ?? 600,
    trustProxy: options.trustProxy ?? 0,
    setHeaders: apiHeaders.applyTo,
    cards,
  });

  const router = express.Router();
  // First: the gateway's notifications need nothing the later layers do (it sets its own id and headers).
  router.post('/ipn', (req, res) => ipn(req, res));
  router.use(requestId, refuseEncodedBody);
  // Server-to-server JSON answers get the API headers too (T30); the return pages set their own.
  router.use(['/healthz', '/readyz'], apiHeaders);
  let draining = false;
  router.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const storeOk = await store.getOrder('readyz-probe').then(
      () => true,
      () => false,
    );
    const ok = storeOk && !draining;
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : draining ? 'draining' : 'store_unavailable' });
  });

  router.use(returnRoutes({ ...deps, salt: options.salt, allowedOrigins }));

  const limits = options.rateLimits ?? {};
  // Before the widget router: the back office never gets the widget's CORS headers (server to server only).
  const admin = express.Router();
  admin.use(
    '/admin',
    apiHeaders,
    limiter(limits.admin ?? 120),
    express.json({ limit: '16kb', strict: true, inflate: false }),
    limitJsonDepth,
  );
  admin.use(adminRoutes({ store, now, adminToken: options.adminToken }));
  if (options.adminToken) {
    admin.use(
      opsRoutes({
        ...deps,
        cards,
        publicUrl,
        manualCapture,
        refundWindowMs:
          (options.refundWindowDays ?? DEFAULT_REFUND_WINDOW_MS / 86_400_000) * 86_400_000,
        managementOrderId: options.managementOrderId,
        checkout: checkoutDeps,
      }),
    );
    admin.use(gatewayTokenRoutes({ gateway }));
  }
  admin.use('/admin', notFound);
  router.use(admin);
  const widget = express.Router();
  widget.use(apiHeaders, originGuard(allowedOrigins), cors(corsOptions(allowedOrigins)));
  widget.post(
    ['/sessions', '/sessions/:id/cancel'],
    requireJson,
    express.json({ limit: '8kb', strict: true, inflate: false }),
    limitJsonDepth,
  );
  widget.post(
    '/sessions',
    limiter(limits.create ?? 30),
    idempotency({ store, now, ttlMs: 24 * 3600 * 1000 }),
  );
  widget.post('/sessions/:id/cancel', limiter(limits.create ?? 30));
  widget.get('/sessions/:id{/events}', limiter(limits.read ?? 600));
  widget.use(
    applePayRoutes({
      gateway,
      logger,
      validationPath: options.applePayValidationPath,
      requireJson,
      limitJsonDepth,
      limiter: limiter(limits.create ?? 30),
    }),
  );
  widget.use(
    sessionRoutes({
      ...checkoutDeps,
      allowedOrigins,
      resolve: options.resolveOrder,
      catalog: options.catalog,
      notifier,
      queryIntervalMs: 5000,
      cards,
      manualCapture,
    }),
  );
  widget.use(
    customerRoutes({
      ...deps,
      cards,
      requireJson,
      limitJsonDepth,
      limiter: limiter(limits.read ?? 600),
    }),
  );
  router.use(widget);

  const handleErrors = errorHandler(logger, apiHeaders.applyTo);
  router.use(apiHeaders, notFound);
  router.use(handleErrors);
  const fallback = [requestId, apiHeaders, notFound, handleErrors];

  // Refunds, voids and captures with an unknown outcome, and unexpected authorizations (issue 11).
  const operationsPass = operationsSweeper({
    ...deps,
    refundWindowMs:
      (options.refundWindowDays ?? DEFAULT_REFUND_WINDOW_MS / 86_400_000) * 86_400_000,
    unexpectedAuthorization: options.unexpectedAuthorization ?? DEFAULT_UNEXPECTED_AUTHORIZATION,
    managementOrderId: options.managementOrderId,
  });
  const operationsTimer = setInterval(
    () => void operationsPass(),
    options.reconcile?.intervalMs ?? 30_000,
  );
  operationsTimer.unref();
  const sweeper = setInterval(
    () =>
      void sweep(checkoutDeps, staleAfterMs).catch(() =>
        logger.warn({}, 'reconciliation pass failed'),
      ),
    options.reconcile?.intervalMs ?? 30_000,
  );
  sweeper.unref();
  outbox.start();
  const ready = notifier.start(store);

  return Object.assign(router, {
    ipn,
    fallback,
    ready,
    drain() {
      draining = true;
    },
    sweepNow: () => sweep(checkoutDeps, staleAfterMs).then(() => operationsPass()),
    async close() {
      draining = true;
      clearInterval(sweeper);
      clearInterval(operationsTimer);
      await ready.catch(() => undefined);
      await Promise.all([outbox.stop(), notifier.stop()]);
    },
  });
}

function savedCardsConfig(options: SignerOptions['savedCards']): SavedCardsConfig | undefined {
  if (!options) return undefined;
  if (options.customerHandleSecret.length < 32) {
    throw new TypeError(
      'createSigner: savedCards.customerHandleSecret must be at least 32 characters',
    );
  }
  return {
    vault: createTokenVault(options.encryptionKeys),
    handleSecret: options.customerHandleSecret,
  };
}

/** Every response carries a request id (also in the error body and the logs). */
const requestId: RequestHandler = (_req, res, next) => {
  res.locals.requestId = randomUUID();
  res.set('x-request-id', res.locals.requestId as string);
  next();
};

/**
 * No route takes a compressed body: 415, as the IPN intake answers, before any parser could inflate one. A
 * broken stream is never a 500, and a small gzip bomb never expands; the widget, the CLI and the gateway send
 * a few KB of plain JSON. Checked once here, so a route (or parser) added later cannot forget it.
 */
const refuseEncodedBody: RequestHandler = (req, _res, next) => {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity' && typeIs.hasBody(req)) {
    const { status, code, message } = UNSUPPORTED_ENCODING;
    next(new HttpError(status, code, message));
    return;
  }
  next();
};

/** JSON API headers: nothing to frame, sniff or cache. */
const apiHeaders = fixedHeaders(
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  }),
  { 'cache-control': 'no-store' },
);

/** A browser `Origin` must be exactly one of the merchant origins; `null` never is (T05). */
function originGuard(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin !== undefined && !allowed.includes(origin)) {
      sendError(res, 403, 'origin_not_allowed', 'this origin may not use the signer');
      return;
    }
    next();
  };
}

function corsOptions(allowed: readonly string[]): cors.CorsOptions {
  return {
    // Exact allow-list, never a reflection of whatever Origin came in.
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowed.includes(origin) ? origin : false),
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'idempotency-key', 'x-customer-handle'],
    exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
    maxAge: 600,
  };
}

/** State-changing widget routes take JSON only, so every cross-origin call is preflighted (ASVS 3.5.2). */
const requireJson: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) {
    sendError(res, 415, 'unsupported_media_type', 'send application/json');
    return;
  }
  next();
};

/** Deeper JSON is refused before anything walks it recursively (hashing, validation): rule 8, T27. */
const MAX_JSON_DEPTH = 64;

/** 400 for a parsed JSON body nested deeper than {@link MAX_JSON_DEPTH}; checked without recursion. */
const limitJsonDepth: RequestHandler = (req, res, next) => {
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

function limiter(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => sendError(res, 429, 'rate_limited', 'too many requests; slow down'),
  });
}
