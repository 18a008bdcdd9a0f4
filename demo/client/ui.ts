/**
 * The shop in the browser, shared by both pages: products, a cart, placing an order (the shop's back end
 * prices it and registers it with the signer), then `<galaxy-pay-button>` with the order reference only.
 * Everything is built with DOM calls and `textContent`: no HTML strings, nothing for the CSP to refuse.
 */

import type {} from '@galaxy-pay/widget';
import { WORDS, formatVnd, initialLang, type Lang, type Words } from './i18n.js';

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
  transactionId: string | null;
  amount: number;
  at: string;
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
const EVENTS = [
  'galaxy-pay-open',
  'galaxy-pay-result',
  'galaxy-pay-cancel',
  'galaxy-pay-error',
  'galaxy-pay-close',
] as const;

/** A small element builder: attributes, then children (strings become text nodes). */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

function readJson<T>(storage: Storage, key: string): T | null {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null') as T | null;
  } catch {
    return null;
  }
}

/** Starts the shop on the current page. The widget must be defined by the page (script tag or import). */
export async function startShop(): Promise<void> {
  const signerUrl =
    document.querySelector<HTMLMetaElement>('meta[name="galaxy-pay-signer"]')?.content ?? '';
  let lang: Lang = initialLang();
  let products: Product[] = [];
  let cart: Record<string, number> = readJson(localStorage, CART_KEY) ?? {};
  let mode = sessionStorage.getItem(MODE_KEY) ?? 'auto';
  let notice: Notice | null = null;
  let busy = false;
  const pending = readJson<Order>(sessionStorage, ORDER_KEY);
  // Back from a full-page redirect: show the checkout again so the button can report the result.
  let view: View =
    pending && new URLSearchParams(location.search).has('galaxy_pay_session')
      ? { kind: 'checkout', order: pending }
      : { kind: 'cart' };

  const productList = byId('products');
  const side = byId('side');
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

  function setLang(next: Lang): void {
    lang = next;
    localStorage.setItem('gp-demo-lang', next);
    render();
  }

  function translateStatic(): void {
    const w = words();
    document.documentElement.lang = lang;
    document.title = `${w.title} · Galaxy Pay demo`;
    for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
      const key = element.dataset.i18n as keyof Words;
      if (key in w) element.textContent = w[key];
    }
    for (const link of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
      link.setAttribute('aria-pressed', String(link.dataset.lang === lang));
    }
  }

  function renderProducts(): void {
    const w = words();
    productList.replaceChildren(
      ...products.map(product =>
        h(
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
                class: 'add',
                'data-add': product.id,
                disabled: view.kind !== 'cart',
              },
              w.add,
            ),
          ),
        ),
      ),
    );
  }

  function cartLines(): Array<{ product: Product; quantity: number }> {
    return Object.entries(cart)
      .map(([id, quantity]) => ({ product: products.find(p => p.id === id)!, quantity }))
      .filter(line => line.product && line.quantity > 0);
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

  function payButton(order: Order): HTMLElementTagNameMap['galaxy-pay-button'] {
    if (!button || button.orderRef !== order.orderRef) {
      button = document.createElement('galaxy-pay-button');
      button.id = 'pay';
      // Attributes before the element connects: a returning redirect is claimed on connect.
      button.setAttribute('signer', signerUrl);
      button.setAttribute('order-ref', order.orderRef);
      for (const name of EVENTS) button.addEventListener(name, onWidgetEvent);
    }
    button.setAttribute('mode', mode);
    button.setAttribute('lang', lang);
    button.textContent = words().payWith;
    return button;
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
      renderNotice(),
    );
  }

  function renderReceipt(receipt: Receipt): HTMLElement {
    const w = words();
    const row = (label: string, value: string, id?: string) =>
      h('div', {}, h('dt', {}, label), h('dd', { id }, value));
    return h(
      'section',
      { class: 'receipt', id: 'receipt', 'aria-labelledby': 'receipt-title' },
      h('div', { class: 'tick', 'aria-hidden': 'true' }, '✓'),
      h('h2', { id: 'receipt-title' }, w.paid),
      h('p', {}, w.thanks),
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
      h('button', { type: 'button', id: 'continue', class: 'primary' }, w.continueShopping),
    );
  }

  function render(): void {
    translateStatic();
    renderProducts();
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

  function show(next: View, nextNotice: Notice | null = null): void {
    view = next;
    notice = nextNotice;
    if (next.kind === 'checkout') sessionStorage.setItem(ORDER_KEY, JSON.stringify(next.order));
    else {
      sessionStorage.removeItem(ORDER_KEY);
      button = null;
    }
    render();
  }

  async function placeOrder(): Promise<void> {
    busy = true;
    notice = null;
    render();
    try {
      const res = await fetch('/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          items: cartLines().map(({ product, quantity }) => ({ id: product.id, quantity })),
        }),
      });
      if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
      const order = (await res.json()) as Order;
      busy = false;
      show({ kind: 'checkout', order });
    } catch {
      busy = false;
      show({ kind: 'cart' }, { tone: 'error', text: w => w.orderFailed });
    }
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
          cart = {};
          saveCart();
          show({
            kind: 'receipt',
            receipt: {
              order,
              transactionId: detail.transactionId,
              amount: detail.amount,
              at: new Date().toISOString(),
            },
          });
          return;
        }
        const reason = detail.message ? `${detail.message}. ` : '';
        notice = { tone: 'error', title: w => w.failed, text: w => `${reason}${w.failedHint}` };
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
        break;
      }
      default:
        return;
    }
    render();
  }

  document.addEventListener('click', event => {
    const target = (event.target as Element).closest<HTMLElement>('button');
    if (!target) return;
    const { add, inc, dec, lang: langChoice } = target.dataset;
    if (langChoice === 'vi' || langChoice === 'en') return setLang(langChoice);
    if (add || inc) {
      const id = (add ?? inc)!;
      cart[id] = Math.min(20, (cart[id] ?? 0) + 1);
      saveCart();
      notice = null;
      render();
      if (add) document.querySelector<HTMLElement>(`[data-add="${id}"]`)?.focus();
    } else if (dec) {
      cart[dec] = (cart[dec] ?? 0) - 1;
      if (cart[dec]! <= 0) delete cart[dec];
      saveCart();
      render();
    } else if (target.id === 'place-order') {
      void placeOrder();
    } else if (target.id === 'edit-cart' || target.id === 'continue') {
      show({ kind: 'cart' });
    }
  });
  document.addEventListener('change', event => {
    const target = event.target as HTMLSelectElement;
    if (target.id !== 'mode') return;
    mode = target.value;
    sessionStorage.setItem(MODE_KEY, mode);
    button?.setAttribute('mode', mode);
  });

  const res = await fetch('/api/products');
  products = ((await res.json()) as { products: Product[] }).products;
  render();
  document.body.dataset.ready = 'true';
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
    default:
      return w => w.errorOther;
  }
}
