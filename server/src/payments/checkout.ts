/**
 * Opening a checkout session: the order is priced on the server, the session is saved `pending` before the
 * gateway is called (so an IPN that overtakes the reply finds it: T26), and the request is built from stored
 * data only (checkout-request.ts): the browser contributes preferences, never money or URLs. One session per
 * order at a time: earlier sessions in doubt are settled with the gateway before a new one opens.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { classifyTransactionStatus, newRequestId } from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import { StoreError } from '../store/errors.js';
import type { Order, Session, SessionPlan, Store } from '../store/store.js';
import { callGateway, settleUnansweredCheckout, type CheckoutDeps } from './checkout-call.js';
import { newGatewayOrderId, newSessionId, randomId } from './ids.js';
import {
  gatewayUnavailable,
  mayExpire,
  PAGE_WATCH_AFTER_EXPIRY_MS,
  reconcile,
} from './reconcile.js';

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

/** How long a new session may wait for its checkout reply before a retry may call the gateway again. */
const IN_FLIGHT_MS = 15_000;

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
  // Also pages that expired lately: one paid just before its end may have an IPN still on its way.
  const pageMayHaveBeenPaidAfter = new Date(now.getTime() - PAGE_WATCH_AFTER_EXPIRY_MS);
  for (const ended of await deps.store.findEndedWithPage(
    order.orderRef,
    pageMayHaveBeenPaidAfter,
  )) {
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
    id: newSessionId(now.getTime()),
    nonce: randomId(),
    orderRef: order.orderRef,
    gatewayOrderId: newGatewayOrderId(now.getTime()),
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
