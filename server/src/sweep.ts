/**
 * The background reconciler: every open session whose outcome is not known yet is asked about again, with
 * backoff after unanswered questions, until the gateway answers (issue 11 §1). A session is expired only
 * when the gateway has answered that it is not paid; a silence never settles anything.
 */

import { settleUnansweredCheckout, type CheckoutDeps } from './checkout.js';
import { mayExpire, reconcile } from './reconcile.js';

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
  return stale.length;
}
