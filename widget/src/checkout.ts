/**
 * The checkout once the signer has opened its session: following the verified status, the modal's frame, the
 * popup, the redirect and its return, cancelling, and failures as `galaxy-pay-error`. The element imports it
 * (through `extras.ts`, the one lazy entry) while the signer answers the click, so a payment waits for nothing
 * more and the script-tag file stays within its size budget. The element and this module are one unit: `host`
 * is the element, its private members included.
 */

import {
  GalaxyPayCancelEvent,
  GalaxyPayErrorEvent,
  GalaxyPayOpenEvent,
  GalaxyPayResultEvent,
} from './events.js';
import type { Flow } from './galaxy-pay-button.js';
import { isReturnMessage } from './messages.js';
import { currentPageUrl, returnedSessionId } from './presenters.js';
import { cancelSession, getSession, isFinal, watchSession } from './session.js';
import { GalaxyPayRequestError, clientKeyFor } from './signer-client.js';
import type { GalaxyPayExtraStrings, GalaxyPayStrings } from './strings.js';
import {
  ErrorCode,
  type CreatedSession,
  type GalaxyPayErrorDetail,
  type GalaxyPayLang,
  type GalaxyPayResultDetail,
  type SessionView,
} from './types.js';

/** What the lazily loaded modules use of `<galaxy-pay-button>`. */
export interface Host extends HTMLElement {
  flow?: Flow;
  panel?: () => unknown;
  announcement: string;
  checkoutUrl: string;
  frameState: 'loading' | 'loaded' | 'failed';
  orderRef: string;
  customerHandle: string;
  strings: Partial<GalaxyPayStrings & GalaxyPayExtraStrings>;
  frameTimeout: number;
  closeGrace: number;
  pollInterval: number;
  readonly words: GalaxyPayStrings;
  readonly language: GalaxyPayLang;
  readonly dialog: HTMLDialogElement | null | undefined;
  updateComplete: Promise<boolean>;
  requestUpdate(): void;
  setPhase(phase: 'opening' | 'paying' | 'verifying'): void;
  go(flow: Flow): void;
  markClosed(flow: Flow): void;
  settle(flow: Flow, outcome: Event, text?: string): void;
  end(): void;
}

/**
 * The signer opened the session (not a QR one: `showQr`): shows the gateway as the flow's presentation says
 * (the frame, the popup, or a redirect), listens for the return page and watches the status. Throws for a
 * checkout URL that is not http(s).
 */
export function follow(host: Host, flow: Flow, session: CreatedSession): void {
  const { signal } = flow.controller;
  const url = session.checkoutUrl ?? '';
  if (!/^https?:\/\//.test(url)) throw new GalaxyPayRequestError(flow.base, 502, 'no_checkout');
  flow.checkoutUrl = url;
  const open = () =>
    new GalaxyPayOpenEvent({ sessionId: session.sessionId, mode: flow.presentation });
  if (flow.presentation === 'redirect') {
    host.dispatchEvent(open());
    location.assign(url);
    return;
  }
  addEventListener('message', event => onMessage(host, flow, event), { signal });
  watch(host, flow);
  if (flow.popup) {
    showPopup(host, flow, flow.popup);
  } else {
    host.checkoutUrl = url;
    const timer = setTimeout(
      () => frameFailed(host, flow, ErrorCode.FrameTimeout),
      host.frameTimeout,
    );
    signal.addEventListener('abort', () => clearTimeout(timer));
    // The merchant's CSP lacks the gateway in frame-src: no need to wait for the timeout.
    const origin = new URL(url).origin;
    addEventListener(
      'securitypolicyviolation',
      event =>
        event.blockedURI.startsWith(origin) && frameFailed(host, flow, ErrorCode.FrameBlocked),
      { signal },
    );
  }
  host.setPhase('paying');
  host.dispatchEvent(open());
}

/** Follows the flow's session until its final status, reported once by `report`. */
export function watch(host: Host, flow: Flow): NonNullable<Flow['watcher']> {
  return (flow.watcher = watchSession(flow.base, flow.sessionId!, v => report(host, flow, v), {
    signal: flow.controller.signal,
    pollMs: host.pollInterval,
  }));
}

/** The return page's message: a hint only, the signer says what happened (T33, T34). */
function onMessage(host: Host, flow: Flow, event: MessageEvent): void {
  const expected = {
    origin: new URL(flow.base).origin,
    source: flow.popup ?? host.shadowRoot?.querySelector('iframe')?.contentWindow,
    sessionId: flow.sessionId!,
    nonce: flow.nonce!,
  };
  if (host.flow !== flow || !isReturnMessage(event, expected)) return;
  host.setPhase('verifying');
  void flow.watcher?.check();
}

/** Ends the flow with the event that the signer's final status calls for. */
export function report(host: Host, flow: Flow, view: SessionView): void {
  if (host.flow !== flow || !isFinal(view)) return;
  const sessionId = flow.sessionId!;
  const orderRef = flow.orderRef;
  const w = host.words;
  if (view.sessionId !== sessionId || view.orderRef !== orderRef) {
    host.settle(
      flow,
      errorEvent(ErrorCode.Mismatch, 'the signer answered for another order', false),
    );
  } else if (view.status === 'cancelled' || view.status === 'expired') {
    const reason = view.status === 'expired' ? 'timeout' : (view.cancelReason ?? 'gateway');
    host.settle(flow, new GalaxyPayCancelEvent({ reason, sessionId, orderRef }), w.cancelled);
  } else if (view.status === 'needs_review') {
    host.settle(flow, errorEvent(ErrorCode.NeedsReview, 'the payment needs review', false));
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
    host.settle(flow, new GalaxyPayResultEvent(detail), status === 'failed' ? w.failed : w.paid);
  }
}

/**
 * The frame did not load in time, or the page's CSP refused it: say so and offer a new window, which the
 * shopper's next click may open (T36). Chromium fires `load` even for a page that refuses framing
 * (X-Frame-Options, frame-ancestors) and a cross-origin frame cannot be inspected, so the dialog always
 * offers the new window too.
 */
function frameFailed(host: Host, flow: Flow, code: ErrorCode): void {
  if (host.flow !== flow || host.frameState === 'failed' || flow.presentation !== 'modal') return;
  if (code === ErrorCode.FrameTimeout && host.frameState === 'loaded') return;
  host.frameState = 'failed';
  host.checkoutUrl = '';
  host.dispatchEvent(errorEvent(code, host.words.frameTimeout, true));
}

/** "Open in a new window" (the dialog's footer): `popup` was opened inside the click, or was blocked. */
export function openWindow(host: Host, flow: Flow, popup: Window | null): void {
  if (host.flow !== flow) return void popup?.close();
  if (!popup) {
    host.dispatchEvent(errorEvent(ErrorCode.PopupBlocked, host.words.popupBlocked, true));
    return;
  }
  flow.presentation = 'popup';
  host.dialog?.close();
  showPopup(host, flow, popup);
}

/** Sends the popup (still about:blank and ours, so it may be navigated) to the gateway and watches it close. */
export function showPopup(host: Host, flow: Flow, popup: Window): void {
  flow.popup = popup;
  host.checkoutUrl = '';
  popup.location.href = flow.checkoutUrl!;
  flow.sentAt = Date.now();
  const timer = setInterval(() => {
    if (!popup.closed) return;
    clearInterval(timer);
    void popupClosed(host, flow);
  }, 400);
  flow.controller.signal.addEventListener('abort', () => clearInterval(timer));
}

async function popupClosed(host: Host, flow: Flow): Promise<void> {
  // Closed at once: maybe cut off by the page's COOP, the shopper still paying; then the signer alone tells.
  if (Date.now() - flow.sentAt! < 3000 && (await coopSevered())) return;
  if (host.flow !== flow) return;
  host.markClosed(flow);
  host.setPhase('verifying');
  void flow.watcher?.check();
  // A late IPN may still land: keep watching for a while, then have the signer settle it.
  const timer = setTimeout(() => void cancel(host, flow, 'closed'), host.closeGrace);
  flow.controller.signal.addEventListener('abort', () => clearTimeout(timer));
}

/** Asks the signer to cancel; it asks the gateway first, so a payment that went through is reported as paid. */
export async function cancel(host: Host, flow: Flow, reason: 'user' | 'closed'): Promise<void> {
  if (host.flow !== flow || flow.cancelling) return;
  flow.cancelling = true;
  flow.popup?.close();
  host.markClosed(flow);
  host.setPhase('verifying');
  if (!flow.sessionId) {
    host.end();
    return;
  }
  const { signal } = flow.controller;
  for (;;) {
    try {
      const key = clientKeyFor(flow.base, flow.orderRef);
      return report(
        host,
        flow,
        await cancelSession(flow.base, flow.sessionId, reason, { signal }, key),
      );
    } catch (error) {
      if (signal.aborted) return;
      // 503: the gateway did not answer, so whether the shopper paid is unknown. Keep asking (the status
      // watcher may report the payment first); never report a cancel the signer could not verify.
      if ((error as GalaxyPayRequestError).status !== 503) return fail(host, flow, error);
      await new Promise(wake => setTimeout(wake, 2000));
      if (host.flow !== flow) return;
    }
  }
}

/** Redirect mode came back with `?galaxy_pay_session=`: reports that session if it is this button's order. */
export async function resume(host: Host, base: string | undefined): Promise<void> {
  const sessionId = returnedSessionId();
  if (!sessionId || host.flow || !base || !host.orderRef) return;
  const flow: Flow = {
    controller: new AbortController(),
    presentation: 'redirect',
    base,
    orderRef: host.orderRef,
    sessionId,
    closed: true,
  };
  host.flow = flow;
  host.setPhase('verifying');
  const { signal } = flow.controller;
  try {
    const view = await getSession(flow.base, sessionId, { signal });
    // Another button's payment, or already claimed: stay quiet (several buttons never cross-talk).
    if (view.orderRef !== flow.orderRef || returnedSessionId() !== sessionId) {
      host.end();
      return;
    }
    // Claimed: a reload does not report the payment twice.
    history.replaceState(history.state, '', currentPageUrl() + location.hash);
    if (isFinal(view)) report(host, flow, view);
    else watch(host, flow);
  } catch (error) {
    // An id the signer does not know (stale, forged, another signer's) is not this button's payment either.
    if ((error as { status?: number }).status === 404) host.end();
    else if (!signal.aborted) fail(host, flow, error);
  }
}

/** Ends the flow with `galaxy-pay-error` for a failed signer call (or anything else thrown). */
export function fail(host: Host, flow: Flow, error: unknown): void {
  if (host.flow === flow) host.settle(flow, new GalaxyPayErrorEvent(errorDetail(error)));
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
