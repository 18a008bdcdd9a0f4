/** The checkout panel: the order, how the payment page opens, the payment options and the saved cards. */

import { h } from './dom.js';
import { WORDS, formatVnd } from './i18n.js';
import { renderNotice } from './ui-notices.js';
import type { Order, PayOptions, ShopState } from './ui-types.js';

function renderOptions(s: ShopState): HTMLElement {
  const w = WORDS[s.lang];
  const radio = (value: PayOptions['method'], label: string) =>
    h(
      'label',
      { class: 'option' },
      h('input', {
        type: 'radio',
        name: 'method',
        value,
        id: value ? `method-${value.toLowerCase()}` : 'method-hosted',
        checked: s.options.method === value,
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
    s.options.method === 'QRPAY'
      ? h(
          'p',
          { class: 'fine', id: 'qr-demo-hint' },
          `${w.qrDemoHint} `,
          h('a', { href: '/bank', target: '_blank', rel: 'noopener' }, `${w.bankLink} ↗`),
        )
      : null,
    check('opt-saved', s.options.savedCards, w.useSavedCards, w.savedCardsHint),
    s.manualSignerUrl
      ? check('opt-manual', s.options.manual, w.authorizeOnly, w.authorizeOnlyHint)
      : null,
  );
}

function renderSavedCards(s: ShopState, order: Order): HTMLElement | null {
  if (!s.options.savedCards || !s.customer) return null;
  const w = WORDS[s.lang];
  const rows = s.customer.cards.map(card =>
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
              disabled: s.busy,
            },
            s.busy ? w.fastPaying : w.fastPay,
          )
        : null,
      h(
        'button',
        { type: 'button', class: 'small secondary', 'data-forget': card.tokenId, disabled: s.busy },
        w.forgetCard,
      ),
    ),
  );
  return h(
    'section',
    { class: 'saved', id: 'saved-cards', 'aria-labelledby': 'saved-title' },
    h('h3', { id: 'saved-title' }, w.savedCards),
    rows.length ? h('ul', { class: 'lines' }, ...rows) : h('p', { class: 'fine' }, w.noSavedCards),
    rows.length ? h('p', { class: 'fine' }, w.fastPayHint) : null,
  );
}

export function renderCheckout(s: ShopState, order: Order): HTMLElement {
  const w = WORDS[s.lang];
  const select = h('select', { id: 'mode', name: 'mode' });
  for (const [value, label] of [
    ['auto', w.modeAuto],
    ['modal', w.modeModal],
    ['popup', w.modePopup],
    ['redirect', w.modeRedirect],
  ] as const) {
    select.append(h('option', { value, selected: value === s.mode }, label));
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
          h('span', { class: 'name' }, `${line.quantity} × ${line.name[s.lang]}`),
          h('span', { class: 'amount' }, formatVnd(line.lineTotal, s.lang)),
        ),
      ),
    ),
    h(
      'p',
      { class: 'total' },
      h('span', {}, w.total),
      h('strong', { id: 'order-total' }, formatVnd(order.amount, s.lang)),
    ),
    h('p', { class: 'fine' }, w.pricedByServer),
    h('label', { class: 'mode' }, h('span', {}, w.mode), select),
    renderOptions(s),
    renderSavedCards(s, order),
    renderNotice(s),
  );
}
