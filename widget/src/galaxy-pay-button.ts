import { LitElement, html, nothing } from 'lit';
import { GalaxyPayCloseEvent, GalaxyPayErrorEvent } from './events.js';
import { styles } from './galaxy-pay-button.styles.js';
import {
  choosePresentation,
  currentPageUrl,
  openPopup,
  popupFallback,
  returnedSessionId,
} from './presenters.js';
import { clientKeyFor, createSession } from './signer-client.js';
import { STRINGS, type GalaxyPayExtraStrings, type GalaxyPayStrings } from './strings.js';
import type * as Extras from './extras.js';
import {
  ErrorCode,
  type GalaxyPayLang,
  type GalaxyPayMode,
  type GalaxyPayPaymentMethod,
  type GalaxyPayPresentation,
  type SessionRequest,
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
 * This module holds what a click needs at once: the button, the dialog, the popup opened inside the click and
 * the call that opens the session. The rest of the checkout (`extras.ts`: following the session, cancelling,
 * errors, popup and redirect follow-up, saved cards, QR) is imported while the signer answers that call.
 *
 * @summary Galaxy Pay checkout button.
 * @fires {GalaxyPayOpenEvent} galaxy-pay-open - The modal, popup or redirect has started. `detail: {sessionId, mode}`.
 * @fires {GalaxyPayResultEvent} galaxy-pay-result - The signer verified a final status, once per payment.
 * `detail: {status, sessionId, orderRef, amount, currency, transactionId, code, message}`.
 * @fires {GalaxyPayCancelEvent} galaxy-pay-cancel - The signer confirmed a cancellation, once per payment.
 * `detail: {reason, sessionId, orderRef}`.
 * @fires {GalaxyPayErrorEvent} galaxy-pay-error - Something failed. `detail: {code, message, retryable}`.
 * @fires {GalaxyPayCloseEvent} galaxy-pay-close - The modal or popup has closed, for any reason. `detail: {sessionId}`.
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

  /**
   * Reactive properties, declared here rather than with Lit's decorators: the decorators module and the
   * per-field calls cost ~0.5 KB gzipped in the script-tag file.
   */
  static override properties = {
    signer: {},
    orderRef: { attribute: 'order-ref' },
    mode: {},
    lang: {},
    paymentMethod: { attribute: 'payment-method' },
    sourceType: { attribute: 'source-type' },
    customerHandle: { attribute: 'customer-handle' },
    returnUrl: { attribute: 'return-url' },
    disabled: { type: Boolean, reflect: true },
    strings: { attribute: false },
    phase: { state: true },
    announcement: { state: true },
    checkoutUrl: { state: true },
    frameState: { state: true },
    panel: { state: true },
  };

  private flow?: Flow;
  private phase: Phase = 'idle';
  private announcement = '';
  private checkoutUrl = '';
  private frameState: 'loading' | 'loaded' | 'failed' = 'loading';
  /** Set by the extras module: renders the dialog's body instead (saved-cards chooser, QR code). */
  private panel?: () => unknown;

  /** Base URL of the merchant's signer, absolute or relative to the page (e.g. `/galaxy-pay`). */
  signer = '';
  /** The merchant's order reference; the signer looks up the amount. */
  orderRef = '';
  /** How the checkout is shown: `auto`, `modal`, `popup` or `redirect`. */
  mode: GalaxyPayMode = 'auto';
  /**
   * Language of the built-in words and of the gateway page, `vi` or `en`. Without it the button follows the
   * page (`<html lang>`), then the browser, and falls back to Vietnamese; it never sets the attribute itself.
   */
  override lang = '';
  /**
   * Payment method to preselect: `DOMESTIC`, `INTERNATIONAL`, `WALLET`, `QRPAY`, `HUB` or `BNPL` (the last
   * two with a `source-type`, e.g. `2C2P`, `KREDIVO`).
   */
  paymentMethod: GalaxyPayPaymentMethod | '' = '';
  /** Source (bank or wallet code) within the payment method. */
  sourceType = '';
  /**
   * Signed, expiring customer handle minted by the merchant's back end (never a raw customer id): offers the
   * customer's saved cards and saving a new one.
   */
  customerHandle = '';
  /** Redirect mode: where the shopper comes back to (an allowed merchant origin). Default: this page. */
  returnUrl = '';
  /** Disables the button. */
  disabled = false;
  /** Overrides for any of the built-in words. */
  strings: Partial<GalaxyPayStrings & GalaxyPayExtraStrings> = {};
  /** Milliseconds the gateway frame may take to load before a new window is offered instead. */
  frameTimeout = 15_000;
  /** Milliseconds to keep asking the signer after the popup closed (a late payment may still land). */
  closeGrace = 10_000;
  /** Milliseconds between status polls when Server-Sent Events are unavailable. */
  pollInterval = 2_000;

  override connectedCallback(): void {
    super.connectedCallback();
    // Back from a redirect: report that session if it is this button's order. Without the extras file there
    // is nothing to report it with; the signer still holds the verified status.
    if (returnedSessionId()) {
      void this.updateComplete
        .then(() => this.extra((x, host) => x.resume(host, signerBase(this.signer))))
        .catch(() => undefined);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Removed mid-flow: abort requests, close the popup, drop listeners, and dispatch nothing more (T38).
    this.end();
  }

  /** The built-in language in use: `lang`, else the page's, else the browser's; Vietnamese otherwise. */
  private get language(): GalaxyPayLang {
    const tags = [
      this.lang,
      this.closest('[lang]')?.getAttribute('lang'),
      document.documentElement.lang,
      ...navigator.languages,
    ];
    for (const tag of tags) {
      const primary = tag?.toLowerCase().split('-')[0];
      if (primary === 'vi' || primary === 'en') return primary;
    }
    return 'vi';
  }

  private get words(): GalaxyPayStrings {
    return { ...STRINGS[this.language], ...this.strings };
  }

  private get dialog(): HTMLDialogElement | null | undefined {
    return this.shadowRoot?.querySelector('dialog');
  }

  private handleEscape(event: Event): void {
    // The dialog stays open until the signer has answered; close() hides it at once.
    event.preventDefault();
    this.close();
  }

  private handleFrameLoad(): void {
    if (this.frameState === 'loading') this.frameState = 'loaded';
  }

  /** "Open in a new window": the window opens inside this click (T36); the extras module sends it on. */
  private handleOpenWindow(): void {
    const flow = this.flow;
    if (flow?.checkoutUrl) {
      const popup = openPopup();
      void this.extra((x, host) => x.openWindow(host, flow, popup));
    }
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
   * Runs part of a flow in the lazily loaded extras module: `host` is this element, its private members
   * included (one unit, split only for the script-tag size budget).
   */
  private async extra<T>(run: (extras: typeof Extras, host: never) => T): Promise<Awaited<T>> {
    return await run(await loadExtras(), this as never);
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
    const flow = this.flow;
    if (flow?.sessionId) {
      void this.extra((x, host) => x.cancel(host, flow, 'user'));
    } else if (flow) {
      // No session yet: nothing to ask the signer.
      this.markClosed(flow);
      this.end();
    }
  }

  private async start(flow: Flow): Promise<void> {
    const { signal } = flow.controller;
    try {
      // The rest of the checkout loads while the signer opens the session: the click waits for nothing more.
      const [extras, session] = await Promise.all([
        loadExtras(),
        createSession(flow.base, this.request(flow), { signal }),
      ]);
      if (signal.aborted) return;
      flow.sessionId = session.sessionId;
      flow.nonce = session.nonce;
      if (session.qr) extras.showQr(this as never, flow, session.qr);
      else extras.follow(this as never, flow, session);
    } catch (error) {
      if (!signal.aborted) this.fail(flow, error);
    }
  }

  /** Hides the modal or popup and sends `galaxy-pay-close`, once per flow. */
  private markClosed(flow: Flow): void {
    this.dialog?.close();
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

  /** Ends `flow` with `galaxy-pay-error`: mapped by the extras module, or a network error if it did not load. */
  private fail(flow: Flow, error: unknown): void {
    void this.extra((x, host) => x.fail(host, flow, error)).catch(
      () =>
        this.flow === flow &&
        this.settle(
          flow,
          this.error(ErrorCode.Network, String((error as Error)?.message ?? error), true),
        ),
    );
  }

  /** Releases the current flow without dispatching anything. */
  private end(): void {
    const flow = this.flow;
    if (!flow) return;
    this.flow = undefined;
    flow.controller.abort();
    flow.popup?.close();
    this.dialog?.close();
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

  /** The body of `POST {signer}/sessions`: what the shopper chose, never a price (empty values are left out). */
  private request(flow: Flow): SessionRequest {
    const saved = flow.tokenId || flow.saveCard;
    return {
      orderRef: flow.orderRef,
      clientKey: clientKeyFor(flow.base, flow.orderRef),
      locale: this.language,
      paymentMethod: this.paymentMethod || undefined,
      sourceType: this.sourceType || undefined,
      ...(saved && {
        customerHandle: this.customerHandle,
        tokenId: flow.tokenId,
        saveCard: flow.saveCard,
      }),
      returnUrl: flow.presentation === 'redirect' ? this.returnUrl || currentPageUrl() : undefined,
    };
  }

  override render() {
    const w = this.words;
    const loading = this.frameState === 'loading';
    const failed = this.frameState === 'failed';
    // A modal dialog makes the rest of the page inert, a live region outside it included: while it is open,
    // progress is announced from inside it.
    const inDialog = !!this.dialog?.open;
    const find = (selector: string) => this.shadowRoot!.querySelector<HTMLElement>(selector);
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
        <span tabindex="0" @focus=${() => (find('.go,.alt') ?? find('.x'))?.focus()}></span>
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
        <span tabindex="0" @focus=${() => find('.x')?.focus()}></span>
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

/** The rest of the element (`galaxy-pay-extras.js` next to the script-tag file). */
const loadExtras = () => import('./extras.js');
