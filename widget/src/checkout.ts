/**
 * The checkout once the signer has opened its session: following the verified status, the modal's frame, the
 * popup, the redirect and its return, cancelling, and failures as `galaxy-pay-error`. Loaded lazily (through
 * `extras.ts`, the one lazy entry) while the signer answers the click, so a payment waits for nothing more and
 * the script-tag file stays within its size budget. Each step acts for one flow through the element's
 * `CheckoutController`, which drops whatever a step does for a flow that has ended.
 */

import { html, nothing } from 'lit';
import type { CheckoutController, Flow } from './checkout-controller.js';
import {
  GalaxyPayCancelEvent,
  GalaxyPayErrorEvent,
  GalaxyPayOpenEvent,
  GalaxyPayResultEvent,
} from './events.js';
import { adoptExtraStyles } from './extras.styles.js';
import { isReturnMessage } from './messages.js';
import { currentPageUrl, returnedSessionId } from './presenters.js';
import { cancelSession, getSession, isFinal, watchSession } from './session.js';
import { GalaxyPayRequestError, clientKeyFor } from './signer-client.js';
import { wordsOf } from './strings.js';
import {
  ErrorCode,
  type CreatedSession,
  type GalaxyPayErrorDetail,
  type GalaxyPayResultDetail,
  type SessionView,
} from './types.js';

/**
 * The signer opened the session (not a QR one: `showQr`): shows the gateway as the flow's presentation says
 * (the frame, the popup, or a redirect), listens for the return page and watches the status. Throws for a
 * checkout URL that is not http(s).
 */
export function follow(c: CheckoutController, flow: Flow, session: CreatedSession): void {
  const { signal } = flow.controller;
  const url = session.checkoutUrl ?? '';
  if (!/^https?:\/\//.test(url)) throw new GalaxyPayRequestError(flow.base, 502, 'no_checkout');
  flow.checkoutUrl = url;
  const open = () =>
    new GalaxyPayOpenEvent({ sessionId: session.sessionId, mode: flow.presentation });
  if (flow.presentation === 'redirect') {
    c.emit(flow, open());
    location.assign(url);
    return;
  }
  addEventListener('message', event => onMessage(c, flow, event), { signal });
  watch(c, flow);
  if (flow.popup) {
    showPopup(c, flow, flow.popup);
  } else {
    adoptExtraStyles(c.host);
    c.set(flow, { checkoutUrl: url, frame: () => frameView(c, flow) });
    const timer = setTimeout(
      () => frameFailed(c, flow, ErrorCode.FrameTimeout),
      c.host.frameTimeout,
    );
    signal.addEventListener('abort', () => clearTimeout(timer));
    // The merchant's CSP lacks the gateway in frame-src: no need to wait for the timeout.
    const origin = new URL(url).origin;
    addEventListener(
      'securitypolicyviolation',
      event => event.blockedURI.startsWith(origin) && frameFailed(c, flow, ErrorCode.FrameBlocked),
      { signal },
    );
  }
  c.setPhase(flow, 'paying');
  c.emit(flow, open());
}

/** The modal's body: the gateway page in its frame, under a spinner until it has loaded, or why it cannot be. */
function frameView(c: CheckoutController, flow: Flow) {
  const w = wordsOf(c.host);
  const loading = c.frameState === 'loading';
  return c.frameState === 'failed'
    ? html`<p>${w.frameTimeout}</p>`
    : html`${loading ? html`<div class="spin"></div>` : nothing}
      ${
        c.checkoutUrl
          ? html`<iframe
              class=${loading ? 'loading' : ''}
              title=${w.title}
              src=${c.checkoutUrl}
              allow="payment"
              @load=${() => c.frameState === 'loading' && c.set(flow, { frameState: 'loaded' })}
            ></iframe>`
          : nothing
      }`;
}

/** Follows the flow's session until its final status, reported once by `report`. */
export function watch(c: CheckoutController, flow: Flow): NonNullable<Flow['watcher']> {
  return (flow.watcher = watchSession(flow.base, flow.sessionId!, v => report(c, flow, v), {
    signal: flow.controller.signal,
    pollMs: c.host.pollInterval,
  }));
}

/** The return page's message: a hint only, the signer says what happened (T33, T34). */
function onMessage(c: CheckoutController, flow: Flow, event: MessageEvent): void {
  const expected = {
    origin: new URL(flow.base).origin,
    source: flow.popup ?? c.host.shadowRoot?.querySelector('iframe')?.contentWindow,
    sessionId: flow.sessionId!,
    nonce: flow.nonce!,
  };
  if (!isReturnMessage(event, expected)) return;
  c.setPhase(flow, 'verifying');
  void flow.watcher?.check();
}

/** Ends the flow with the event that the signer's final status calls for. */
export function report(c: CheckoutController, flow: Flow, view: SessionView): void {
  if (!isFinal(view)) return;
  const sessionId = flow.sessionId!;
  const orderRef = flow.orderRef;
  const w = wordsOf(c.host);
  if (view.sessionId !== sessionId || view.orderRef !== orderRef) {
    c.settle(flow, errorEvent(ErrorCode.Mismatch, 'the signer answered for another order', false));
  } else if (view.status === 'cancelled' || view.status === 'expired') {
    const reason = view.status === 'expired' ? 'timeout' : (view.cancelReason ?? 'gateway');
    c.settle(flow, new GalaxyPayCancelEvent({ reason, sessionId, orderRef }), w.cancelled);
  } else if (view.status === 'needs_review') {
    c.settle(flow, errorEvent(ErrorCode.NeedsReview, 'the payment needs review', false));
  } else {
    const status: GalaxyPayResultDetail['status'] =
      view.status === 'paid' || view.status === 'authorized' ? view.status : 'failed';
    const { amount, currency, transactionId, code, message } = view;
    const detail: GalaxyPayResultDetail = {
      status,
      sessionId,
      orderRef,
      amount,
      currency,
      transactionId,
      code,
      message,
    };
    c.settle(flow, new GalaxyPayResultEvent(detail), status === 'failed' ? w.failed : w.paid);
  }
}

/**
 * The frame did not load in time, or the page's CSP refused it: say so and offer a new window, which the
 * shopper's next click may open (T36). Chromium fires `load` even for a page that refuses framing
 * (X-Frame-Options, frame-ancestors) and a cross-origin frame cannot be inspected, so the dialog always
 * offers the new window too.
 */
function frameFailed(c: CheckoutController, flow: Flow, code: ErrorCode): void {
  if (c.frameState === 'failed' || flow.presentation !== 'modal') return;
  if (code === ErrorCode.FrameTimeout && c.frameState === 'loaded') return;
  c.set(flow, { frameState: 'failed', checkoutUrl: '' });
  c.emit(flow, errorEvent(code, wordsOf(c.host).frameTimeout, true));
}

/** "Open in a new window" (the dialog's footer): `flow.popup` was opened inside the click, or was blocked. */
export function openWindow(c: CheckoutController, flow: Flow): void {
  if (!flow.popup) {
    c.emit(flow, errorEvent(ErrorCode.PopupBlocked, wordsOf(c.host).popupBlocked, true));
    return;
  }
  flow.presentation = 'popup';
  c.dialog?.close();
  showPopup(c, flow, flow.popup);
}

/** Sends the popup (still about:blank and ours, so it may be navigated) to the gateway and watches it close. */
function showPopup(c: CheckoutController, flow: Flow, popup: Window): void {
  flow.popup = popup;
  c.set(flow, { checkoutUrl: '' });
  popup.location.href = flow.checkoutUrl!;
  flow.sentAt = Date.now();
  const timer = setInterval(() => {
    if (!popup.closed) return;
    clearInterval(timer);
    void popupClosed(c, flow);
  }, 400);
  flow.controller.signal.addEventListener('abort', () => clearInterval(timer));
}

async function popupClosed(c: CheckoutController, flow: Flow): Promise<void> {
  // Closed at once: maybe cut off by the page's COOP, the shopper still paying; then the signer alone tells.
  if (Date.now() - flow.sentAt! < 3000 && (await c.step(flow, coopSevered()))) return;
  c.markClosed(flow);
  c.setPhase(flow, 'verifying');
  void flow.watcher?.check();
  // A late IPN may still land: keep watching for a while, then have the signer settle it.
  const timer = setTimeout(() => void cancel(c, flow, 'closed'), c.host.closeGrace);
  flow.controller.signal.addEventListener('abort', () => clearTimeout(timer));
}

/** Asks the signer to cancel; it asks the gateway first, so a payment that went through is reported as paid. */
export async function cancel(
  c: CheckoutController,
  flow: Flow,
  reason: 'user' | 'closed',
): Promise<void> {
  if (flow.cancelling) return;
  flow.cancelling = true;
  flow.popup?.close();
  c.markClosed(flow);
  c.setPhase(flow, 'verifying');
  const key = clientKeyFor(flow.base, flow.orderRef);
  for (;;) {
    try {
      const { signal } = flow.controller;
      const view = cancelSession(flow.base, flow.sessionId!, reason, { signal }, key);
      return report(c, flow, await c.step(flow, view));
    } catch (error) {
      // 503: the gateway did not answer, so whether the shopper paid is unknown. Keep asking (the status
      // watcher may report the payment first); never report a cancel the signer could not verify.
      if ((error as GalaxyPayRequestError).status !== 503) return fail(c, flow, error);
      await c.step(flow, new Promise(wake => setTimeout(wake, 2000)));
    }
  }
}

/** Redirect mode came back with `?galaxy_pay_session=`: reports that session if it is this button's order. */
export async function resume(c: CheckoutController, base: string | undefined): Promise<void> {
  const sessionId = returnedSessionId();
  const { orderRef } = c.host;
  if (!sessionId || c.flow || !base || !orderRef) return;
  const flow: Flow = (c.flow = {
    controller: new AbortController(),
    presentation: 'redirect',
    base,
    orderRef,
    sessionId,
    closed: true,
  });
  c.setPhase(flow, 'verifying');
  try {
    const view = await c.step(
      flow,
      getSession(base, sessionId, { signal: flow.controller.signal }),
    );
    // Another button's payment, or already claimed: stay quiet (several buttons never cross-talk).
    if (view.orderRef !== orderRef || returnedSessionId() !== sessionId) return c.end();
    // Claimed: a reload does not report the payment twice.
    history.replaceState(history.state, '', currentPageUrl() + location.hash);
    if (isFinal(view)) report(c, flow, view);
    else watch(c, flow);
  } catch (error) {
    // An id the signer does not know (stale, forged, another signer's) is not this button's payment either.
    if ((error as { status?: number }).status === 404) c.end();
    else fail(c, flow, error);
  }
}

/** Ends the flow with `galaxy-pay-error` for a failed signer call (or anything else thrown). */
export function fail(c: CheckoutController, flow: Flow, error: unknown): void {
  c.settle(flow, new GalaxyPayErrorEvent(errorDetail(error)));
}

/** The `galaxy-pay-error` detail for a failed signer call: stable codes, and whether a retry may work. */
export function errorDetail(error: unknown): GalaxyPayErrorDetail {
  const status = error instanceof GalaxyPayRequestError ? error.status : 0;
  const code = error instanceof GalaxyPayRequestError ? error.code : undefined;
  if (code === 'order_already_paid') {
    return { code: ErrorCode.OrderPaid, message: 'the order is already paid', retryable: false };
  }
  if (/customer_handle|saved_cards_disabled/.test(code!)) {
    return {
      code: ErrorCode.CustomerHandle,
      message: `customer-handle refused (${code})`,
      retryable: false,
    };
  }
  return {
    code: status ? ErrorCode.Signer : ErrorCode.Network,
    message: String((error as Error)?.message ?? error),
    retryable: !status || status >= 500 || status === 429 || status === 409,
  };
}

const errorEvent = (code: ErrorCode, message: string, retryable: boolean) =>
  new GalaxyPayErrorEvent({ code, message, retryable });

let coopWarned = false;

/**
 * The popup closed right after we navigated it: either the shopper was very quick, or the page is served with
 * `Cross-Origin-Opener-Policy: same-origin`, which severs a cross-origin popup from its opener (its handle
 * reads `closed` at once while the shopper is still paying). Ask our own page's headers to tell them apart;
 * warn once. Answers true when the popup was cut off, not closed.
 */
export async function coopSevered(): Promise<boolean> {
  let policy: string;
  try {
    const res = await fetch(location.href, { method: 'HEAD', cache: 'no-store' });
    policy = res.headers.get('cross-origin-opener-policy') ?? '';
  } catch {
    return false;
  }
  const severed = /^\s*same-origin\s*(;|$)/.test(policy);
  if (severed && !coopWarned) {
    coopWarned = true;
    console.warn(
      '<galaxy-pay-button>: this page is served with Cross-Origin-Opener-Policy: same-origin, which cuts ' +
        'the payment popup off from the page; the payment is followed through the signer only. Serve the ' +
        'page with Cross-Origin-Opener-Policy: same-origin-allow-popups.',
    );
  }
  return severed;
}
