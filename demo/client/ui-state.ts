/** The shop page's state at start, and what it keeps across reloads: the cart, the checkout's choices, the order. */

import { readJson } from './dom.js';
import { initialLang } from './i18n.js';
import type { Order, PayOptions, ShopState } from './ui-types.js';

const CART_KEY = 'gp-demo-cart';
const ORDER_KEY = 'gp-demo-order';
const MODE_KEY = 'gp-demo-mode';
const OPTIONS_KEY = 'gp-demo-options';

/** The state the page starts in: the signers its meta tags name, and what an earlier visit kept. */
export function loadState(): ShopState {
  const meta = (name: string) =>
    document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
  const pending = readJson<Order>(sessionStorage, ORDER_KEY);
  return {
    signerUrl: meta('galaxy-pay-signer'),
    manualSignerUrl: meta('galaxy-pay-signer-manual'),
    lang: initialLang(),
    products: [],
    cart: readJson(localStorage, CART_KEY) ?? {},
    mode: sessionStorage.getItem(MODE_KEY) ?? 'auto',
    options: {
      method: '',
      savedCards: false,
      manual: false,
      ...readJson<PayOptions>(sessionStorage, OPTIONS_KEY),
    },
    customer: null,
    notice: null,
    busy: false,
    justAdded: new Map<string, number>(),
    lastAdded: '',
    // Back from a full-page redirect: show the checkout again so the button can report the result.
    view:
      pending && new URLSearchParams(location.search).has('galaxy_pay_session')
        ? { kind: 'checkout', order: pending }
        : { kind: 'cart' },
  };
}

export function storeCart(cart: Record<string, number>): void {
  localStorage.setItem(CART_KEY, JSON.stringify(cart));
}

/** The checkout's choices are kept for the tab, so a full-page redirect comes back to the same signer. */
export function storeOptions(options: PayOptions): void {
  sessionStorage.setItem(OPTIONS_KEY, JSON.stringify(options));
}

export function storeMode(mode: string): void {
  sessionStorage.setItem(MODE_KEY, mode);
}

/** The order at checkout (so a full-page redirect finds it again), or none. */
export function storeOrder(order: Order | null): void {
  if (order) sessionStorage.setItem(ORDER_KEY, JSON.stringify(order));
  else sessionStorage.removeItem(ORDER_KEY);
}
