/**
 * A checkout's one gateway call: send the session's request (the same signed request on a retry), attach the
 * gateway's transaction and page to the session, and record what a refusal or a silence means for it.
 * `CheckoutDeps` is what every checkout step shares; the signer builds it once.
 */

import { HttpError } from '../http/errors.js';
import type { GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import type { Logger } from '../logger.js';
import type { Order, Session, Store } from '../store/store.js';
import { buildGatewayRequest, type GatewayFlow } from './checkout-request.js';
import { nextCheckDelayMs } from './reconcile.js';

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

export async function callGateway(
  deps: CheckoutDeps,
  session: Session,
  order: Order,
): Promise<Session> {
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
