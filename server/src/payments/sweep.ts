/**
 * The background reconciler: every open session whose outcome is not known yet is asked about again, with
 * backoff after unanswered questions, until the gateway answers (issue 11 §1). A session is expired only
 * when the gateway has answered that it is not paid; a silence never settles anything.
 */

import { settleUnansweredCheckout, type CheckoutDeps } from './checkout-call.js';
import { classifyTransactionStatus } from '@galaxy-pay/protocol';
import { mayExpire, nextCheckDelayMs, PAGE_WATCH_AFTER_EXPIRY_MS, reconcile } from './reconcile.js';

/** Sessions looked at per pass: the rest wait for the next one (oldest first). */
const BATCH = 50;

/** One pass: returns how many sessions it asked about. */
export async function sweep(deps: CheckoutDeps, staleAfterMs: number): Promise<number> {
  const now = deps.now();
  const stale = await deps.store.listStalePending(
    new Date(now.getTime() - staleAfterMs),
    BATCH,
    now,
  );
  for (const session of stale) {
    try {
      if (session.transactionId === null) {
        // Its checkout reply never came (or its process died waiting): ask with the same request again.
        const order = await deps.store.getOrder(session.orderRef);
        if (order) await settleUnansweredCheckout(deps, session, order);
        continue;
      }
      const result = await reconcile(deps, session);
      const current = result.session;
      const open = current.status === 'pending' || current.status === 'pending_unknown';
      if (open && current.expiresAt <= now && mayExpire(result)) {
        await deps.store.transition(current.id, { to: 'expired', at: now });
      }
    } catch (error) {
      // One session's trouble (a store hiccup) must not stop the pass for the others.
      deps.logger.warn(
        { sessionId: session.id, errorName: (error as Error).name },
        'reconciliation of a session failed; next pass retries',
      );
    }
  }
  return stale.length + (await watchEndedPages(deps, staleAfterMs, now));
}

/** "Never again": the gateway ended the page itself. */
const NEVER = new Date('9999-12-31T00:00:00.000Z');

/**
 * Sessions the shopper closed while the gateway said "still processing" stay payable on their page until the
 * gateway ends it (Galaxy Pay cannot cancel an unpaid transaction). Ask about them with backoff until the
 * gateway says paid (recorded as a late success), or ended, or the page's lifetime is surely over.
 */
async function watchEndedPages(
  deps: CheckoutDeps,
  staleAfterMs: number,
  now: Date,
): Promise<number> {
  const ended = await deps.store.listEndedToWatch(
    new Date(now.getTime() - staleAfterMs),
    new Date(now.getTime() - PAGE_WATCH_AFTER_EXPIRY_MS),
    now,
    BATCH,
  );
  for (const session of ended) {
    try {
      const result = await reconcile(deps, session);
      if (result.outcome !== 'answered') continue; // reconcile scheduled the next try
      const says = classifyTransactionStatus(result.gatewayStatus);
      const over =
        says === 'cancelled' ||
        says === 'expired' ||
        says === 'voided' ||
        result.gatewayStatus === '505';
      const checks = session.checkFailures + 1;
      await deps.store.scheduleCheck(
        session.id,
        checks,
        over || result.session.status === 'paid'
          ? NEVER
          : new Date(now.getTime() + nextCheckDelayMs(checks)),
      );
    } catch (error) {
      deps.logger.warn(
        { sessionId: session.id, errorName: (error as Error).name },
        'watching a closed page failed; next pass retries',
      );
    }
  }
  return ended.length;
}
