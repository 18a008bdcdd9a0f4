import { LitElement, html, nothing } from 'lit';
import { CheckoutController } from './checkout-controller.js';
import { styles } from './galaxy-pay-button.styles.js';
import { wordsOf, type GalaxyPayExtraStrings, type GalaxyPayStrings } from './strings.js';
import type { GalaxyPayMode, GalaxyPayPaymentMethod } from './types.js';

/**
 * A pay button that opens Galaxy Pay's hosted payment page (modal, popup or redirect) and reports the outcome
 * only once the merchant's signer has verified it.
 *
 * The element holds its attributes and renders; its `CheckoutController` runs the payments, and dispatches the
 * events on it. The steps after the click (`extras.ts`: following the session, cancelling, errors, popup and
 * redirect follow-up, saved cards, QR) are imported while the signer answers the click's call.
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
  };

  /** Runs the payments; the steps after the click load lazily, in `extras.ts` (`galaxy-pay-extras.js`). */
  private checkout = new CheckoutController(this, () => import('./extras.js'));

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

  /** Starts a payment, as a click does. Ignored while one is under way (double clicks open one session). */
  open(): void {
    this.checkout.start();
  }

  /** Closes the checkout. The signer is asked first: a payment that went through is still reported as paid. */
  close(): void {
    this.checkout.close();
  }

  private handleEscape(event: Event): void {
    // The dialog stays open until the signer has answered; close() hides it at once.
    event.preventDefault();
    this.close();
  }

  override render() {
    const c = this.checkout;
    const w = wordsOf(this);
    const failed = c.frameState === 'failed';
    // A modal dialog makes the rest of the page inert, a live region outside it included: while it is open,
    // progress is announced from inside it.
    const inDialog = !!c.dialog?.open;
    const find = (selector: string) => this.shadowRoot!.querySelector<HTMLElement>(selector);
    return html`<button
        type="button"
        part="button"
        ?disabled=${this.disabled}
        aria-disabled=${c.phase === 'idle' ? nothing : 'true'}
        @click=${this.open}
      >
        <slot>${w.pay}</slot>
      </button>
      <span class="sr" role="status">${inDialog ? '' : c.announcement}</span>
      <dialog part="dialog" aria-label=${w.title} @cancel=${this.handleEscape}>
        <span class="sr" role="status">${inDialog ? c.announcement : ''}</span>
        <span tabindex="0" @focus=${() => (find('.go,.alt') ?? find('.x'))?.focus()}></span>
        <header>
          <button type="button" class="x" autofocus aria-label=${w.close} @click=${this.close}>
            ×
          </button>
        </header>
        <div class="body">
          ${c.panel ? c.panel() : c.frame ? c.frame() : html`<div class="spin"></div>`}
        </div>
        ${
          c.panel
            ? nothing
            : html`<footer>
                <button
                  type="button"
                  class="alt"
                  ?disabled=${!c.checkoutUrl && !failed}
                  @click=${() => c.openWindow()}
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
