/**
 * Opening a checkout session: the order is priced on the server, the session is saved `pending` before the
 * gateway is called (so an IPN that overtakes the reply finds it: T26), and the request is built here from
 * stored data only: the browser contributes preferences, never money or URLs.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  classifyTransactionStatus,
  Endpoint,
  formatGatewayDateTime,
  newRequestId,
  type CheckoutRequestData,
  type PayRequestData,
  type PayWithOptionRequestData,
  type PayWithQrRequestData,
} from '@galaxy-pay/protocol';
import type { GatewayFlow } from './config.js';
import { HttpError } from './errors.js';
import { GatewayError, type GatewayClient } from './gateway-client.js';
import type { Logger } from './logger.js';
import { StoreError } from './store/errors.js';
import type { Order, Session, SessionPlan, Store } from './store/store.js';
import { gatewayUnavailable, mayExpire, nextCheckDelayMs, reconcile } from './reconcile.js';

export interface CheckoutDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
  flow: GatewayFlow;
  /** Absolute base URL of the signer routes (callback URLs are built from it). */
  publicUrl: string;
  sessionTtlMs: number;
  /** Decrypts the gateway token of a session paying with a saved card (`plan.op` token or fast_pay). */
  resolveToken?: (session: Session) => Promise<string>;
}

/** The shopper's allow-listed preferences. */
export interface CheckoutPreferences {
  locale: 'vi' | 'en';
  paymentMethod?: string;
  sourceType?: string;
  returnUrl?: string;
  merchantOrigin: string | null;
  /** Saved card, QR or manual capture (see `SessionPlan`); absent for a plain hosted checkout. */
  plan?: SessionPlan | null;
  /** The opening browser's secret: only a caller holding it gets this session back, or may cancel it. */
  clientKey?: string;
}

/** A random id with `bytes` bytes of entropy, base64url. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** How long a new session may wait for its checkout reply before a retry may call the gateway again. */
const IN_FLIGHT_MS = 15_000;

/** Session ids are 128-bit random base64url (22 characters). */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** Builds the gateway request for the configured flow from stored data only. */
export function buildGatewayRequest(
  deps: Pick<CheckoutDeps, 'flow' | 'publicUrl'>,
  session: Session,
  order: Order,
  at: Date,
  token?: string,
): {
  endpoint: (typeof Endpoint)[keyof typeof Endpoint];
  data: CheckoutRequestData | PayRequestData | PayWithOptionRequestData | PayWithQrRequestData;
} {
  const base = deps.publicUrl;
  const common = {
    orderID: session.gatewayOrderId,
    // orderNumber (Alphanumeric(20)) shows the merchant's own reference in Galaxy Pay's portal when it fits.
    ...(/^[A-Za-z0-9]{1,20}$/.test(order.orderRef) ? { orderNumber: order.orderRef } : {}),
    orderAmount: order.amount,
    orderCurrency: order.currency as 'VND',
    orderDateTime: formatGatewayDateTime(at),
    orderDescription: order.description,
    language: session.locale as 'vi' | 'en',
    successURL: `${base}/return/${session.id}/result`,
    failureURL: `${base}/return/${session.id}/result`,
    cancelURL: `${base}/return/${session.id}/cancel`,
    ipnURL: `${base}/ipn`,
  };
  const method = (session.paymentMethod ?? 'DOMESTIC') as PayRequestData['paymentMethod'];
  const source = session.sourceType ? { sourceType: session.sourceType } : {};
  const special = planRequest(session, common, method, source, token);
  if (special) return special;
  switch (deps.flow) {
    case 'checkout':
      // checkout documents no apiVersion or callback URLs; they are sent anyway (§6.4) and not relied on.
      return {
        endpoint: Endpoint.Checkout,
        data: {
          apiVersion: 2,
          ...common,
          orderNetAmount: order.netAmount,
          orderFeeAmount: order.feeAmount,
          orderDiscountAmount: order.discountAmount,
          paymentMethod: method,
          ...source,
        },
      };
    case 'pay':
      return {
        endpoint: Endpoint.Pay,
        data: { apiVersion: 2, apiOperation: 'PAY', ...common, paymentMethod: method, ...source },
      };
    case 'payWithOption':
      return {
        endpoint: Endpoint.PayWithOption,
        data: { apiVersion: 2, apiOperation: 'PAY', ...common },
      };
  }
}

/**
 * The request a session's plan asks for (saved card, QR, manual capture), or undefined for the configured
 * flow. Built from stored data only, like every other request; the token is decrypted by the caller.
 */
function planRequest(
  session: Session,
  common: Omit<PayRequestData, 'apiOperation' | 'paymentMethod'>,
  method: PayRequestData['paymentMethod'],
  source: { sourceType?: string },
  token: string | undefined,
): ReturnType<typeof buildGatewayRequest> | undefined {
  const plan = session.plan;
  if (!plan) return undefined;
  const capture = plan.capture === 'manual' ? { isAutoCapture: 'false' as const } : {};
  switch (plan.op) {
    case 'qr':
      return {
        endpoint: Endpoint.PayWithQr,
        data: {
          ...common,
          apiOperation: 'PAY',
          orderCurrency: 'VND',
          paymentMethod: method === 'WALLET' ? 'WALLET' : 'QRPAY',
          sourceType: session.sourceType ?? 'QRPAY',
        },
      };
    case 'create_token':
      // Without a chosen method the shopper picks one on the hosted page (payWithOption takes the operation).
      return session.paymentMethod
        ? {
            endpoint: Endpoint.Pay,
            data: {
              apiVersion: 2,
              ...common,
              apiOperation: 'PAY_WITH_CREATE_TOKEN',
              paymentMethod: method,
              ...source,
              ...capture,
            },
          }
        : {
            endpoint: Endpoint.PayWithOption,
            data: { apiVersion: 2, ...common, apiOperation: 'PAY_WITH_CREATE_TOKEN' },
          };
    case 'token':
    case 'fast_pay':
      if (token === undefined) throw new Error('a saved-card session needs its token');
      return {
        endpoint: Endpoint.Pay,
        data: {
          apiVersion: 2,
          ...common,
          apiOperation: plan.op === 'fast_pay' ? 'FAST_PAY' : 'PAY',
          paymentMethod: plan.op === 'fast_pay' ? 'INTERNATIONAL' : method,
          sourceOfFund: 'TOKEN',
          token,
          ...capture,
        },
      };
    default:
      if (plan.capture !== 'manual') return undefined;
      // Authorize only: isAutoCapture is a pay field; the other flows get it as an extra field [CONFIRM].
      return {
        endpoint: Endpoint.Pay,
        data: {
          apiVersion: 2,
          apiOperation: 'PAY',
          ...common,
          paymentMethod: session.paymentMethod ? method : 'INTERNATIONAL',
          ...source,
          ...capture,
        },
      };
  }
}

/** The outcome of opening a session. */
export type OpenResult = { kind: 'created' | 'existing'; session: Session };

/**
 * Returns the order's open session, or opens a new one. Throws HttpError for a paid order, a session whose
 * outcome is in doubt, and gateway failures (after recording them on the session).
 */
export function openSession(
  deps: CheckoutDeps,
  order: Order,
  prefs: CheckoutPreferences,
): Promise<OpenResult> {
  return oneAtATime(deps.store, order.orderRef, () => openSessionNow(deps, order, prefs));
}

/** Pending open-session work per store and orderRef (the tail of a chain that never rejects). */
const openQueues = new WeakMap<Store, Map<string, Promise<void>>>();

/**
 * Runs `work` after any earlier open-session work for the same order in this process. Without it a double
 * click creates two sessions (two gateway transactions for one order), or re-sends an orderID whose first
 * checkout is still in flight, gets 409 Transaction Duplicate and turns a good session `pending_unknown`.
 * Several signer processes on one database still need a store-level guard (one open session per orderRef).
 */
function oneAtATime<T>(store: Store, orderRef: string, work: () => Promise<T>): Promise<T> {
  let queues = openQueues.get(store);
  if (!queues) openQueues.set(store, (queues = new Map()));
  const result = (queues.get(orderRef) ?? Promise.resolve()).then(work);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(orderRef, tail);
  void tail.then(() => {
    if (queues.get(orderRef) === tail) queues.delete(orderRef);
  });
  return result;
}

async function openSessionNow(
  deps: CheckoutDeps,
  order: Order,
  prefs: CheckoutPreferences,
): Promise<OpenResult> {
  const now = deps.now();
  if (await deps.store.findPaidSession(order.orderRef)) {
    throw new HttpError(409, 'order_already_paid', 'this order has already been paid');
  }
  let open = await deps.store.findOpenSession(order.orderRef, now);
  if (open && open.transactionId === null && !inFlight(open, now)) {
    // Its checkout reply never came: find out what the gateway did before anything else (issue 11 §3).
    open = await settleUnansweredCheckout(deps, open, order);
    if (open.status !== 'pending' && open.status !== 'pending_unknown') open = null;
  }
  if (open) {
    if (open.transactionId === null && open.status === 'pending_unknown') {
      // Asked again just now, and still no answer: nothing is known; the shopper retries in a moment.
      throw gatewayUnavailable();
    }
    if (open.transactionId === null) {
      // Its checkout call is still under way (here or in another signer process): wait for it.
      throw new HttpError(409, 'request_in_progress', 'a checkout for this order is being opened', {
        'retry-after': '1',
      });
    }
    // The open session goes back only to the browser that opened it (issue 11 §4).
    if (!ownsSession(open, prefs.clientKey)) throw orderBeingPaid(open, now);
    return { kind: 'existing', session: open };
  }
  const reopened = await reuseEndedSession(deps, order, prefs, now);
  if (reopened) return { kind: 'existing', session: reopened };
  await retireLapsedSession(deps, order, now);
  let session: Session;
  try {
    session = await deps.store.createSession(newSession(deps, order, prefs, now));
  } catch (error) {
    if (!(error instanceof StoreError) || error.code !== 'open_session_exists') throw error;
    // Another signer process (or an earlier attempt still in doubt) holds the order: the caller retries.
    throw new HttpError(409, 'request_in_progress', 'a checkout for this order is being opened', {
      'retry-after': '1',
    });
  }
  return { kind: 'created', session: await callGateway(deps, session, order) };
}

/** Whether a session's first checkout call may still be under way (it is not ours to retry yet). */
function inFlight(session: Session, now: Date): boolean {
  return session.status === 'pending' && now.getTime() - session.createdAt.getTime() < IN_FLIGHT_MS;
}

/** SHA-256 of a browser's client key, as stored with the session it opened. */
export function clientKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether the caller holds the key of the browser that opened the session. */
export function ownsSession(session: Session, clientKey: string | undefined): boolean {
  if (session.clientKeyHash === null || clientKey === undefined) return false;
  const presented = Buffer.from(clientKeyHash(clientKey), 'hex');
  return timingSafeEqual(presented, Buffer.from(session.clientKeyHash, 'hex'));
}

/**
 * A checkout whose reply never came (timeout, reset, a reply that did not verify): the gateway may hold a
 * transaction for its orderID whose hosted-page address nobody ever received. Query Transaction needs the
 * gateway's transactionID, which was in the lost reply, so the only question the protocol lets us ask is
 * the same signed request again (same requestID and orderID):
 * - it succeeds: the first never registered; the session gets its transaction and page now;
 * - the gateway refuses it (409 Duplicate, or any definite refusal): it did register the first (or would
 *   have refused it too). Its page address was never handed out, so nobody can pay it: the session is
 *   released as `failed` (code `checkout_lost`), and a verified success that still came for it would be
 *   recorded as a late success. FAST_PAY has no page (the charge happens in the call): it stays in doubt;
 * - no answer again: nothing is known; the session stays `pending_unknown` and is asked again later.
 */
export async function settleUnansweredCheckout(
  deps: CheckoutDeps,
  session: Session,
  order: Order,
): Promise<Session> {
  try {
    return await sendCheckout(deps, session, order);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const at = deps.now();
    if (isAnswer(error) && session.plan?.op !== 'fast_pay') {
      const { session: released } = await deps.store.transition(session.id, {
        to: 'failed',
        at,
        evidence: {
          kind: 'checkout',
          transactionId: null,
          code: 'checkout_lost',
          message: `checkout reply lost; the retry was refused (${error.responseCode ?? error.code})`,
        },
      });
      deps.logger.warn(
        { sessionId: session.id, code: error.code },
        'unanswered checkout released: its page address was never handed out',
      );
      return released;
    }
    await deps.store.markPendingUnknown(session.id, at);
    const failures = session.checkFailures + 1;
    await deps.store.scheduleCheck(
      session.id,
      failures,
      new Date(at.getTime() + nextCheckDelayMs(failures)),
    );
    deps.logger.warn({ sessionId: session.id, code: error.code }, 'checkout retry unanswered');
    return (await deps.store.getSession(session.id)) ?? session;
  }
}

/** A gateway answer that verified and refuses the call (not a silence, not an untrusted reply). */
function isAnswer(error: GatewayError): boolean {
  return (
    (error.code === 'gateway_duplicate' || error.code === 'gateway_rejected') &&
    error.responseCode !== undefined
  );
}

/**
 * A session the shopper closed can still take a payment on its hosted page until the gateway ends it:
 * Galaxy Pay has no call that cancels an unpaid transaction. So before a second gateway transaction opens
 * for the order, each recently ended session with a page is checked with the gateway (issue 11 §1):
 * - paid or authorized after all: the order is paid (recorded as a late success);
 * - no answer: nothing may open yet (503, try again in a moment);
 * - ended at the gateway (499 cancelled, 408 expired, 505 failed): its page takes no payment; go on;
 * - anything else (still processing, an undocumented code): the page may still be paid. Its browser gets that
 *   same page back (the session reopens as pending); anyone else hears that the order is being paid.
 */
async function reuseEndedSession(
  deps: CheckoutDeps,
  order: Order,
  prefs: CheckoutPreferences,
  now: Date,
): Promise<Session | null> {
  for (const ended of await deps.store.findEndedWithPage(order.orderRef, now)) {
    const result = await reconcile(deps, ended);
    const current = result.session;
    if (current.status === 'paid' || current.status === 'authorized') {
      throw new HttpError(409, 'order_already_paid', 'this order has already been paid');
    }
    if (
      result.outcome !== 'answered' ||
      classifyTransactionStatus(result.gatewayStatus) === 'unknown'
    ) {
      throw gatewayUnavailable(
        'an earlier payment attempt for this order is still being checked with the gateway; try again in a moment',
      );
    }
    const gatewaySays = classifyTransactionStatus(result.gatewayStatus);
    const pageEnded =
      gatewaySays === 'cancelled' ||
      gatewaySays === 'expired' ||
      gatewaySays === 'voided' ||
      (gatewaySays === 'failed' && result.gatewayStatus === '505');
    if (pageEnded) continue;
    if (!ownsSession(current, prefs.clientKey)) throw orderBeingPaid(current, now);
    const reopened = await deps.store.reopenSession(current.id, now);
    if (reopened.session.status === 'pending') return reopened.session;
  }
  return null;
}

function orderBeingPaid(session: Session, now: Date): HttpError {
  const seconds = Math.max(1, Math.ceil((session.expiresAt.getTime() - now.getTime()) / 1000));
  return new HttpError(
    409,
    'order_has_open_session',
    'this order is being paid in another window; finish or close it there, or try again later',
    { 'retry-after': String(seconds) },
  );
}

/**
 * A session past its expiry that nobody has marked expired yet still counts as the order's open session
 * (the database allows one). Ask the gateway about it first: if it was paid, the order is paid; if the
 * gateway says it is not, it expires and a new session may open; if the gateway does not answer, nothing
 * may open (the old one may be paid at this very moment).
 */
async function retireLapsedSession(deps: CheckoutDeps, order: Order, now: Date): Promise<void> {
  let lapsed = await deps.store.findOpenSession(order.orderRef, new Date(0));
  if (!lapsed || lapsed.expiresAt > now) return;
  if (lapsed.transactionId === null) {
    lapsed = await settleUnansweredCheckout(deps, lapsed, order);
    if (lapsed.status === 'failed') return;
  }
  const result = await reconcile(deps, lapsed);
  const current = result.session;
  if (current.status === 'paid' || current.status === 'authorized') {
    throw new HttpError(409, 'order_already_paid', 'this order has already been paid');
  }
  if (current.status !== 'pending' && current.status !== 'pending_unknown') return;
  if (!mayExpire(result)) {
    throw gatewayUnavailable(
      'an earlier payment attempt for this order is still being checked with the gateway; try again in a moment',
    );
  }
  await deps.store.transition(current.id, { to: 'expired', at: now });
}

function newSession(deps: CheckoutDeps, order: Order, prefs: CheckoutPreferences, now: Date) {
  return {
    id: randomId(),
    nonce: randomId(),
    orderRef: order.orderRef,
    gatewayOrderId: randomBytes(16).toString('hex'),
    requestId: newRequestId(),
    amount: order.amount,
    currency: order.currency,
    locale: prefs.locale,
    paymentMethod: prefs.paymentMethod ?? null,
    sourceType: prefs.sourceType ?? null,
    returnUrl: prefs.returnUrl ?? null,
    merchantOrigin: prefs.merchantOrigin,
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.sessionTtlMs),
    plan: prefs.plan ?? null,
    clientKeyHash: prefs.clientKey === undefined ? null : clientKeyHash(prefs.clientKey),
  };
}

async function callGateway(deps: CheckoutDeps, session: Session, order: Order): Promise<Session> {
  try {
    return await sendCheckout(deps, session, order);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw await recordFailure(deps, session, error);
  }
}

/** Sends the session's checkout call and records its answer; a GatewayError is the caller's to judge. */
async function sendCheckout(deps: CheckoutDeps, session: Session, order: Order): Promise<Session> {
  const op = session.plan?.op;
  const token =
    (op === 'token' || op === 'fast_pay') && deps.resolveToken
      ? await deps.resolveToken(session)
      : undefined;
  const { endpoint, data } = buildGatewayRequest(deps, session, order, deps.now(), token);
  const reply = await deps.gateway.call(endpoint, data, { requestId: session.requestId });
  {
    const {
      transactionID,
      endpoint: checkoutUrl,
      qrCode,
    } = reply.responseData as { transactionID: string; endpoint?: string; qrCode?: string };
    if (op === 'qr' && typeof qrCode === 'string') {
      // The QR payload is what the shopper scans; kept with the session so the signer can render it.
      await deps.store.setSessionPlan(session.id, {
        ...session.plan,
        qrCode: qrCode.slice(0, 1000),
      });
    }
    return await deps.store.attachCheckout(
      session.id,
      // FAST_PAY has no page: the charge is already done (or refused).
      { transactionId: transactionID, checkoutUrl: checkoutUrl ?? '' },
      deps.now(),
    );
  }
}

/** Records what a failed gateway call means for the session, and returns the error to answer with. */
async function recordFailure(
  deps: CheckoutDeps,
  session: Session,
  error: GatewayError,
): Promise<HttpError> {
  const at = deps.now();
  const retryAfter = { 'retry-after': String(error.retryAfterSeconds ?? 30) };
  // An untrusted reply is no answer either: the gateway may have made the transaction it describes.
  const inDoubt =
    error.mayHaveReachedGateway &&
    (error.code === 'upstream_timeout' ||
      error.code === 'upstream_error' ||
      error.code === 'upstream_untrusted' ||
      error.code === 'gateway_duplicate');
  switch (inDoubt ? 'in_doubt' : error.code) {
    case 'in_doubt':
      // The gateway may hold this order (the request may have arrived): never mint a new orderID for it.
      await deps.store.markPendingUnknown(session.id, at);
      deps.logger.warn(
        { sessionId: session.id, code: error.code },
        'checkout outcome unknown; session pending_unknown',
      );
      // The next click asks the gateway again at once (settleUnansweredCheckout): "in a moment".
      return error.code === 'upstream_timeout'
        ? new HttpError(
            504,
            'upstream_timeout',
            'the payment gateway did not answer in time; try again in a moment',
            { 'retry-after': '2' },
          )
        : new HttpError(
            502,
            error.code === 'upstream_untrusted' ? 'upstream_untrusted' : 'upstream_error',
            'the payment gateway could not be reached; try again in a moment',
            { 'retry-after': '2' },
          );
    default: {
      await deps.store.transition(session.id, {
        to: 'failed',
        at,
        evidence: {
          kind: 'checkout',
          transactionId: null,
          code: error.responseCode ?? '502',
          message: error.code,
        },
      });
      if (error.code === 'circuit_open') {
        return new HttpError(
          503,
          'gateway_unavailable',
          'payments are paused for a moment; try again shortly',
          retryAfter,
        );
      }
      if (error.code === 'gateway_auth_failed') {
        deps.logger.error(
          { sessionId: session.id },
          'the gateway refused our credentials: check GALAXY_PAY_API_KEY and GALAXY_PAY_SALT',
        );
      }
      const code = error.code === 'upstream_untrusted' ? 'upstream_untrusted' : 'upstream_error';
      return new HttpError(502, code, 'the payment gateway refused the checkout; try again later');
    }
  }
}
