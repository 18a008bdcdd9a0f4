/**
 * Asking the gateway: the Query Transaction API is authoritative, so a stale pending session, a browser
 * return, a closed dialog or an expiry is settled by what the gateway says now. Only an answer settles:
 * a query that went unanswered (timeout, reset, 5xx, a reply that does not verify) leaves the session open,
 * says so to the caller, and is asked again later with backoff (issue 11 §1).
 */

import { classifyTransactionStatus, type QueryResponseData } from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import type { GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import type { Logger } from '../logger.js';
import { reportFromQuery, settle } from './settlement.js';
import type { Session, Store } from '../store/store.js';

export interface ReconcileDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
}

/** What asking the gateway about a session came to. */
export interface Reconciled {
  session: Session;
  /**
   * `answered`: the gateway answered and says what it knows (the session may still be open: the shopper is
   * paying). `unanswered`: no verified answer; nothing may be concluded. `no_transaction`: there is nothing
   * to ask about yet (the checkout reply never came). `settled`: already paid; nothing was asked.
   */
  outcome: 'answered' | 'unanswered' | 'no_transaction' | 'settled';
  /** The transaction status the gateway reported, when it answered. */
  gatewayStatus?: string;
}

/**
 * How long after its expiry a closed session's page is still asked about: the gateway's own page lifetime is
 * not documented (the sandbox's is 15 minutes, shorter than a session's 30), and a page paid just before it
 * ended may have an IPN still on its way. The watcher of closed pages (sweep.ts) and a new checkout for the
 * order (checkout.ts) both use it, so neither trusts an expiry the other would still check.
 */
export const PAGE_WATCH_AFTER_EXPIRY_MS = 60 * 60_000;

/** Backoff of the sweep after unanswered questions: 30 s, 1, 2, 4, 8 min… at most 15 min apart. */
export function nextCheckDelayMs(failures: number): number {
  return Math.min(15 * 60_000, 30_000 * 2 ** Math.max(0, failures - 1));
}

/** The answer a caller gets while the gateway cannot tell what happened: retry, never "not paid". */
export function gatewayUnavailable(
  message = 'the payment gateway did not answer, so the outcome is not known yet; try again in a moment',
): HttpError {
  return new HttpError(503, 'gateway_unavailable', message, { 'retry-after': '2' });
}

/**
 * Queries the gateway about a session and applies the answer. Returns the session as it now stands, and
 * whether the gateway answered at all: a caller about to settle the session (cancel, expire) must not when
 * it did not.
 */
export async function reconcile(deps: ReconcileDeps, session: Session): Promise<Reconciled> {
  if (session.status === 'paid') return { session, outcome: 'settled' };
  if (session.transactionId === null) return { session, outcome: 'no_transaction' };
  try {
    const reply = await deps.gateway.query(session.transactionId);
    const data = reply.responseData as QueryResponseData | undefined;
    if (!data) return await unanswered(deps, session, 'query reply without responseData');
    const result = await settle(deps, reportFromQuery(reply.rawBody, data));
    const current = result.session ?? session;
    if (session.checkFailures > 0) await deps.store.scheduleCheck(session.id, 0, null);
    return {
      session: current,
      outcome: 'answered',
      gatewayStatus: String(data.transactionStatus),
    };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return unanswered(deps, session, error.code);
  }
}

async function unanswered(deps: ReconcileDeps, session: Session, why: string): Promise<Reconciled> {
  const failures = session.checkFailures + 1;
  const next = new Date(deps.now().getTime() + nextCheckDelayMs(failures));
  await deps.store.scheduleCheck(session.id, failures, next).catch(() => undefined);
  deps.logger.warn(
    { sessionId: session.id, code: why, failures },
    'query transaction unanswered; the session stays open and is asked again later',
  );
  const current = (await deps.store.getSession(session.id)) ?? session;
  return { session: current, outcome: 'unanswered' };
}

/**
 * Whether a gateway answer lets a session past its expiry be expired: the gateway answered, and what it
 * said is neither a payment, an authorization, nor a provider problem (502–504: the gateway itself does not
 * know). An undocumented code past the expiry counts as "not paid": the shopper's page is long gone, and a
 * payment reported later is still recorded (a late success), never lost.
 */
export function mayExpire(result: Reconciled): boolean {
  if (result.outcome !== 'answered') return false;
  const outcome = classifyTransactionStatus(result.gatewayStatus);
  return outcome !== 'paid' && outcome !== 'authorized' && outcome !== 'unknown';
}
