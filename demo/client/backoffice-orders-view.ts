/** The back office's orders: the list (one row per order), and an order's payments, actions and audit trail. */

import { h } from './dom.js';
import { formatVnd } from './i18n.js';
import { table, type Look } from './backoffice-look.js';
import type { OrderDetail, Payment } from './backoffice-types.js';

/** A note above the action forms: what the last operation did. */
export type Message = { tone: 'info' | 'error'; text: string } | null;

/** One row per order: its newest payment. */
export function renderOrders(payments: Payment[], selected: string, look: Look): HTMLElement {
  const { lang, time, badge } = look;
  const w = () => look.words;
  const latest = new Map<string, Payment>();
  for (const payment of payments)
    if (!latest.has(payment.orderRef)) latest.set(payment.orderRef, payment);
  if (!latest.size) return h('p', { class: 'muted' }, w().noOrders);
  return h(
    'table',
    { class: 'bo-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, w().order),
        h('th', {}, w().amount),
        h('th', {}, w().status),
        h('th', {}, w().updated),
      ),
    ),
    h(
      'tbody',
      {},
      ...[...latest.values()].map(payment =>
        h(
          'tr',
          {
            'data-order': payment.orderRef,
            'aria-selected': String(payment.orderRef === selected),
          },
          h(
            'td',
            {},
            h(
              'a',
              { href: `#${payment.orderRef}`, 'data-select': payment.orderRef },
              payment.orderRef,
            ),
          ),
          h('td', { class: 'num' }, formatVnd(payment.amount, lang)),
          h('td', {}, badge(payment.status)),
          h('td', {}, time(payment.updatedAt)),
        ),
      ),
    ),
  );
}

/** The payment operations act on: the paid or authorized one, else the newest (as the signer does). */
function target(order: OrderDetail): Payment | undefined {
  return (
    order.payments.find(p => p.status === 'paid' || p.status === 'authorized') ?? order.payments[0]
  );
}

function renderActions(
  order: OrderDetail,
  look: Look,
  busy: boolean,
  message: Message,
): HTMLElement {
  const words = look.words;
  const payment = target(order);
  const forms: HTMLElement[] = [];
  if (payment?.status === 'authorized') {
    forms.push(
      h(
        'form',
        { class: 'bo-form', 'data-op': 'capture' },
        h(
          'label',
          {},
          words.amount,
          h('input', {
            name: 'amount',
            id: 'capture-amount',
            inputmode: 'numeric',
            value: String(payment.amount),
          }),
        ),
        h(
          'button',
          { type: 'submit', id: 'capture', class: 'primary', disabled: busy },
          words.captureButton,
        ),
      ),
      h(
        'form',
        { class: 'bo-form', 'data-op': 'void' },
        h(
          'button',
          { type: 'submit', id: 'void', class: 'secondary', disabled: busy },
          words.voidButton,
        ),
      ),
    );
  }
  if (payment?.status === 'paid' && (payment.refundable ?? 0) > 0) {
    forms.push(
      h(
        'form',
        { class: 'bo-form', 'data-op': 'refund' },
        h(
          'label',
          {},
          words.amount,
          h('input', {
            name: 'amount',
            id: 'refund-amount',
            inputmode: 'numeric',
            value: String(payment.refundable),
          }),
        ),
        h(
          'label',
          {},
          words.reason,
          h('input', { name: 'reason', id: 'refund-reason', value: words.reasonDefault }),
        ),
        h(
          'button',
          { type: 'submit', id: 'refund', class: 'primary', disabled: busy },
          words.refund,
        ),
      ),
    );
  }
  if (payment?.transactionId) {
    forms.push(
      h(
        'form',
        { class: 'bo-form', 'data-op': 'query' },
        h(
          'button',
          { type: 'submit', id: 'query', class: 'secondary', disabled: busy },
          words.queryButton,
        ),
      ),
    );
  }
  return h(
    'section',
    { class: 'bo-actions', 'aria-labelledby': 'actions-title' },
    h('h3', { id: 'actions-title' }, words.actions),
    message
      ? h(
          'p',
          {
            class: `notice ${message.tone}`,
            id: 'bo-message',
            role: message.tone === 'error' ? 'alert' : 'status',
          },
          message.text,
        )
      : null,
    ...(forms.length ? forms : [h('p', { class: 'muted' }, words.noActions)]),
  );
}

/** An order's payments, the actions on it and its audit trail (or a hint to pick one). */
export function renderDetail(
  detail: OrderDetail | null,
  look: Look,
  busy: boolean,
  message: Message,
): Array<Node | string> {
  const { lang, time, badge } = look;
  const words = look.words;
  if (!detail) return [h('p', { class: 'muted' }, words.pick)];
  const { order, shop } = detail;
  return [
    h(
      'h2',
      { id: 'detail-title' },
      `${words.order} `,
      h('code', { id: 'detail-ref' }, order.orderRef),
    ),
    h('p', {}, order.description),
    h(
      'p',
      { class: 'muted' },
      `${words.amount}: ${formatVnd(order.amount, lang)} · ${words.created}: ${time(order.createdAt)}`,
    ),
    shop
      ? h(
          'p',
          { id: 'shop-record' },
          `${words.shopRecord}: `,
          badge(shop.status),
          shop.refunded ? ` (${words.refunded} ${formatVnd(shop.refunded, lang)})` : '',
        )
      : '',
    h('h3', {}, words.payments),
    table(
      [
        words.session,
        words.status,
        words.captured,
        words.refunded,
        words.refundable,
        words.transaction,
        words.updated,
      ],
      detail.payments.map(payment =>
        h(
          'tr',
          { 'data-session': payment.sessionId },
          h(
            'td',
            {},
            h('code', {}, payment.sessionId.slice(0, 8)),
            payment.plan?.capture === 'manual'
              ? h('small', { class: 'fine' }, ` ${words.capture}`)
              : '',
          ),
          h('td', { class: 'payment-status' }, badge(payment.status)),
          h('td', { class: 'num' }, formatVnd(payment.captured ?? 0, lang)),
          h('td', { class: 'num' }, formatVnd(payment.refunded ?? 0, lang)),
          h('td', { class: 'num' }, formatVnd(payment.refundable ?? 0, lang)),
          h('td', {}, payment.transactionId ?? '—'),
          h('td', {}, time(payment.updatedAt)),
        ),
      ),
    ),
    renderActions(detail, look, busy, message),
    h('h3', { id: 'audit-title' }, words.audit),
    detail.operations.length
      ? table(
          [
            words.time,
            words.kind,
            words.state,
            words.amount,
            words.operator,
            words.gateway,
            words.key,
          ],
          detail.operations.map(op =>
            h(
              'tr',
              { 'data-operation': op.kind, 'data-state': op.state },
              h('td', {}, time(op.createdAt)),
              h('td', {}, words.kinds[op.kind] ?? op.kind),
              h('td', {}, badge(op.state)),
              h('td', { class: 'num' }, op.amount === null ? '—' : formatVnd(op.amount, lang)),
              h('td', {}, op.operator),
              h('td', {}, [op.responseCode, op.responseMessage].filter(Boolean).join(' ') || '—'),
              h('td', {}, h('code', {}, op.idempotencyKey ?? '—')),
            ),
          ),
        )
      : h('p', { class: 'muted' }, words.noAudit),
  ];
}
