/** The shopping views: the product list, the cart bar of small screens, and the cart panel. */

import { h } from './dom.js';
import { WORDS, formatVnd } from './i18n.js';
import { renderNotice } from './ui-notices.js';
import type { Product, ShopState } from './ui-types.js';

/** The product cards, their "add" buttons saying "Added" for a moment after a click. */
export function renderProducts(s: ShopState): HTMLElement[] {
  const w = WORDS[s.lang];
  return s.products.map(product => {
    const added = s.justAdded.has(product.id);
    return h(
      'article',
      { class: 'product', 'data-product': product.id },
      h('img', { src: product.image, alt: '', width: '160', height: '120' }),
      h('h3', {}, product.name[s.lang]),
      h('p', { class: 'blurb' }, product.blurb[s.lang]),
      h(
        'div',
        { class: 'buy' },
        h('span', { class: 'price' }, formatVnd(product.price, s.lang)),
        h(
          'button',
          {
            type: 'button',
            class: added ? 'add added' : 'add',
            'data-add': product.id,
            'data-added': added,
            disabled: s.view.kind !== 'cart',
          },
          added ? `✓ ${w.added}` : w.add,
        ),
      ),
    );
  });
}

export function cartLines(s: ShopState): Array<{ product: Product; quantity: number }> {
  return Object.entries(s.cart)
    .map(([id, quantity]) => ({ product: s.products.find(p => p.id === id)!, quantity }))
    .filter(line => line.product && line.quantity > 0);
}

/** The bar small screens show while shopping: what is in the cart, and a way to it. */
export function renderCartBar(s: ShopState, cartBar: HTMLElement): void {
  const lines = cartLines(s);
  const count = lines.reduce((sum, line) => sum + line.quantity, 0);
  cartBar.hidden = s.view.kind !== 'cart' || count === 0;
  if (cartBar.hidden) return cartBar.replaceChildren();
  const w = WORDS[s.lang];
  const total = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
  cartBar.dataset.count = String(count);
  cartBar.replaceChildren(
    h('span', { class: 'visually-hidden' }, s.lastAdded),
    h('span', { class: 'cart-bar-text' }, w.cartBar(count, formatVnd(total, s.lang))),
    h('a', { href: '#side', class: 'cart-bar-link' }, w.viewCart),
  );
}

export function renderCart(s: ShopState): HTMLElement {
  const w = WORDS[s.lang];
  const lines = cartLines(s);
  const total = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
  const list = h('ul', { class: 'lines' });
  for (const { product, quantity } of lines) {
    list.append(
      h(
        'li',
        { 'data-line': product.id },
        h('span', { class: 'name' }, product.name[s.lang]),
        h(
          'span',
          { class: 'qty' },
          h('button', { type: 'button', 'data-dec': product.id, 'aria-label': w.decrease }, '−'),
          h('output', {}, String(quantity)),
          h('button', { type: 'button', 'data-inc': product.id, 'aria-label': w.increase }, '+'),
        ),
        h('span', { class: 'amount' }, formatVnd(product.price * quantity, s.lang)),
      ),
    );
  }
  return h(
    'section',
    { 'aria-labelledby': 'cart-title' },
    h('h2', { id: 'cart-title' }, w.cart),
    lines.length ? list : h('p', { class: 'muted' }, w.emptyCart),
    h('p', { class: 'total' }, h('span', {}, w.total), h('strong', {}, formatVnd(total, s.lang))),
    renderNotice(s),
    h(
      'button',
      { type: 'button', id: 'place-order', class: 'primary', disabled: !lines.length || s.busy },
      s.busy ? w.placingOrder : w.placeOrder,
    ),
  );
}
