/**
 * The shop in the browser, shared by both pages: products, a cart, placing an order (the shop's back end
 * prices it and registers it with the signer), then `<galaxy-pay-button>` with the order reference only.
 * The checkout offers what the product does: a QR code, the customer's saved cards (a customer handle the
 * shop's back end mints), FAST_PAY with a saved card (the shop's back end charges it), and "authorize only"
 * (the button talks to the manual-capture signer; the back office captures or voids).
 * Everything is built with DOM calls and `textContent`: no HTML strings, nothing for the CSP to refuse.
 */

import type {} from '@galaxy-pay/widget';
import { api, byId, h, readJson } from './dom.js';
import {
  WORDS,
  formatVnd,
  initialLang,
  saveLang,
  translatePage,
  type Lang,
  type Words,
} from './i18n.js';

interface Product {
  id: string;
  name: Record<Lang, string>;
  blurb: Record<Lang, string>;
  price: number;
  image: string;
}

interface OrderLine {
  productId: string;
  name: Record<Lang, string>;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

interface Order {
  orderRef: string;
  lines: OrderLine[];
  amount: number;
  currency: string;
}

interface Receipt {
  order: Order;
  status: 'paid' | 'authorized';
  transactionId: string | null;
  amount: number;
  at: string;
}

/** A saved card as the signer shows it: masked, never the token. */
interface SavedCard {
  tokenId: string;
  paymentMethod: string;
  brand: string | null;
  maskedNumber: string;
}

/** What the shop's back end gives this browser's demo customer: a fresh handle and the saved cards. */
interface Customer {
  handle: string;
  expiresAt: string;
  cards: SavedCard[];
}

/** The checkout's choices (kept for the tab, so a full-page redirect comes back to the same signer). */
interface PayOptions {
  method: '' | 'QRPAY';
  savedCards: boolean;
  manual: boolean;
}

type View =
  { kind: 'cart' } | { kind: 'checkout'; order: Order } | { kind: 'receipt'; receipt: Receipt };

type Notice = {
  tone: 'info' | 'warn' | 'error';
  text: (w: Words) => string;
  title?: (w: Words) => string;
};

const CART_KEY = 'gp-demo-cart';
const ORDER_KEY = 'gp-demo-order';
const MODE_KEY = 'gp-demo-mode';
const OPTIONS_KEY = 'gp-demo-options';
/** How long an "add" button says "Added" (feedback, not a wait). */
const ADDED_MS = 1600;
const EVENTS = [
  'galaxy-pay-open',
  'galaxy-pay-result',
  'galaxy-pay-cancel',
  'galaxy-pay-error',
  'galaxy-pay-close',
] as const;

/** Starts the shop on the current page. The widget must be defined by the page (script tag or import). */
export async function startShop(): Promise<void> {
  const meta = (name: string) =>
    document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
  const signerUrl = meta('galaxy-pay-signer');
  const manualSignerUrl = meta('galaxy-pay-signer-manual');
  let lang: Lang = initialLang();
  let products: Product[] = [];
  let cart: Record<string, number> = readJson(localStorage, CART_KEY) ?? {};
  let mode = sessionStorage.getItem(MODE_KEY) ?? 'auto';
  const options: PayOptions = {
    method: '',
    savedCards: false,
    manual: false,
    ...readJson<PayOptions>(sessionStorage, OPTIONS_KEY),
  };
  let customer: Customer | null = null;
  let notice: Notice | null = null;
  let busy = false;
  const justAdded = new Map<string, number>();
  /** What the last "add" did, in words (read out by the cart bar, a status region). */
  let lastAdded = '';
  const pending = readJson<Order>(sessionStorage, ORDER_KEY);
  // Back from a full-page redirect: show the checkout again so the button can report the result.
  let view: View =
    pending && new URLSearchParams(location.search).has('galaxy_pay_session')
      ? { kind: 'checkout', order: pending }
      : { kind: 'cart' };

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

  const words = (): Words => WORDS[lang];
  const saveCart = () => localStorage.setItem(CART_KEY, JSON.stringify(cart));
  const saveOptions = () => sessionStorage.setItem(OPTIONS_KEY, JSON.stringify(options));

  function setLang(next: Lang): void {
    lang = next;
    saveLang(next);
    render();
  }

  function translateStatic(): void {
    const w = words();
    translatePage(lang, w);
    document.title = `${w.title} · Galaxy Pay demo`;
  }

  function renderProducts(): void {
    const w = words();
    productList.replaceChildren(
      ...products.map(product => {
        const added = justAdded.has(product.id);
        return h(
          'article',
          { class: 'product', 'data-product': product.id },
          h('img', { src: product.image, alt: '', width: '160', height: '120' }),
          h('h3', {}, product.name[lang]),
          h('p', { class: 'blurb' }, product.blurb[lang]),
          h(
            'div',
            { class: 'buy' },
            h('span', { class: 'price' }, formatVnd(product.price, lang)),
            h(
              'button',
              {
                type: 'button',
                class: added ? 'add added' : 'add',
                'data-add': product.id,
                'data-added': added,
                disabled: view.kind !== 'cart',
              },
              added ? `✓ ${w.added}` : w.add,
            ),
          ),
        );
      }),
    );
  }

  function cartLines(): Array<{ product: Product; quantity: number }> {
    return Object.entries(cart)
      .map(([id, quantity]) => ({ product: products.find(p => p.id === id)!, quantity }))
      .filter(line => line.product && line.quantity > 0);
  }

  /** The bar small screens show while shopping: what is in the cart, and a way to it. */
  function renderCartBar(): void {
    const lines = cartLines();
    const count = lines.reduce((sum, line) => sum + line.quantity, 0);
    cartBar.hidden = view.kind !== 'cart' || count === 0;
    if (cartBar.hidden) return cartBar.replaceChildren();
    const w = words();
    const total = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
    cartBar.dataset.count = String(count);
    cartBar.replaceChildren(
      h('span', { class: 'visually-hidden' }, lastAdded),
      h('span', { class: 'cart-bar-text' }, w.cartBar(count, formatVnd(total, lang))),
      h('a', { href: '#side', class: 'cart-bar-link' }, w.viewCart),
    );
  }

  function renderNotice(): HTMLElement | null {
    if (!notice) return null;
    const w = words();
    return h(
      'div',
      { class: `notice ${notice.tone}`, role: notice.tone === 'error' ? 'alert' : 'status' },
      notice.title ? h('strong', {}, notice.title(w)) : null,
      h('p', {}, notice.text(w)),
    );
  }

  function renderCart(): HTMLElement {
    const w = words();
    const lines = cartLines();
    const total = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
    const list = h('ul', { class: 'lines' });
    for (const { product, quantity } of lines) {
      list.append(
        h(
          'li',
          { 'data-line': product.id },
          h('span', { class: 'name' }, product.name[lang]),
          h(
            'span',
            { class: 'qty' },
            h('button', { type: 'button', 'data-dec': product.id, 'aria-label': w.decrease }, '−'),
            h('output', {}, String(quantity)),
            h('button', { type: 'button', 'data-inc': product.id, 'aria-label': w.increase }, '+'),
          ),
          h('span', { class: 'amount' }, formatVnd(product.price * quantity, lang)),
        ),
      );
    }
    return h(
      'section',
      { 'aria-labelledby': 'cart-title' },
      h('h2', { id: 'cart-title' }, w.cart),
      lines.length ? list : h('p', { class: 'muted' }, w.emptyCart),
      h('p', { class: 'total' }, h('span', {}, w.total), h('strong', {}, formatVnd(total, lang))),
      renderNotice(),
      h(
        'button',
        { type: 'button', id: 'place-order', class: 'primary', disabled: !lines.length || busy },
        busy ? w.placingOrder : w.placeOrder,
      ),
    );
  }

  /** Points the button at what the checkout's choices say (read when the shopper clicks it). */
  function configureButton(pay: HTMLElementTagNameMap['galaxy-pay-button']): void {
    const w = words();
    pay.setAttribute('signer', options.manual && manualSignerUrl ? manualSignerUrl : signerUrl);
    pay.setAttribute('mode', mode);
    pay.setAttribute('lang', lang);
    if (options.method) pay.setAttribute('payment-method', options.method);
    else pay.removeAttribute('payment-method');
    const handle = options.savedCards ? customer?.handle : undefined;
    if (handle) pay.setAttribute('customer-handle', handle);
    else pay.removeAttribute('customer-handle');
    // Waiting for the customer handle: a click now would pay without the saved cards asked for.
    pay.toggleAttribute('disabled', options.savedCards && !handle);
    // The widget's own words, except where the demo must say how to "scan" (a public property).
    pay.strings = { qrHint: w.qrHintDemo };
    pay.textContent = w.payWith;
  }

  function payButton(order: Order): HTMLElementTagNameMap['galaxy-pay-button'] {
    if (!button || button.orderRef !== order.orderRef) {
      button = document.createElement('galaxy-pay-button');
      button.id = 'pay';
      // Attributes before the element connects: a returning redirect is claimed on connect.
      button.setAttribute('order-ref', order.orderRef);
      for (const name of EVENTS) button.addEventListener(name, onWidgetEvent);
    }
    configureButton(button);
    return button;
  }

  function renderOptions(): HTMLElement {
    const w = words();
    const radio = (value: PayOptions['method'], label: string) =>
      h(
        'label',
        { class: 'option' },
        h('input', {
          type: 'radio',
          name: 'method',
          value,
          id: value ? `method-${value.toLowerCase()}` : 'method-hosted',
          checked: options.method === value,
        }),
        h('span', {}, label),
      );
    const check = (id: string, on: boolean, label: string, hint: string) =>
      h(
        'label',
        { class: 'option' },
        h('input', { type: 'checkbox', id, checked: on }),
        h('span', {}, label, h('small', { class: 'fine' }, hint)),
      );
    return h(
      'fieldset',
      { class: 'options', id: 'pay-options' },
      h('legend', {}, w.options),
      radio('', w.methodHosted),
      radio('QRPAY', w.methodQr),
      options.method === 'QRPAY'
        ? h(
            'p',
            { class: 'fine', id: 'qr-demo-hint' },
            `${w.qrDemoHint} `,
            h('a', { href: '/bank', target: '_blank', rel: 'noopener' }, `${w.bankLink} ↗`),
          )
        : null,
      check('opt-saved', options.savedCards, w.useSavedCards, w.savedCardsHint),
      manualSignerUrl
        ? check('opt-manual', options.manual, w.authorizeOnly, w.authorizeOnlyHint)
        : null,
    );
  }

  function renderSavedCards(order: Order): HTMLElement | null {
    if (!options.savedCards || !customer) return null;
    const w = words();
    const rows = customer.cards.map(card =>
      h(
        'li',
        { 'data-card': card.tokenId },
        h('span', { class: 'name' }, `${card.brand ?? card.paymentMethod} ${card.maskedNumber}`),
        card.paymentMethod === 'INTERNATIONAL'
          ? h(
              'button',
              {
                type: 'button',
                class: 'small',
                'data-fast-pay': card.tokenId,
                'data-order': order.orderRef,
                disabled: busy,
              },
              busy ? w.fastPaying : w.fastPay,
            )
          : null,
        h(
          'button',
          { type: 'button', class: 'small secondary', 'data-forget': card.tokenId, disabled: busy },
          w.forgetCard,
        ),
      ),
    );
    return h(
      'section',
      { class: 'saved', id: 'saved-cards', 'aria-labelledby': 'saved-title' },
      h('h3', { id: 'saved-title' }, w.savedCards),
      rows.length
        ? h('ul', { class: 'lines' }, ...rows)
        : h('p', { class: 'fine' }, w.noSavedCards),
      rows.length ? h('p', { class: 'fine' }, w.fastPayHint) : null,
    );
  }

  function renderCheckout(order: Order): HTMLElement {
    const w = words();
    const select = h('select', { id: 'mode', name: 'mode' });
    for (const [value, label] of [
      ['auto', w.modeAuto],
      ['modal', w.modeModal],
      ['popup', w.modePopup],
      ['redirect', w.modeRedirect],
    ] as const) {
      select.append(h('option', { value, selected: value === mode }, label));
    }
    return h(
      'section',
      { 'aria-labelledby': 'checkout-title' },
      h('h2', { id: 'checkout-title' }, w.checkout),
      h('p', { class: 'muted' }, `${w.order} `, h('code', { id: 'order-ref' }, order.orderRef)),
      h(
        'ul',
        { class: 'lines' },
        ...order.lines.map(line =>
          h(
            'li',
            {},
            h('span', { class: 'name' }, `${line.quantity} × ${line.name[lang]}`),
            h('span', { class: 'amount' }, formatVnd(line.lineTotal, lang)),
          ),
        ),
      ),
      h(
        'p',
        { class: 'total' },
        h('span', {}, w.total),
        h('strong', { id: 'order-total' }, formatVnd(order.amount, lang)),
      ),
      h('p', { class: 'fine' }, w.pricedByServer),
      h('label', { class: 'mode' }, h('span', {}, w.mode), select),
      renderOptions(),
      renderSavedCards(order),
      renderNotice(),
    );
  }

  function renderReceipt(receipt: Receipt): HTMLElement {
    const w = words();
    const authorized = receipt.status === 'authorized';
    const row = (label: string, value: string, id?: string) =>
      h('div', {}, h('dt', {}, label), h('dd', { id }, value));
    return h(
      'section',
      {
        class: 'receipt',
        id: 'receipt',
        'data-status': receipt.status,
        'aria-labelledby': 'receipt-title',
      },
      h('div', { class: 'tick', 'aria-hidden': 'true' }, '✓'),
      h('h2', { id: 'receipt-title' }, authorized ? w.authorized : w.paid),
      h('p', {}, authorized ? w.authorizedThanks : w.thanks),
      h(
        'dl',
        {},
        row(w.order, receipt.order.orderRef, 'receipt-order'),
        row(w.transaction, receipt.transactionId ?? '—', 'receipt-transaction'),
        row(w.amount, formatVnd(receipt.amount, lang), 'receipt-amount'),
        row(w.paidAt, new Date(receipt.at).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB')),
      ),
      h(
        'ul',
        { class: 'lines' },
        ...receipt.order.lines.map(line =>
          h('li', {}, h('span', { class: 'name' }, `${line.quantity} × ${line.name[lang]}`)),
        ),
      ),
      authorized
        ? h(
            'p',
            {},
            h(
              'a',
              { href: `/backoffice#${receipt.order.orderRef}`, id: 'to-backoffice' },
              w.captureInBackoffice,
            ),
          )
        : null,
      h('button', { type: 'button', id: 'continue', class: 'primary' }, w.continueShopping),
    );
  }

  function render(): void {
    translateStatic();
    renderProducts();
    renderCartBar();
    const panel =
      view.kind === 'cart'
        ? renderCart()
        : view.kind === 'checkout'
          ? renderCheckout(view.order)
          : renderReceipt(view.receipt);
    sideMain.replaceChildren(panel);
    if (view.kind === 'checkout') {
      const pay = payButton(view.order);
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
    view = next;
    notice = nextNotice;
    if (next.kind === 'checkout') {
      for (const timer of justAdded.values()) clearTimeout(timer);
      justAdded.clear();
      sessionStorage.setItem(ORDER_KEY, JSON.stringify(next.order));
      if (options.savedCards) void loadCustomer();
    } else {
      sessionStorage.removeItem(ORDER_KEY);
      button = null;
    }
    render();
  }

  /** The order is paid (or authorized): the cart is emptied and the receipt shown. */
  function showReceipt(
    order: Order,
    payment: Pick<Receipt, 'status' | 'transactionId' | 'amount'>,
  ): void {
    cart = {};
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
      customer = await api<Customer>('/api/customer', {});
    } catch {
      customer = null;
      notice = { tone: 'error', text: w => w.errorSigner };
    }
    if (view.kind === 'checkout') renderKeepingFocus();
  }

  async function placeOrder(): Promise<void> {
    busy = true;
    notice = null;
    render();
    try {
      const order = await api<Order>('/api/orders', {
        items: cartLines().map(({ product, quantity }) => ({ id: product.id, quantity })),
      });
      busy = false;
      show({ kind: 'checkout', order });
    } catch {
      busy = false;
      show({ kind: 'cart' }, { tone: 'error', text: w => w.orderFailed });
    }
  }

  /** FAST_PAY: the shop's back end charges the saved card; no page, no OTP, no widget events. */
  async function fastPay(order: Order, tokenId: string): Promise<void> {
    busy = true;
    notice = null;
    renderKeepingFocus();
    try {
      const payment = await api<{ status: string; transactionId: string | null; amount: number }>(
        `/api/orders/${encodeURIComponent(order.orderRef)}/fast-pay`,
        { tokenId },
      );
      busy = false;
      if (payment.status === 'paid' || payment.status === 'authorized') {
        showReceipt(order, { ...payment, status: payment.status });
        return;
      }
      notice = { tone: 'error', title: w => w.failed, text: w => w.fastPayFailed };
    } catch {
      busy = false;
      notice = { tone: 'error', title: w => w.failed, text: w => w.fastPayFailed };
    }
    render();
  }

  async function forgetCard(tokenId: string): Promise<void> {
    busy = true;
    render();
    try {
      await api(`/api/customer/cards/${encodeURIComponent(tokenId)}/delete`, {});
    } catch {
      notice = { tone: 'error', text: w => w.errorOther };
    }
    busy = false;
    await loadCustomer();
  }

  function logEvent(event: Event): void {
    const detail = (event as CustomEvent).detail as unknown;
    const time = new Date().toLocaleTimeString(lang === 'vi' ? 'vi-VN' : 'en-GB');
    log.prepend(
      h(
        'li',
        {},
        h('time', {}, time),
        h('code', {}, event.type),
        h('pre', {}, JSON.stringify(detail)),
      ),
    );
  }

  function onWidgetEvent(event: Event): void {
    logEvent(event);
    if (view.kind !== 'checkout') return;
    const order = view.order;
    switch (event.type) {
      case 'galaxy-pay-open':
        notice = { tone: 'info', text: w => w.opening };
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
        notice = {
          tone: 'error',
          title: w => w.failed,
          text: w => [reason(w), w.failedHint].filter(Boolean).join(' '),
        };
        break;
      }
      case 'galaxy-pay-cancel': {
        const { reason } = (event as HTMLElementEventMap['galaxy-pay-cancel']).detail;
        notice = { tone: 'warn', text: w => (reason === 'timeout' ? w.expired : w.cancelled) };
        break;
      }
      case 'galaxy-pay-error': {
        const { code } = (event as HTMLElementEventMap['galaxy-pay-error']).detail;
        notice = { tone: code === 'POPUP_BLOCKED' ? 'warn' : 'error', text: errorWords(code) };
        // The handle lives 15 minutes: a visitor who waited longer gets a fresh one.
        if (code === 'CUSTOMER_HANDLE' && options.savedCards) void loadCustomer();
        break;
      }
      default:
        return;
    }
    render();
  }

  function added(id: string): void {
    // Feedback where the finger is (the button) and where the cart is out of sight (the bar).
    clearTimeout(justAdded.get(id));
    justAdded.set(
      id,
      window.setTimeout(() => {
        justAdded.delete(id);
        renderProducts();
      }, ADDED_MS),
    );
    const product = products.find(p => p.id === id);
    const count = Object.values(cart).reduce((sum, quantity) => sum + quantity, 0);
    lastAdded = product ? words().addedTo(product.name[lang], count) : '';
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
      cart[id] = Math.min(20, (cart[id] ?? 0) + 1);
      saveCart();
      notice = null;
      if (add) added(id);
      render();
      if (add) document.querySelector<HTMLElement>(`[data-add="${id}"]`)?.focus();
    } else if (dec) {
      cart[dec] = (cart[dec] ?? 0) - 1;
      if (cart[dec]! <= 0) delete cart[dec];
      saveCart();
      render();
    } else if (token && view.kind === 'checkout') {
      void fastPay(view.order, token);
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
      mode = target.value;
      sessionStorage.setItem(MODE_KEY, mode);
      button?.setAttribute('mode', mode);
      return;
    }
    if (target.name === 'method') options.method = target.value === 'QRPAY' ? 'QRPAY' : '';
    else if (target.id === 'opt-saved') options.savedCards = (target as HTMLInputElement).checked;
    else if (target.id === 'opt-manual') options.manual = (target as HTMLInputElement).checked;
    else return;
    saveOptions();
    if (target.id === 'opt-saved' && options.savedCards) void loadCustomer();
    renderKeepingFocus();
  });

  const res = await fetch('/api/products');
  products = ((await res.json()) as { products: Product[] }).products;
  if (view.kind === 'checkout' && options.savedCards) await loadCustomer();
  render();
  document.body.dataset.ready = 'true';
}

/** The shop's words for a failed payment's result code (Galaxy Pay's table); '' when it has none. */
function failureWords(code: string | null): (w: Words) => string {
  switch (code) {
    case '505':
      return w => w.declined;
    case '408':
      return w => w.failedExpired;
    default:
      return () => '';
  }
}

function errorWords(code: string): (w: Words) => string {
  switch (code) {
    case 'SIGNER_UNREACHABLE':
      return w => w.errorUnreachable;
    case 'SIGNER_ERROR':
      return w => w.errorSigner;
    case 'ORDER_PAID':
      return w => w.errorOrderPaid;
    case 'POPUP_BLOCKED':
      return w => w.errorPopupBlocked;
    case 'FRAME_TIMEOUT':
    case 'FRAME_BLOCKED':
      return w => w.errorFrame;
    case 'NEEDS_REVIEW':
      return w => w.errorReview;
    case 'CUSTOMER_HANDLE':
      return w => w.errorHandle;
    default:
      return w => w.errorOther;
  }
}
