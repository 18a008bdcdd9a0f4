import { LitElement, html, nothing } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import {
  GalaxyPayCancelEvent,
  GalaxyPayCloseEvent,
  GalaxyPayErrorEvent,
  GalaxyPayOpenEvent,
  GalaxyPayResultEvent,
} from './events.js';
import { styles } from './galaxy-pay-button.styles.js';
import { isReturnMessage } from './messages.js';
import {
  choosePresentation,
  currentPageUrl,
  forgetReturnedSession,
  openPopup,
  popupFallback,
  returnedSessionId,
  watchClosed,
} from './presenters.js';
import {
  GalaxyPayRequestError,
  cancelSession,
  clientKeyFor,
  createSession,
  getSession,
  isFinal,
  watchSession,
} from './signer-client.js';
import { STRINGS, type GalaxyPayExtraStrings, type GalaxyPayStrings } from './strings.js';
import type * as Extras from './extras.js';
import {
  ErrorCode,
  type GalaxyPayErrorDetail,
  type GalaxyPayResultDetail,
  type GalaxyPayMode,
  type GalaxyPayPresentation,
  type SessionRequest,
  type SessionView,
} from './types.js';

type Phase = 'idle' | 'opening' | 'paying' | 'verifying';

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

/**
 * A pay button that opens Galaxy Pay's hosted payment page (modal, popup or redirect) and reports the outcome
 * only once the merchant's signer has verified it.
 *
 * @summary Galaxy Pay checkout button.
 * @fires galaxy-pay-open - The modal, popup or redirect has started. `detail: {sessionId, mode}`.
 * @fires galaxy-pay-result - The signer verified a final status, once per payment.
 * `detail: {status, sessionId, orderRef, amount, currency, transactionId, code, message}`.
 * @fires galaxy-pay-cancel - The signer confirmed a cancellation, once per payment. `detail: {reason, sessionId, orderRef}`.
 * @fires galaxy-pay-error - Something failed. `detail: {code, message, retryable}`.
 * @fires galaxy-pay-close - The modal or popup has closed, for any reason. `detail: {sessionId}`.
 * @slot - The button label; defaults to "Thanh toán" (vi) or "Pay" (en).
 * @csspart button - The pay button.
 * @csspart dialog - The modal `<dialog>` holding the gateway page.
 * @cssproperty --galaxy-pay-accent - Button and focus colour.
 * @cssproperty --galaxy-pay-accent-text - Button text colour.
 * @cssproperty --galaxy-pay-surface - Dialog background.
 * @cssproperty --galaxy-pay-text - Dialog text colour.
 * @cssproperty --galaxy-pay-radius - Corner radius of the button and the dialog.
 * @cssproperty --galaxy-pay-font - Font family (inherited by default).
 * @cssproperty --galaxy-pay-backdrop - Backdrop behind the dialog.
 * @cssproperty --galaxy-pay-dialog-width - Dialog width on wide screens.
 * @cssproperty --galaxy-pay-dialog-height - Dialog height on tall screens.
 */
export class GalaxyPayButton extends LitElement {
  static override styles = styles;

  private flow?: Flow;

  @query('dialog') private dialog?: HTMLDialogElement;
  @query('.x') private closeButton?: HTMLButtonElement;
  @query('iframe') private frame?: HTMLIFrameElement;
  @query('.go,.alt') private lastFocusable?: HTMLElement;

  @state() private phase: Phase = 'idle';
  @state() private announcement = '';
  @state() private checkoutUrl = '';
  @state() private frameState: 'loading' | 'loaded' | 'failed' = 'loading';
  /** Set by the extras module: renders the dialog's body instead (saved-cards chooser, QR code). */
  @state() private panel?: () => unknown;

  /** Base URL of the merchant's signer, absolute or relative to the page (e.g. `/galaxy-pay`). */
  @property() signer = '';
  /** The merchant's order reference; the signer looks up the amount. */
  @property({ attribute: 'order-ref' }) orderRef = '';
  /** How the checkout is shown: `auto`, `modal`, `popup` or `redirect`. */
  @property() mode: GalaxyPayMode = 'auto';
  /** Language of the built-in words and of the gateway page: `vi` (default) or `en`. */
  @property({ reflect: true }) override lang = 'vi';
  /** Payment method to preselect: `DOMESTIC`, `INTERNATIONAL`, `WALLET` or `QRPAY`. */
  @property({ attribute: 'payment-method' }) paymentMethod = '';
  /** Source (bank or wallet code) within the payment method. */
  @property({ attribute: 'source-type' }) sourceType = '';
  /**
   * Signed, expiring customer handle minted by the merchant's back end (never a raw customer id): offers the
   * customer's saved cards and saving a new one.
   */
  @property({ attribute: 'customer-handle' }) customerHandle = '';
  /** Redirect mode: where the shopper comes back to (an allowed merchant origin). Default: this page. */
  @property({ attribute: 'return-url' }) returnUrl = '';
  /** Disables the button. */
  @property({ type: Boolean, reflect: true }) disabled = false;
  /** Overrides for any of the built-in words. */
  @property({ attribute: false }) strings: Partial<GalaxyPayStrings & GalaxyPayExtraStrings> = {};
  /** Milliseconds the gateway frame may take to load before a new window is offered instead. */
  @property({ attribute: false }) frameTimeout = 15_000;
  /** Milliseconds to keep asking the signer after the popup closed (a late payment may still land). */
  @property({ attribute: false }) closeGrace = 10_000;
  /** Milliseconds between status polls when Server-Sent Events are unavailable. */
  @property({ attribute: false }) pollInterval = 2_000;

  override connectedCallback(): void {
    super.connectedCallback();
    if (returnedSessionId()) void this.updateComplete.then(() => this.resume());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Removed mid-flow: abort requests, close the popup, drop listeners, and dispatch nothing more (T38).
    this.end();
  }

  private get words(): GalaxyPayStrings {
    return { ...STRINGS[this.lang === 'en' ? 'en' : 'vi'], ...this.strings };
  }

  private handleMessage = (event: MessageEvent): void => {
    const flow = this.flow;
    if (
      !flow?.sessionId ||
      !isReturnMessage(event, {
        origin: new URL(flow.base).origin,
        source: flow.popup ?? this.frame?.contentWindow,
        sessionId: flow.sessionId,
        nonce: flow.nonce!,
      })
    ) {
      return;
    }
    // A hint only: the signer says what happened (T34).
    this.setPhase('verifying');
    void flow.watcher?.check();
  };

  private handleView(flow: Flow, view: SessionView): void {
    if (this.flow !== flow || !isFinal(view)) return;
    const sessionId = flow.sessionId!;
    const orderRef = flow.orderRef;
    const w = this.words;
    if (view.sessionId !== sessionId || view.orderRef !== orderRef) {
      this.settle(
        flow,
        this.error(ErrorCode.Mismatch, 'the signer answered for another order', false),
      );
    } else if (view.status === 'cancelled' || view.status === 'expired') {
      const reason = view.status === 'expired' ? 'timeout' : (view.cancelReason ?? 'gateway');
      this.settle(flow, new GalaxyPayCancelEvent({ reason, sessionId, orderRef }), w.cancelled);
    } else if (view.status === 'needs_review') {
      this.settle(flow, this.error(ErrorCode.NeedsReview, 'the payment needs review', false));
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
      this.settle(flow, new GalaxyPayResultEvent(detail), status === 'failed' ? w.failed : w.paid);
    }
  }

  private handleEscape(event: Event): void {
    // The dialog stays open until the signer has answered; close() hides it at once.
    event.preventDefault();
    this.close();
  }

  private handleFrameLoad(): void {
    if (this.frameState === 'loading') this.frameState = 'loaded';
  }

  /**
   * The frame did not load in time, or the page's CSP refused it: say so and offer a new window, which the
   * shopper's next click may open (T36). Chromium fires `load` even for a page that refuses framing
   * (X-Frame-Options, frame-ancestors) and a cross-origin frame cannot be inspected, so the dialog always
   * offers the new window too.
   */
  private handleFrameFailed(flow: Flow, code: ErrorCode): void {
    if (this.flow !== flow || this.frameState === 'failed' || flow.presentation !== 'modal') return;
    if (code === ErrorCode.FrameTimeout && this.frameState === 'loaded') return;
    this.frameState = 'failed';
    this.checkoutUrl = '';
    this.dispatchEvent(this.error(code, this.words.frameTimeout, true));
  }

  private handleOpenWindow(): void {
    const flow = this.flow;
    if (!flow?.checkoutUrl) return;
    const popup = openPopup();
    if (!popup) {
      this.dispatchEvent(this.error(ErrorCode.PopupBlocked, this.words.popupBlocked, true));
      return;
    }
    flow.presentation = 'popup';
    this.dialog?.close();
    this.showPopup(flow, popup);
  }

  private async handlePopupClosed(flow: Flow): Promise<void> {
    // Closed at once: maybe cut off by the page's COOP, the shopper still paying; then the signer alone tells.
    if (
      Date.now() - flow.sentAt! < 3000 &&
      (await this.extra(x => x.coopSevered()).catch(() => false))
    )
      return;
    if (this.flow !== flow) return;
    this.markClosed(flow);
    this.setPhase('verifying');
    void flow.watcher?.check();
    // A late IPN may still land: keep watching for a while, then have the signer settle it.
    const timer = setTimeout(() => void this.cancel(flow, 'closed'), this.closeGrace);
    flow.controller.signal.addEventListener('abort', () => clearTimeout(timer));
  }

  /** Starts a payment, as a click does. Ignored while one is under way (double clicks open one session). */
  open(): void {
    if (this.disabled || this.flow) return;
    // One payment at a time on a page (a modal makes the page inert; a popup does not): bring it forward.
    // A popup the shopper closed (or that COOP cut off) blocks nothing while its result is awaited.
    const popup = activeFlow?.controller.signal.aborted ? undefined : activeFlow?.popup;
    if (popup && !popup.closed) {
      popup.focus();
      return;
    }
    const base = signerBase(this.signer);
    if (!base || !this.orderRef) {
      this.dispatchEvent(this.error(ErrorCode.Config, 'signer and order-ref are required', false));
      return;
    }
    const qr = this.paymentMethod === 'QRPAY';
    const flow: Flow = {
      controller: new AbortController(),
      // A QR code is shown in the dialog, whatever the screen.
      presentation: qr ? 'modal' : choosePresentation(this.mode),
      base,
      orderRef: this.orderRef,
    };
    this.flow = flow;
    activeFlow = flow;
    if (this.customerHandle && !qr) {
      void this.extra((x, host) => x.chooseCard(host, flow)).catch(
        error => flow.controller.signal.aborted || this.fail(flow, error),
      );
    } else this.go(flow);
  }

  /**
   * Runs part of a flow in the lazily loaded extras module (saved cards, QR, COOP check): `host` is this
   * element, its private members included (one unit, split only for the script-tag size budget).
   */
  private async extra<T>(run: (extras: typeof Extras, host: never) => T): Promise<Awaited<T>> {
    return await run(await import('./extras.js'), this as never);
  }

  /** Opens the checkout in the chosen presentation; the popup synchronously, inside the shopper's click. */
  private go(flow: Flow): void {
    if (flow.presentation === 'popup') {
      // Synchronously inside the click, before any await (T35).
      flow.popup = openPopup();
      if (!flow.popup) {
        flow.presentation = popupFallback();
        this.dispatchEvent(this.error(ErrorCode.PopupBlocked, this.words.popupBlocked, true));
        if (this.flow !== flow) return;
      }
    }
    this.setPhase('opening');
    if (flow.presentation === 'modal') {
      this.frameState = 'loading';
      void this.updateComplete.then(
        () => this.flow === flow && !this.dialog?.open && this.dialog?.showModal(),
      );
    } else {
      this.dialog?.close();
    }
    void this.start(flow);
  }

  /** Closes the checkout. The signer is asked first: a payment that went through is still reported as paid. */
  close(): void {
    if (this.flow) void this.cancel(this.flow, 'user');
  }

  private async start(flow: Flow): Promise<void> {
    const { signal } = flow.controller;
    try {
      const session = await createSession(flow.base, this.request(flow), { signal });
      if (signal.aborted) return;
      flow.sessionId = session.sessionId;
      flow.nonce = session.nonce;
      if (session.qr) {
        await this.extra((x, host) => x.showQr(host, flow, session.qr!));
        return;
      }
      const url = session.checkoutUrl ?? '';
      if (!/^https?:\/\//.test(url)) throw new GalaxyPayRequestError(flow.base, 502, 'no_checkout');
      flow.checkoutUrl = url;
      const open = () =>
        new GalaxyPayOpenEvent({ sessionId: session.sessionId, mode: flow.presentation });
      if (flow.presentation === 'redirect') {
        this.dispatchEvent(open());
        location.assign(url);
        return;
      }
      addEventListener('message', this.handleMessage, { signal });
      flow.watcher = this.watch(flow, session.sessionId);
      if (flow.popup) {
        this.showPopup(flow, flow.popup);
      } else {
        this.checkoutUrl = url;
        const timer = setTimeout(
          () => this.handleFrameFailed(flow, ErrorCode.FrameTimeout),
          this.frameTimeout,
        );
        signal.addEventListener('abort', () => clearTimeout(timer));
        // The merchant's CSP lacks the gateway in frame-src: no need to wait for the timeout.
        const origin = new URL(url).origin;
        addEventListener(
          'securitypolicyviolation',
          event =>
            event.blockedURI.startsWith(origin) &&
            this.handleFrameFailed(flow, ErrorCode.FrameBlocked),
          { signal },
        );
      }
      this.setPhase('paying');
      this.dispatchEvent(open());
    } catch (error) {
      if (!signal.aborted) this.fail(flow, error);
    }
  }

  private watch(flow: Flow, sessionId: string) {
    return watchSession(flow.base, sessionId, v => this.handleView(flow, v), {
      signal: flow.controller.signal,
      pollMs: this.pollInterval,
    });
  }

  /** Redirect mode came back with `?galaxy_pay_session=`: report that session if it is this button's order. */
  private async resume(): Promise<void> {
    const sessionId = returnedSessionId();
    const base = signerBase(this.signer);
    if (!sessionId || this.flow || !base || !this.orderRef) return;
    const flow: Flow = {
      controller: new AbortController(),
      presentation: 'redirect',
      base,
      orderRef: this.orderRef,
      sessionId,
      closed: true,
    };
    this.flow = flow;
    this.setPhase('verifying');
    const { signal } = flow.controller;
    try {
      const view = await getSession(flow.base, sessionId, { signal });
      // Another button's payment, or already claimed: stay quiet (several buttons never cross-talk).
      if (view.orderRef !== flow.orderRef || returnedSessionId() !== sessionId) {
        this.end();
        return;
      }
      forgetReturnedSession();
      if (isFinal(view)) this.handleView(flow, view);
      else flow.watcher = this.watch(flow, sessionId);
    } catch (error) {
      // An id the signer does not know (stale, forged, another signer's) is not this button's payment either.
      if ((error as { status?: number }).status === 404) this.end();
      else if (!signal.aborted) this.fail(flow, error);
    }
  }

  private showPopup(flow: Flow, popup: Window): void {
    flow.popup = popup;
    this.checkoutUrl = '';
    // Still about:blank and ours, so it may be navigated; the return page will be the signer's.
    popup.location.href = flow.checkoutUrl!;
    flow.sentAt = Date.now();
    watchClosed(popup, () => void this.handlePopupClosed(flow), flow.controller.signal);
  }

  private async cancel(flow: Flow, reason: 'user' | 'closed'): Promise<void> {
    if (this.flow !== flow || flow.cancelling) return;
    flow.cancelling = true;
    flow.popup?.close();
    this.markClosed(flow);
    this.setPhase('verifying');
    if (!flow.sessionId) {
      this.end();
      return;
    }
    const { signal } = flow.controller;
    for (;;) {
      try {
        const key = clientKeyFor(flow.base, flow.orderRef);
        return this.handleView(
          flow,
          await cancelSession(flow.base, flow.sessionId, reason, { signal }, key),
        );
      } catch (error) {
        if (signal.aborted) return;
        // 503: the gateway did not answer, so whether the shopper paid is unknown. Keep asking (the status
        // watcher may report the payment first); never report a cancel the signer could not verify.
        if ((error as GalaxyPayRequestError).status !== 503) return this.fail(flow, error);
        await new Promise(wake => setTimeout(wake, 2000));
        if (this.flow !== flow) return;
      }
    }
  }

  /** Hides the modal or popup and sends `galaxy-pay-close`, once per flow. */
  private markClosed(flow: Flow): void {
    if (this.dialog?.open) this.dialog.close();
    this.checkoutUrl = '';
    if (flow.closed) return;
    flow.closed = true;
    this.dispatchEvent(new GalaxyPayCloseEvent({ sessionId: flow.sessionId ?? null }));
  }

  /** Ends `flow` with its one outcome event. */
  private settle(flow: Flow, outcome: Event, text = this.words.error): void {
    this.markClosed(flow);
    this.end();
    this.announcement = text;
    this.dispatchEvent(outcome);
  }

  private fail(flow: Flow, error: unknown): void {
    const status = error instanceof GalaxyPayRequestError ? error.status : 0;
    const code = error instanceof GalaxyPayRequestError ? error.code : undefined;
    const detail: GalaxyPayErrorDetail =
      code === 'order_already_paid'
        ? { code: ErrorCode.OrderPaid, message: 'the order is already paid', retryable: false }
        : /customer_handle|saved_cards_disabled/.test(code!)
          ? {
              code: ErrorCode.CustomerHandle,
              message: `customer-handle refused (${code})`,
              retryable: false,
            }
          : {
              code: status ? ErrorCode.Signer : ErrorCode.Network,
              message: String((error as Error)?.message ?? error),
              retryable: !status || status >= 500 || status === 429 || status === 409,
            };
    this.settle(flow, new GalaxyPayErrorEvent(detail));
  }

  /** Releases the current flow without dispatching anything. */
  private end(): void {
    const flow = this.flow;
    if (!flow) return;
    this.flow = undefined;
    flow.controller.abort();
    flow.popup?.close();
    if (this.dialog?.open) this.dialog.close();
    this.checkoutUrl = '';
    this.panel = undefined;
    this.phase = 'idle';
  }

  private error(code: ErrorCode, message: string, retryable: boolean): GalaxyPayErrorEvent {
    return new GalaxyPayErrorEvent({ code, message, retryable });
  }

  private setPhase(phase: Exclude<Phase, 'idle'>): void {
    this.phase = phase;
    this.announcement = this.words[phase];
  }

  private request(flow: Flow): SessionRequest {
    return {
      orderRef: flow.orderRef,
      clientKey: clientKeyFor(flow.base, flow.orderRef),
      locale: this.lang === 'en' ? 'en' : 'vi',
      ...(this.paymentMethod ? { paymentMethod: this.paymentMethod } : {}),
      ...(this.sourceType ? { sourceType: this.sourceType } : {}),
      ...(flow.tokenId || flow.saveCard
        ? { customerHandle: this.customerHandle, tokenId: flow.tokenId, saveCard: flow.saveCard }
        : {}),
      ...(flow.presentation === 'redirect'
        ? { returnUrl: this.returnUrl || currentPageUrl() }
        : {}),
    };
  }

  override render() {
    const w = this.words;
    const loading = this.frameState === 'loading';
    const failed = this.frameState === 'failed';
    // A modal dialog makes the rest of the page inert, a live region outside it included: while it is open,
    // progress is announced from inside it.
    const inDialog = !!this.dialog?.open;
    return html`<button
        type="button"
        part="button"
        ?disabled=${this.disabled}
        aria-disabled=${this.phase === 'idle' ? nothing : 'true'}
        @click=${this.open}
      >
        <slot>${w.pay}</slot>
      </button>
      <span class="sr" role="status">${inDialog ? '' : this.announcement}</span>
      <dialog part="dialog" aria-label=${w.title} @cancel=${this.handleEscape}>
        <span class="sr" role="status">${inDialog ? this.announcement : ''}</span>
        <span tabindex="0" @focus=${() => (this.lastFocusable ?? this.closeButton)?.focus()}></span>
        <header>
          <button type="button" class="x" autofocus aria-label=${w.close} @click=${this.close}>
            ×
          </button>
        </header>
        <div class="body">
          ${
            this.panel
              ? this.panel()
              : failed
                ? html`<p>${w.frameTimeout}</p>`
                : html`${loading ? html`<div class="spin"></div>` : nothing}
                  ${
                    this.checkoutUrl
                      ? html`<iframe
                          class=${loading ? 'loading' : ''}
                          title=${w.title}
                          src=${this.checkoutUrl}
                          allow="payment"
                          @load=${this.handleFrameLoad}
                        ></iframe>`
                      : nothing
                  }`
          }
        </div>
        ${
          this.panel
            ? nothing
            : html`<footer>
                <button
                  type="button"
                  class="alt"
                  ?disabled=${!this.checkoutUrl && !failed}
                  @click=${this.handleOpenWindow}
                >
                  ${w.openWindow}
                </button>
              </footer>`
        }
        <span tabindex="0" @focus=${() => this.closeButton?.focus()}></span>
      </dialog>`;
  }
}

// Guarded: the script-tag file and the npm module may both be on one page; no registry during SSR.
if (typeof customElements !== 'undefined' && !customElements.get('galaxy-pay-button')) {
  customElements.define('galaxy-pay-button', GalaxyPayButton);
}

declare global {
  interface HTMLElementTagNameMap {
    'galaxy-pay-button': GalaxyPayButton;
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

/** The payment under way on this page, if any (a flow ends by aborting its controller). */
let activeFlow: Flow | undefined;
