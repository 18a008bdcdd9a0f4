/** The receipt panel shown once an order is paid (or authorized). */

import { h } from './dom.js';
import { WORDS, formatVnd } from './i18n.js';
import type { Receipt, ShopState } from './ui-types.js';

export function renderReceipt(s: ShopState, receipt: Receipt): HTMLElement {
  const w = WORDS[s.lang];
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
      row(w.amount, formatVnd(receipt.amount, s.lang), 'receipt-amount'),
      row(w.paidAt, new Date(receipt.at).toLocaleString(s.lang === 'vi' ? 'vi-VN' : 'en-GB')),
    ),
    h(
      'ul',
      { class: 'lines' },
      ...receipt.order.lines.map(line =>
        h('li', {}, h('span', { class: 'name' }, `${line.quantity} × ${line.name[s.lang]}`)),
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
