/**
 * `CheckoutController`: the payments of one `<galaxy-pay-button>`, one at a time, from the click to the
 * signer's verified outcome. A Lit reactive controller modelled on @lit/task's `Task`: it owns the payment
 * under way (`flow`), the flow's AbortController and the stale-run guard; the element keeps its attributes,
 * renders what the controller holds, and the events the controller dispatches on it are its events.
 *
 * This module holds what a click needs at once: the popup opened inside the click, the dialog, and the call
 * that opens the session. The steps after it (`CheckoutSteps`: following the session, cancelling, errors, popup
 * and redirect follow-up, saved cards, QR) are loaded while the signer answers that call (the element passes
 * the loader, `extras.ts`), so the script-tag file stays within its size budget. They reach the element only
 * through this controller's public members; those that take a flow act for it and do nothing once it has ended
 * (`step`, `set`, `emit`, `go`, `markClosed`, `settle`), so a step never checks for itself whether its payment
 * is still the one under way.
 */

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { GalaxyPayCloseEvent, GalaxyPayErrorEvent } from './events.js';
import {
  choosePresentation,
  currentPageUrl,
  openPopup,
  popupFallback,
  returnedSessionId,
} from './presenters.js';
import { clientKeyFor, createSession } from './signer-client.js';
import {
  languageOf,
  wordsOf,
  type GalaxyPayExtraStrings,
  type GalaxyPayStrings,
} from './strings.js';
import {
  ErrorCode,
  type CreatedSession,
  type GalaxyPayMode,
  type GalaxyPayPaymentMethod,
  type GalaxyPayPresentation,
  type SessionRequest,
} from './types.js';

/** What the controller reads of its element: the public properties, when a payment needs them. */
export interface CheckoutHost extends ReactiveControllerHost, HTMLElement {
  signer: string;
  orderRef: string;
  mode: GalaxyPayMode;
  paymentMethod: GalaxyPayPaymentMethod | '';
  sourceType: string;
  customerHandle: string;
  returnUrl: string;
  disabled: boolean;
  strings: Partial<GalaxyPayStrings & GalaxyPayExtraStrings>;
  frameTimeout: number;
  closeGrace: number;
  pollInterval: number;
}

/** The steps after the click, loaded lazily (`extras.ts`); each acts for one flow. */
export interface CheckoutSteps {
  /** The signer opened the session: show the gateway (frame, popup or redirect) and follow the status. */
  follow(checkout: CheckoutController, flow: Flow, session: CreatedSession): void;
  /** The signer opened a QR session: show the code and follow the status. */
  showQr(checkout: CheckoutController, flow: Flow, qr: NonNullable<CreatedSession['qr']>): void;
  /** `customer-handle`: the saved-cards chooser, which continues with `go(flow)`. */
  chooseCard(checkout: CheckoutController, flow: Flow): Promise<void>;
  /** "Open in a new window": sends `flow.popup`, opened inside the click, to the gateway. */
  openWindow(checkout: CheckoutController, flow: Flow): void;
  /** Asks the signer to cancel (it asks the gateway first: a payment that went through stays paid). */
  cancel(checkout: CheckoutController, flow: Flow, reason: 'user' | 'closed'): Promise<void>;
  /** Back from a redirect: reports the returned session if it is this element's order. */
  resume(checkout: CheckoutController, base: string | undefined): Promise<void>;
  /** Ends `flow` with `galaxy-pay-error` for `error`. */
  fail(checkout: CheckoutController, flow: Flow, error: unknown): void;
}

/** One payment. Aborting `controller` releases everything it holds: fetches, SSE, timers, listeners. */
export interface Flow {
  controller: AbortController;
  presentation: GalaxyPayPresentation;
  /** Captured at the start, so later attribute changes cannot redirect a payment under way. */
  base: string;
  orderRef: string;
  sessionId?: string;
  nonce?: string;
  checkoutUrl?: string;
  popup?: Window | null;
  watcher?: { check(): Promise<void> };
  /** The modal or popup has closed and `galaxy-pay-close` went out. */
  closed?: boolean;
  cancelling?: boolean;
  /** The shopper's choice in the saved-cards chooser. */
  tokenId?: string;
  saveCard?: boolean;
  /** When the popup was sent to the gateway: a popup "closed" right after may be a COOP cut-off (T35). */
  sentAt?: number;
}

/** What the element renders of the payment. */
export interface CheckoutView {
  phase: 'idle' | 'opening' | 'paying' | 'verifying';
  /** Progress and outcomes, for the live region. */
  announcement: string;
  /** The gateway page in the modal's frame; '' for none. */
  checkoutUrl: string;
  frameState: 'loading' | 'loaded' | 'failed';
  /** Renders the dialog's body, the gateway's frame, once the steps have loaded; a spinner until then. */
  frame?: () => unknown;
  /** Renders the dialog's body instead, without the frame's footer (saved-cards chooser, QR code). */
  panel?: () => unknown;
}

export class CheckoutController implements ReactiveController, CheckoutView {
  /** The payment under way, if any. */
  flow?: Flow;
  phase: CheckoutView['phase'] = 'idle';
  announcement = '';
  checkoutUrl = '';
  frameState: CheckoutView['frameState'] = 'loading';
  frame?: () => unknown;
  panel?: () => unknown;

  constructor(
    readonly host: CheckoutHost,
    private readonly load: () => Promise<CheckoutSteps>,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    // Back from a redirect: report that session if it is this button's order. Without the extras file there
    // is nothing to report it with; the signer still holds the verified status.
    if (returnedSessionId()) {
      void this.host.updateComplete
        .then(() => this.load())
        .then(steps => steps.resume(this, signerBase(this.host.signer)))
        .catch(() => undefined);
    }
  }

  hostDisconnected(): void {
    // Removed mid-flow: abort requests, close the popup, drop listeners, and dispatch nothing more (T38).
    this.end();
  }

  get dialog(): HTMLDialogElement | null | undefined {
    return this.host.shadowRoot?.querySelector('dialog');
  }

  /** Starts a payment, as a click does. Ignored while one is under way (double clicks open one session). */
  start(): void {
    const { host } = this;
    if (host.disabled || this.flow) return;
    // One payment at a time on a page (a modal makes the page inert; a popup does not): bring it forward.
    // A popup the shopper closed (or that COOP cut off) blocks nothing while its result is awaited.
    const popup = activeFlow?.controller.signal.aborted ? undefined : activeFlow?.popup;
    if (popup && !popup.closed) return popup.focus();
    const base = signerBase(host.signer);
    if (!base || !host.orderRef) {
      host.dispatchEvent(errorEvent(ErrorCode.Config, 'signer and order-ref are required', false));
      return;
    }
    const qr = host.paymentMethod === 'QRPAY';
    const flow: Flow = {
      controller: new AbortController(),
      // A QR code is shown in the dialog, whatever the screen.
      presentation: qr ? 'modal' : choosePresentation(host.mode),
      base,
      orderRef: host.orderRef,
    };
    this.flow = activeFlow = flow;
    if (host.customerHandle && !qr) {
      this.load()
        .then(steps => steps.chooseCard(this, flow))
        .catch(error => this.fail(flow, error));
    } else this.go(flow);
  }

  /**
   * The stale-run guard, written once: whether `flow` is still the payment under way. A flow that has ended
   * (closed, settled, the element removed) has been aborted, and every member below that takes it does
   * nothing for it.
   */
  private live(flow: Flow): boolean {
    return this.flow === flow;
  }

  /**
   * `work`'s outcome while `flow` is still the payment under way, and never once it has ended: a step that
   * awaits through it stops there, silently.
   */
  async step<T>(flow: Flow, work: T): Promise<Awaited<T>> {
    try {
      return await work;
    } finally {
      if (!this.live(flow)) await new Promise<never>(() => undefined);
    }
  }

  /** Opens the checkout in the flow's presentation; the popup synchronously, inside the shopper's click. */
  go(flow: Flow): void {
    if (!this.live(flow)) return;
    if (flow.presentation === 'popup') {
      // Synchronously inside the click, before any await (T35).
      flow.popup = openPopup();
      if (!flow.popup) {
        flow.presentation = popupFallback();
        this.emit(flow, errorEvent(ErrorCode.PopupBlocked, wordsOf(this.host).popupBlocked, true));
      }
    }
    this.setPhase(flow, 'opening');
    if (flow.presentation === 'modal') {
      this.set(flow, { frameState: 'loading' });
      void this.step(flow, this.host.updateComplete).then(
        () => this.dialog?.open || this.dialog?.showModal(),
      );
    } else {
      this.dialog?.close();
    }
    void this.openSession(flow);
  }

  private async openSession(flow: Flow): Promise<void> {
    const { signal } = flow.controller;
    try {
      // The rest of the checkout loads while the signer opens the session: the click waits for nothing more.
      const [steps, session] = await this.step(
        flow,
        Promise.all([this.load(), createSession(flow.base, this.request(flow), { signal })]),
      );
      flow.sessionId = session.sessionId;
      flow.nonce = session.nonce;
      if (session.qr) steps.showQr(this, flow, session.qr);
      else steps.follow(this, flow, session);
    } catch (error) {
      this.fail(flow, error);
    }
  }

  /** Closes the checkout. The signer is asked first: a payment that went through is still reported as paid. */
  close(): void {
    const flow = this.flow;
    if (flow?.sessionId) {
      void this.step(flow, this.load()).then(steps => steps.cancel(this, flow, 'user'));
    } else if (flow) {
      // No session yet: nothing to ask the signer.
      this.markClosed(flow);
      this.end();
    }
  }

  /** "Open in a new window" (the dialog's footer): the window opens inside this click (T36). */
  openWindow(): void {
    const flow = this.flow;
    if (flow?.checkoutUrl) {
      // Held by the flow at once: it closes with the flow, should the flow end while the steps load.
      flow.popup = openPopup();
      void this.step(flow, this.load()).then(steps => steps.openWindow(this, flow));
    }
  }

  /** Changes what the element renders for `flow`. */
  set(flow: Flow, view: Partial<CheckoutView>): void {
    if (!this.live(flow)) return;
    Object.assign(this, view);
    this.host.requestUpdate();
  }

  setPhase(flow: Flow, phase: Exclude<CheckoutView['phase'], 'idle'>): void {
    this.set(flow, { phase, announcement: wordsOf(this.host)[phase] });
  }

  /** Dispatches one of the element's events for `flow`. */
  emit(flow: Flow, event: Event): void {
    if (this.live(flow)) this.host.dispatchEvent(event);
  }

  /** Hides the modal or popup and sends `galaxy-pay-close`, once per flow. */
  markClosed(flow: Flow): void {
    if (!this.live(flow)) return;
    this.dialog?.close();
    this.set(flow, { checkoutUrl: '' });
    if (flow.closed) return;
    flow.closed = true;
    this.host.dispatchEvent(new GalaxyPayCloseEvent({ sessionId: flow.sessionId ?? null }));
  }

  /** Ends `flow` with its one outcome event. */
  settle(flow: Flow, outcome: Event, text = wordsOf(this.host).error): void {
    if (!this.live(flow)) return;
    this.markClosed(flow);
    this.end();
    this.announcement = text;
    this.host.dispatchEvent(outcome);
  }

  /** Ends `flow` with `galaxy-pay-error`: mapped by the steps, or a network error if they did not load. */
  fail(flow: Flow, error: unknown): void {
    this.load()
      .then(steps => steps.fail(this, flow, error))
      .catch(() =>
        this.settle(
          flow,
          errorEvent(ErrorCode.Network, String((error as Error)?.message ?? error), true),
        ),
      );
  }

  /** Releases the payment under way, if any, without dispatching anything. */
  end(): void {
    const flow = this.flow;
    if (!flow) return;
    this.set(flow, { checkoutUrl: '', frame: undefined, panel: undefined, phase: 'idle' });
    this.flow = undefined;
    flow.controller.abort();
    flow.popup?.close();
    this.dialog?.close();
  }

  /** The body of `POST {signer}/sessions`: what the shopper chose, never a price (empty values are left out). */
  private request(flow: Flow): SessionRequest {
    const { host } = this;
    const saved = flow.tokenId || flow.saveCard;
    return {
      orderRef: flow.orderRef,
      clientKey: clientKeyFor(flow.base, flow.orderRef),
      locale: languageOf(host),
      paymentMethod: host.paymentMethod || undefined,
      sourceType: host.sourceType || undefined,
      ...(saved && {
        customerHandle: host.customerHandle,
        tokenId: flow.tokenId,
        saveCard: flow.saveCard,
      }),
      returnUrl: flow.presentation === 'redirect' ? host.returnUrl || currentPageUrl() : undefined,
    };
  }
}

/** The signer's base URL without trailing slashes, or undefined when `signer` is empty or not a URL. */
function signerBase(signer: string): string | undefined {
  try {
    return signer ? new URL(signer, document.baseURI).href.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

const errorEvent = (code: ErrorCode, message: string, retryable: boolean) =>
  new GalaxyPayErrorEvent({ code, message, retryable });

/** The payment under way on this page, if any (a flow ends by aborting its controller). */
let activeFlow: Flow | undefined;
