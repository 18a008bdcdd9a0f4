/**
 * The signer's routing table: every route it answers, in the order Express tries them, each with its
 * middleware next to its handler (the shape of expressjs/express `examples/route-separation`). A `use` line
 * applies to everything below it that its path covers. The handlers are in routes/,
 * the middleware in middleware.ts; what they work on (payments, operations, cards) comes composed from
 * signer.ts.
 */

import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import type { SessionNotifier } from '../delivery/notifier.js';
import type { GatewayClient } from '../gateway/client.js';
import type { Logger } from '../logger.js';
import type { OperationsDeps } from '../operations/common.js';
import type { LinkDeps } from '../operations/links.js';
import type { CheckoutDeps } from '../payments/checkout-call.js';
import type { OrderInput, ResolveOrder } from '../payments/orders.js';
import type { Store } from '../store/store.js';
import type { CardsDeps } from '../tokens/cards.js';
import { errorHandler, notFound } from './errors.js';
import { idempotency } from './idempotency.js';
import {
  apiHeaders,
  checkOperator,
  formBody,
  jsonBody,
  limiter,
  limitJsonDepth,
  originGuard,
  refuseEncodedBody,
  requestId,
  requireBearer,
  requireJson,
  widgetCors,
} from './middleware.js';
import { adminCustomerHandlers } from './routes/admin-customers.js';
import { adminLinkHandlers } from './routes/admin-links.js';
import { adminOrderHandlers } from './routes/admin-orders.js';
import { adminPaymentHandlers } from './routes/admin-payments.js';
import { applePayValidation, gatewayTokens } from './routes/capabilities.js';
import { customerHandlers } from './routes/customer.js';
import { healthHandlers } from './routes/health.js';
import type { IpnIntake } from './routes/ipn.js';
import { returnPage } from './routes/return.js';
import { sessionHandlers } from './routes/sessions.js';

/** What the routes work on, composed once by `createSigner`. */
export interface RouteDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
  /** Verifies the return pages' signed data (the IPN intake has its own copy). */
  salt: string;
  /** Merchant page origins: the widget routes' CORS and origin guard, the return page's frame-ancestors. */
  allowedOrigins: readonly string[];
  checkout: CheckoutDeps;
  operations: OperationsDeps;
  /** Saved cards (absent `cards.cards`: off), with the gateway to delete their tokens. */
  cards: CardsDeps & { gateway: GatewayClient };
  links: LinkDeps;
  notifier: SessionNotifier;
  /** `POST /ipn`, a plain Node handler (the standalone app also runs it before Express). */
  ipn: IpnIntake;
  /** True once shutdown began: `/readyz` fails first. */
  draining: () => boolean;
  /** Enables `/admin/*` with this bearer token; without it every `/admin` path is a 404. */
  adminToken?: string;
  manualCapture: boolean;
  resolveOrder?: ResolveOrder;
  catalog?: Record<string, OrderInput>;
  applePayValidationPath?: string;
  /** Requests per minute and IP (tests raise them). */
  rateLimits: { create?: number; read?: number; admin?: number };
}

export function signerRoutes(deps: RouteDeps): Router {
  const { store, gateway, logger, now, allowedOrigins, rateLimits: limits } = deps;
  const health = healthHandlers({ store, gateway, draining: deps.draining });
  const page = returnPage({ store, gateway, logger, now, salt: deps.salt, allowedOrigins });
  const orders = adminOrderHandlers(deps.operations);
  const payments = adminPaymentHandlers(deps.operations);
  const adminCustomers = adminCustomerHandlers({
    ...deps.operations,
    cards: deps.cards.cards,
    checkout: deps.checkout,
    manualCapture: deps.manualCapture,
  });
  const links = adminLinkHandlers(deps.links);
  const sessions = sessionHandlers({
    checkout: deps.checkout,
    cards: deps.cards,
    allowedOrigins,
    resolve: deps.resolveOrder,
    catalog: deps.catalog,
    notifier: deps.notifier,
    queryIntervalMs: 5000,
    manualCapture: deps.manualCapture,
  });
  const customer = customerHandlers(deps.cards);
  const applePay = applePayValidation({
    gateway,
    logger,
    validationPath: deps.applePayValidationPath,
  });
  const idempotent = idempotency({ store, now, ttlMs: 24 * 3600 * 1000 });
  /** A state-changing widget call: JSON only (always preflighted), at most `limit`, not too deep. */
  const json = (limit: string) => [requireJson, jsonBody(limit), limitJsonDepth];
  // Per IP and minute; each is a counter of its own.
  const adminLimit = limiter(limits.admin ?? 120);
  const createLimit = limiter(limits.create ?? 30);
  const cancelLimit = limiter(limits.create ?? 30);
  const readLimit = limiter(limits.read ?? 600);
  const applePayLimit = limiter(limits.create ?? 30);
  const customerLimit = limiter(limits.read ?? 600);
  const r = express.Router();

  // The gateway's notifications first: they need nothing below (the intake sets its own id and headers).
  r.post('/ipn', (req, res) => deps.ipn(req, res));
  r.use(requestId, refuseEncodedBody);

  // Operations. Server-to-server JSON answers get the API headers too (T30).
  r.get('/healthz', apiHeaders, health.live);
  r.get('/readyz', apiHeaders, health.ready);

  // The gateway's redirects of the shopper's browser; the page sets its own headers.
  r.get('/return/:id/:kind', page);
  r.post('/return/:id/:kind', formBody('32kb'), page);

  // The back office, before the widget routes: it never gets their CORS headers (server to server only).
  r.use('/admin', apiHeaders, adminLimit, jsonBody('16kb'), limitJsonDepth);
  if (deps.adminToken) {
    r.use('/admin', requireBearer(deps.adminToken));
    r.post('/admin/orders', orders.register);
    // Every admin route below records who acted (`x-operator`): a malformed one is refused first.
    r.use('/admin', checkOperator);
    r.get('/admin/orders', orders.list);
    r.get('/admin/orders/:orderRef', orders.show);
    r.post('/admin/orders/:orderRef/query', payments.query);
    r.post('/admin/orders/:orderRef/refund', payments.refund);
    r.post('/admin/orders/:orderRef/void', payments.void);
    r.post('/admin/orders/:orderRef/capture', payments.capture);
    r.post('/admin/reconcile', orders.reconcileStale);
    r.get('/admin/operations', orders.operations);
    r.post('/admin/customer-handles', adminCustomers.mintHandle);
    r.get('/admin/customers/:customerRef/cards', adminCustomers.listCards);
    r.delete('/admin/customers/:customerRef/cards/:tokenId', adminCustomers.removeCard);
    r.post('/admin/fast-pay', adminCustomers.fastPay);
    r.post('/admin/links', links.create);
    r.get('/admin/links', links.list);
    r.get('/admin/links/:orderNo', links.show);
    r.get('/admin/customers/:customerRef/gateway-tokens', gatewayTokens({ gateway }));
  }
  r.use('/admin', notFound);

  // The widget: everything below, unknown paths included, passes the origin guard and CORS.
  r.use(apiHeaders, originGuard(allowedOrigins), widgetCors(allowedOrigins));
  r.post('/sessions', json('8kb'), createLimit, idempotent, sessions.create);
  r.post('/sessions/:id/cancel', json('8kb'), cancelLimit, sessions.cancel);
  r.get('/sessions/:id', readLimit, sessions.read);
  r.get('/sessions/:id/events', readLimit, sessions.events);
  r.post('/apple-pay/validate-merchant', applePayLimit, json('2kb'), applePay);
  r.get('/customer/tokens', customerLimit, customer.listCards);
  r.post('/customer/tokens/:id/delete', customerLimit, json('4kb'), customer.removeCard);
  r.get('/sessions/:id/qr.svg', customerLimit, customer.qrCode);

  r.use(apiHeaders, notFound);
  r.use(errorHandler(logger, apiHeaders.applyTo));
  return r;
}

/**
 * What answers requests no route took, outside the signer's router too: a JSON 404 with the API headers and
 * a request id, and the generic error handler.
 */
export function fallbackRoutes(logger: Logger): Array<RequestHandler | ErrorRequestHandler> {
  return [requestId, apiHeaders, notFound, errorHandler(logger, apiHeaders.applyTo)];
}
