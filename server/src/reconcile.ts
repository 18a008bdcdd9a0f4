/**
 * Asking the gateway: the Query Transaction API is authoritative, so a stale pending session, a browser
 * return, a closed dialog or an expiry is settled by what the gateway says now.
 */

import { GatewayError, type GatewayClient } from './gateway-client.js';
import type { Logger } from './logger.js';
import { reportFromQuery, settle } from './settlement.js';
import type { Session, Store } from './store/store.js';
import type { QueryResponseData } from '@galaxy-pay/protocol';

export interface ReconcileDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
}

/**
 * Queries the gateway about a session and applies the answer. Returns the session as it now stands; a
 * gateway failure leaves it unchanged (the next look tries again).
 */
export async function reconcile(deps: ReconcileDeps, session: Session): Promise<Session> {
  if (session.transactionId === null || session.status === 'paid') return session;
  try {
    const reply = await deps.gateway.query(session.transactionId);
    const data = reply.responseData as QueryResponseData | undefined;
    if (!data) return session;
    const result = await settle(deps, reportFromQuery(reply.rawBody, data));
    return result.session ?? session;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    deps.logger.warn(
      { sessionId: session.id, code: error.code },
      'query transaction failed; will retry later',
    );
    return session;
  }
}

/**
 * One pass of the background reconciler: stale pending sessions are queried, and sessions past their expiry
 * that the gateway still reports as unfinished are expired.
 */
export async function sweep(deps: ReconcileDeps, staleAfterMs: number): Promise<void> {
  const now = deps.now();
  const stale = await deps.store.listStalePending(new Date(now.getTime() - staleAfterMs), 50);
  for (const session of stale) {
    const current = await reconcile(deps, session);
    if (
      (current.status === 'pending' || current.status === 'pending_unknown') &&
      current.expiresAt <= now
    ) {
      await deps.store.transition(current.id, { to: 'expired', at: now });
    }
  }
}
