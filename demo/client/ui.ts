/**
 * The shop in the browser, shared by both pages: products, a cart, placing an order (the shop's back end
 * prices it and registers it with the signer), then `<galaxy-pay-button>` with the order reference only.
 * The checkout offers what the product does: a QR code, the customer's saved cards (a customer handle the
 * shop's back end mints), FAST_PAY with a saved card (the shop's back end charges it), and "authorize only"
 * (the button talks to the manual-capture signer; the back office captures or voids).
 * Everything is built with DOM calls and `textContent`: no HTML strings, nothing for the CSP to refuse.
 */

import type {} from '@galaxy-pay/widget';
import { api, byId, h } from './dom.js';
import { WORDS, saveLang, translatePage, type Lang, type Words } from './i18n.js';
import { configureButton, createPayButton } from './ui-button.js';
import { cartLines, renderCart, renderCartBar, renderProducts } from './ui-cart-view.js';
import { renderCheckout } from './ui-checkout-view.js';
import { logEvent } from './ui-event-log.js';
import { errorWords, failureWords } from './ui-notices.js';
import { renderReceipt } from './ui-receipt-view.js';
import { loadState, storeCart, storeMode, storeOptions, storeOrder } from './ui-state.js';
import type { Customer, Notice, Order, Product, Receipt, View } from './ui-types.js';

/** How long an "add" button says "Added" (feedback, not a wait). */
const ADDED_MS = 1600;

/** Starts the shop on the current page. The widget must be defined by the page (script tag or import). */
export async function startShop(): Promise<void> {
  const s = loadState();
  const productList = byId('products');
  const side = byId('side');
  const cartBar = byId('cart-bar');
  // The pay button lives in its own container that renders never replace: moving the element out of the
  // document mid-payment would end the payment (the widget releases everything on disconnect).
  const sideMain = h('div');
  const payArea = h('div', { class: 'pay-area' });
  const editLink = h('button', { type: 'button', id: 'edit-cart', class: 'link' });
  side.replaceChildren(sideMain, payArea);
  const log = byId<HTMLOListElement>('event-log');
  /** Kept across renders: re-creating it mid-payment would abort the payment. */
  let button: HTMLElementTagNameMap['galaxy-pay-button'] | null = null;

  const words = (): Words => WORDS[s.lang];
  const saveCart = () => storeCart(s.cart);
  const saveOptions = () => storeOptions(s.options);

  function setLang(next: Lang): void {
    s.lang = next;
    saveLang(next);
    render();
  }

  function translateStatic(): void {
    const w = words();
    translatePage(s.lang, w);
    document.title = `${w.title} · Galaxy Pay demo`;
  }

  function payButton(order: Order): HTMLElementTagNameMap['galaxy-pay-button'] {
    if (!button || button.orderRef !== order.orderRef)
      button = createPayButton(order, onWidgetEvent);
    configureButton(s, button);
    return button;
  }

  function render(): void {
    translateStatic();
    productList.replaceChildren(...renderProducts(s));
    renderCartBar(s, cartBar);
    const panel =
      s.view.kind === 'cart'
        ? renderCart(s)
        : s.view.kind === 'checkout'
          ? renderCheckout(s, s.view.order)
          : renderReceipt(s, s.view.receipt);
    sideMain.replaceChildren(panel);
    if (s.view.kind === 'checkout') {
      const pay = payButton(s.view.order);
      editLink.textContent = words().editCart;
      if (payArea.firstChild !== pay) payArea.replaceChildren(pay, editLink);
    } else if (payArea.firstChild) {
      payArea.replaceChildren();
    }
  }

  /** Renders, then gives the focus back to the control that had it (renders rebuild the panel). */
  function renderKeepingFocus(): void {
    const id = document.activeElement?.id;
    render();
    if (id) document.getElementById(id)?.focus();
  }

  function show(next: View, nextNotice: Notice | null = null): void {
    s.view = next;
    s.notice = nextNotice;
    if (next.kind === 'checkout') {
      for (const timer of s.justAdded.values()) clearTimeout(timer);
      s.justAdded.clear();
      storeOrder(next.order);
      if (s.options.savedCards) {
        // The cards shown are the ones loaded for this order: an earlier order's list may miss a card saved
        // since, and its handle may have expired.
        s.customer = null;
        void loadCustomer();
      }
    } else {
      storeOrder(null);
      button = null;
    }
    render();
  }

  /** The order is paid (or authorized): the cart is emptied and the receipt shown. */
  function showReceipt(
    order: Order,
    payment: Pick<Receipt, 'status' | 'transactionId' | 'amount'>,
  ): void {
    s.cart = {};
    saveCart();
    const { status, transactionId, amount } = payment;
    show({
      kind: 'receipt',
      receipt: { order, status, transactionId, amount, at: new Date().toISOString() },
    });
  }

  /** A fresh customer handle and the saved cards, from the shop's back end (which asks the signer). */
  async function loadCustomer(): Promise<void> {
    try {
      s.customer = await api<Customer>('/api/customer', {});
    } catch {
      s.customer = null;
      s.notice = { tone: 'error', text: w => w.errorSigner };
    }
    if (s.view.kind === 'checkout') renderKeepingFocus();
  }

  async function placeOrder(): Promise<void> {
    s.busy = true;
    s.notice = null;
    render();
    try {
      const order = await api<Order>('/api/orders', {
        items: cartLines(s).map(({ product, quantity }) => ({ id: product.id, quantity })),
      });
      s.busy = false;
      show({ kind: 'checkout', order });
    } catch {
      s.busy = false;
      show({ kind: 'cart' }, { tone: 'error', text: w => w.orderFailed });
    }
  }

  /** FAST_PAY: the shop's back end charges the saved card; no page, no OTP, no widget events. */
  async function fastPay(order: Order, tokenId: string): Promise<void> {
    s.busy = true;
    s.notice = null;
    renderKeepingFocus();
    try {
      const payment = await api<{ status: string; transactionId: string | null; amount: number }>(
        `/api/orders/${encodeURIComponent(order.orderRef)}/fast-pay`,
        { tokenId },
      );
      s.busy = false;
      if (payment.status === 'paid' || payment.status === 'authorized') {
        showReceipt(order, { ...payment, status: payment.status });
        return;
      }
      s.notice = { tone: 'error', title: w => w.failed, text: w => w.fastPayFailed };
    } catch {
      s.busy = false;
      s.notice = { tone: 'error', title: w => w.failed, text: w => w.fastPayFailed };
    }
    render();
  }

  async function forgetCard(tokenId: string): Promise<void> {
    s.busy = true;
    render();
    try {
      await api(`/api/customer/cards/${encodeURIComponent(tokenId)}/delete`, {});
    } catch {
      s.notice = { tone: 'error', text: w => w.errorOther };
    }
    s.busy = false;
    await loadCustomer();
  }

  function onWidgetEvent(event: Event): void {
    logEvent(log, event, s.lang);
    if (s.view.kind !== 'checkout') return;
    const order = s.view.order;
    switch (event.type) {
      case 'galaxy-pay-open':
        s.notice = { tone: 'info', text: w => w.opening };
        break;
      case 'galaxy-pay-result': {
        const detail = (event as HTMLElementEventMap['galaxy-pay-result']).detail;
        if (detail.status === 'paid' || detail.status === 'authorized') {
          showReceipt(order, { ...detail, status: detail.status });
          return;
        }
        // The gateway's own message is English whatever the page's language (and it is the gateway's
        // wording, not the shop's): the shopper reads the shop's words for the result code; the event log
        // keeps the message for developers.
        const reason = failureWords(detail.code);
        s.notice = {
          tone: 'error',
          title: w => w.failed,
          text: w => [reason(w), w.failedHint].filter(Boolean).join(' '),
        };
        break;
      }
      case 'galaxy-pay-cancel': {
        const { reason } = (event as HTMLElementEventMap['galaxy-pay-cancel']).detail;
        s.notice = { tone: 'warn', text: w => (reason === 'timeout' ? w.expired : w.cancelled) };
        break;
      }
      case 'galaxy-pay-error': {
        const { code } = (event as HTMLElementEventMap['galaxy-pay-error']).detail;
        s.notice = { tone: code === 'POPUP_BLOCKED' ? 'warn' : 'error', text: errorWords(code) };
        // The handle lives 15 minutes: a visitor who waited longer gets a fresh one.
        if (code === 'CUSTOMER_HANDLE' && s.options.savedCards) void loadCustomer();
        break;
      }
      default:
        return;
    }
    render();
  }

  function added(id: string): void {
    // Feedback where the finger is (the button) and where the cart is out of sight (the bar).
    clearTimeout(s.justAdded.get(id));
    s.justAdded.set(
      id,
      window.setTimeout(() => {
        s.justAdded.delete(id);
        productList.replaceChildren(...renderProducts(s));
      }, ADDED_MS),
    );
    const product = s.products.find(p => p.id === id);
    const count = Object.values(s.cart).reduce((sum, quantity) => sum + quantity, 0);
    s.lastAdded = product ? words().addedTo(product.name[s.lang], count) : '';
    cartBar.classList.remove('bump');
    void cartBar.offsetWidth; // restarts the animation
    cartBar.classList.add('bump');
  }

  document.addEventListener('click', event => {
    const target = (event.target as Element).closest<HTMLElement>('button');
    if (!target) return;
    const { add, inc, dec, lang: langChoice, fastPay: token, forget } = target.dataset;
    if (langChoice === 'vi' || langChoice === 'en') return setLang(langChoice);
    if (add || inc) {
      const id = (add ?? inc)!;
      s.cart[id] = Math.min(20, (s.cart[id] ?? 0) + 1);
      saveCart();
      s.notice = null;
      if (add) added(id);
      render();
      if (add) document.querySelector<HTMLElement>(`[data-add="${id}"]`)?.focus();
    } else if (dec) {
      s.cart[dec] = (s.cart[dec] ?? 0) - 1;
      if (s.cart[dec]! <= 0) delete s.cart[dec];
      saveCart();
      render();
    } else if (token && s.view.kind === 'checkout') {
      void fastPay(s.view.order, token);
    } else if (forget) {
      void forgetCard(forget);
    } else if (target.id === 'place-order') {
      void placeOrder();
    } else if (target.id === 'edit-cart' || target.id === 'continue') {
      show({ kind: 'cart' });
    }
  });
  document.addEventListener('change', event => {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    if (target.id === 'mode') {
      s.mode = target.value;
      storeMode(s.mode);
      button?.setAttribute('mode', s.mode);
      return;
    }
    if (target.name === 'method') s.options.method = target.value === 'QRPAY' ? 'QRPAY' : '';
    else if (target.id === 'opt-saved') s.options.savedCards = (target as HTMLInputElement).checked;
    else if (target.id === 'opt-manual') s.options.manual = (target as HTMLInputElement).checked;
    else return;
    saveOptions();
    if (target.id === 'opt-saved' && s.options.savedCards) void loadCustomer();
    renderKeepingFocus();
  });

  const res = await fetch('/api/products');
  s.products = ((await res.json()) as { products: Product[] }).products;
  if (s.view.kind === 'checkout' && s.options.savedCards) await loadCustomer();
  render();
  document.body.dataset.ready = 'true';
}
