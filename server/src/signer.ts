/**
 * `createSigner(options)`: the Express router a merchant mounts (e.g. at `/galaxy-pay`). It carries its own
 * security headers, CORS allow-list, rate limits and error handler, so a mounted signer answers exactly like
 * the standalone one. Background work (outbox delivery, reconciliation, cross-process fan-out) starts with it
 * and stops with `close()`.
 *
 * This file composes the parts once (gateway client, checkout, operations, saved cards, outbox, notifier)
 * and hands them to the routing table (http/routes.ts) and the background passes.
 */

import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import { OutboxWorker } from './delivery/outbox.js';
import type { SignerHooks } from './delivery/notices.js';
import { SessionNotifier } from './delivery/notifier.js';
import { defaultPageOrigins } from './config.js';
import { createGatewayClient, type GatewayClient } from './gateway/client.js';
import type { GatewayClientOptions } from './gateway/options.js';
import { ipnIntake, type IpnIntake } from './http/routes/ipn.js';
import { apiHeaders } from './http/middleware.js';
import { fallbackRoutes, signerRoutes } from './http/routes.js';
import { defaultLogger, type Logger } from './logger.js';
import {
  DEFAULT_MANAGEMENT_ORDER_ID,
  DEFAULT_REFUND_WINDOW_MS,
  DEFAULT_UNEXPECTED_AUTHORIZATION,
  type ManagementOrderId,
  type OperationsSweepDeps,
  type UnexpectedAuthorization,
} from './operations/common.js';
import { operationsSweeper } from './operations/sweep.js';
import type { CheckoutDeps } from './payments/checkout-call.js';
import type { GatewayFlow } from './payments/checkout-request.js';
import type { OrderInput, ResolveOrder } from './payments/orders.js';
import { sweep } from './payments/sweep.js';
import type { Store } from './store/store.js';
import { tokenResolver, type SavedCardsConfig } from './tokens/cards.js';
import { createTokenVault } from './tokens/vault.js';

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

  // What every part works on, composed once: the routes and the background passes share these objects.
  const base = { store, gateway, logger, now };
  const cards = { ...base, cards: savedCardsConfig(options.savedCards) };
  const checkout: CheckoutDeps = {
    ...base,
    flow: options.flow ?? 'checkout',
    publicUrl,
    sessionTtlMs: (options.sessionTtlSeconds ?? 1800) * 1000,
    resolveToken: tokenResolver(cards),
  };
  const operations: OperationsSweepDeps = {
    ...base,
    refundWindowMs:
      (options.refundWindowDays ?? DEFAULT_REFUND_WINDOW_MS / 86_400_000) * 86_400_000,
    managementOrderId: options.managementOrderId ?? DEFAULT_MANAGEMENT_ORDER_ID,
    unexpectedAuthorization: options.unexpectedAuthorization ?? DEFAULT_UNEXPECTED_AUTHORIZATION,
  };
  const staleAfterMs = options.reconcile?.staleAfterMs ?? 60_000;

  const ipn = ipnIntake({
    ...base,
    salt: options.salt,
    onChange: () => void outbox.drain(),
    maxInFlight: options.ipnMaxInFlight ?? 64,
    unverifiedPerMinute: options.unverifiedIpnRate ?? 60,
    unverifiedPerMinuteTotal: options.unverifiedIpnRateTotal ?? 600,
    trustProxy: options.trustProxy ?? 0,
    setHeaders: apiHeaders.applyTo,
    cards: cards.cards,
  });

  let draining = false;
  const router = signerRoutes({
    ...base,
    salt: options.salt,
    allowedOrigins,
    checkout,
    operations,
    cards,
    links: { ...base, publicUrl },
    notifier,
    ipn,
    draining: () => draining,
    adminToken: options.adminToken,
    manualCapture: options.captureMode === 'manual',
    resolveOrder: options.resolveOrder,
    catalog: options.catalog,
    applePayValidationPath: options.applePayValidationPath,
    rateLimits: options.rateLimits ?? {},
  });

  // Refunds, voids and captures with an unknown outcome, and unexpected authorizations (issue 11).
  const operationsPass = operationsSweeper(operations);
  const operationsTimer = setInterval(
    () => void operationsPass(),
    options.reconcile?.intervalMs ?? 30_000,
  );
  operationsTimer.unref();
  const sweeper = setInterval(
    () =>
      void sweep(checkout, staleAfterMs).catch(() => logger.warn({}, 'reconciliation pass failed')),
    options.reconcile?.intervalMs ?? 30_000,
  );
  sweeper.unref();
  outbox.start();
  const ready = notifier.start(store);

  return Object.assign(router, {
    ipn,
    fallback: fallbackRoutes(logger),
    ready,
    drain() {
      draining = true;
    },
    sweepNow: () => sweep(checkout, staleAfterMs).then(() => operationsPass()),
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
