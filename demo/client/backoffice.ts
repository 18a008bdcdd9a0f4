/**
 * The shop's back office (`/backoffice`): orders and their payments, the audit trail, refund / capture /
 * void / query, and payment links. Every call goes to the shop's own back end (`/api/backoffice/*`), which
 * calls the signer's admin API with the admin token, server to server: this code never sees the token.
 * Each money form carries an Idempotency-Key minted when the form is shown, so a double click or a retry
 * after a timeout is one operation.
 */

import { ApiError, api, byId, h } from './dom.js';
import { formatVnd, initialLang, saveLang, translatePage, type Lang } from './i18n.js';

interface Payment {
  sessionId: string;
  status: string;
  orderRef: string;
  amount: number;
  transactionId: string | null;
  code: string | null;
  updatedAt: string;
  paidAt: string | null;
  plan?: { op: string | null; capture: string; customerRef: string | null } | null;
  captured?: number;
  refunded?: number;
  refundPending?: number;
  refundable?: number;
}

interface Operation {
  id: string;
  kind: string;
  state: string;
  amount: number | null;
  operator: string;
  idempotencyKey: string | null;
  responseCode: string | null;
  responseMessage: string | null;
  detail: string | null;
  createdAt: string;
}

interface OrderDetail {
  order: { orderRef: string; amount: number; description: string; createdAt: string };
  payments: Payment[];
  operations: Operation[];
  shop: { status: string; refunded: number } | null;
}

interface Link {
  orderNo: string;
  name: string;
  amount: number;
  shortLink: string | null;
  status: string;
  createdAt: string;
  paidAt: string | null;
}

const vi = {
  title: 'Cà Phê Ngân Hà',
  navShop: 'Cửa hàng',
  navSpa: 'Bản SPA',
  navBackoffice: 'Quản trị',
  boBanner:
    'Trang quản trị (bản demo, không đăng nhập; ở cửa hàng thật, trang này chỉ dành cho nhân viên). Máy chủ cửa hàng gọi API quản trị của signer bằng token; trình duyệt không bao giờ thấy token.',
  boOrders: 'Đơn hàng',
  boFilter: 'Trạng thái',
  boRefresh: 'Tải lại',
  boLinks: 'Link thanh toán',
  boFooter:
    'Mọi thao tác được ghi vào nhật ký kiểm toán của signer, kèm người thực hiện (demo-staff).',
  all: 'Tất cả',
  noOrders: 'Chưa có đơn nào có thanh toán. Đặt hàng ở trang Cửa hàng nhé.',
  order: 'Đơn hàng',
  amount: 'Số tiền',
  status: 'Trạng thái',
  updated: 'Cập nhật',
  pick: 'Chọn một đơn hàng để xem thanh toán và nhật ký.',
  created: 'Tạo lúc',
  shopRecord: 'Bản ghi của cửa hàng (qua webhook)',
  payments: 'Các lần thanh toán',
  session: 'Phiên',
  transaction: 'Mã giao dịch',
  captured: 'Đã thu',
  refunded: 'Đã hoàn',
  refundable: 'Còn hoàn được',
  capture: 'manual',
  actions: 'Thao tác',
  refund: 'Hoàn tiền',
  reason: 'Lý do',
  reasonDefault: 'Khách trả hàng',
  captureButton: 'Thu tiền',
  voidButton: 'Huỷ cấp phép',
  queryButton: 'Hỏi lại cổng thanh toán',
  noActions: 'Không có thao tác nào cho trạng thái này.',
  audit: 'Nhật ký kiểm toán',
  noAudit: 'Chưa có thao tác nào.',
  time: 'Thời gian',
  kind: 'Thao tác',
  state: 'Kết quả',
  operator: 'Người làm',
  gateway: 'Cổng trả lời',
  key: 'Idempotency-Key',
  done: 'Xong.',
  replayed: 'Yêu cầu này đã được thực hiện trước đó (cùng Idempotency-Key): không làm lại lần nữa.',
  failed: 'Không thực hiện được',
  unknown:
    'Cổng thanh toán chưa trả lời rõ: signer sẽ hỏi lại và ghi kết quả. Bấm lại nút sẽ gửi đúng yêu cầu cũ.',
  linkName: 'Tên',
  linkNameDefault: 'Đặt cọc tiệc cà phê',
  linkHours: 'Hết hạn sau (giờ)',
  createLink: 'Tạo link',
  noLinks: 'Chưa có link nào.',
  open: 'Mở',
  paidAt: 'Trả lúc',
  statuses: {
    pending: 'Chờ thanh toán',
    pending_unknown: 'Chưa rõ kết quả',
    authorized: 'Đã cấp phép (chờ thu)',
    paid: 'Đã thanh toán',
    failed: 'Thất bại',
    cancelled: 'Đã huỷ',
    expired: 'Hết hạn',
    needs_review: 'Cần kiểm tra',
    voided: 'Đã huỷ cấp phép',
    awaiting_payment: 'Chờ thanh toán',
    partially_refunded: 'Đã hoàn một phần',
    refunded: 'Đã hoàn tiền',
    open: 'Đang mở',
    succeeded: 'Thành công',
    unknown: 'Chưa rõ',
  } as Record<string, string>,
  kinds: {
    query: 'Hỏi cổng',
    refund: 'Hoàn tiền',
    void: 'Huỷ cấp phép',
    capture: 'Thu tiền',
    fast_pay: 'Thanh toán nhanh',
    token_delete: 'Xoá thẻ',
    link_create: 'Tạo link',
    reconcile: 'Đối soát',
  } as Record<string, string>,
};

type Words = typeof vi;

const en: Words = {
  title: 'Galaxy Coffee',
  navShop: 'Shop',
  navSpa: 'SPA version',
  navBackoffice: 'Back office',
  boBanner:
    'The back office (demo: no login; in a real shop only staff reach it). The shop’s server calls the signer’s admin API with the token; the browser never sees the token.',
  boOrders: 'Orders',
  boFilter: 'Status',
  boRefresh: 'Refresh',
  boLinks: 'Payment links',
  boFooter: 'Every operation is in the signer’s audit trail, with who did it (demo-staff).',
  all: 'All',
  noOrders: 'No order with a payment yet. Place one in the shop.',
  order: 'Order',
  amount: 'Amount',
  status: 'Status',
  updated: 'Updated',
  pick: 'Pick an order to see its payments and audit trail.',
  created: 'Created',
  shopRecord: 'The shop’s record (from the webhook)',
  payments: 'Payments',
  session: 'Session',
  transaction: 'Transaction',
  captured: 'Captured',
  refunded: 'Refunded',
  refundable: 'Refundable',
  capture: 'manual',
  actions: 'Actions',
  refund: 'Refund',
  reason: 'Reason',
  reasonDefault: 'Returned by the customer',
  captureButton: 'Capture',
  voidButton: 'Void',
  queryButton: 'Ask the gateway again',
  noActions: 'Nothing to do in this state.',
  audit: 'Audit trail',
  noAudit: 'No operation yet.',
  time: 'Time',
  kind: 'Operation',
  state: 'Outcome',
  operator: 'By',
  gateway: 'Gateway answer',
  key: 'Idempotency-Key',
  done: 'Done.',
  replayed: 'This request was already done (same Idempotency-Key): nothing was done twice.',
  failed: 'Not done',
  unknown:
    'The gateway gave no clear answer: the signer asks again and records the outcome. Pressing the button again re-sends the same request.',
  linkName: 'Name',
  linkNameDefault: 'Coffee party deposit',
  linkHours: 'Expires after (hours)',
  createLink: 'Create link',
  noLinks: 'No link yet.',
  open: 'Open',
  paidAt: 'Paid',
  statuses: {
    pending: 'Awaiting payment',
    pending_unknown: 'Outcome unknown',
    authorized: 'Authorized (to capture)',
    paid: 'Paid',
    failed: 'Failed',
    cancelled: 'Cancelled',
    expired: 'Expired',
    needs_review: 'Needs review',
    voided: 'Voided',
    awaiting_payment: 'Awaiting payment',
    partially_refunded: 'Partially refunded',
    refunded: 'Refunded',
    open: 'Open',
    succeeded: 'Succeeded',
    unknown: 'Unknown',
  },
  kinds: {
    query: 'Gateway query',
    refund: 'Refund',
    void: 'Void',
    capture: 'Capture',
    fast_pay: 'Fast pay',
    token_delete: 'Card removed',
    link_create: 'Link created',
    reconcile: 'Reconcile',
  },
};

const WORDS: Record<Lang, Words> = { vi, en };
/** Lists refresh on their own, so webhooks' and link payments' effects show up; forms are never redrawn. */
const POLL_MS = 3000;

/** A new Idempotency-Key (loopback pages are a secure context: `randomUUID` is there). */
function newKey(): string {
  return crypto.randomUUID();
}

function start(): void {
  let lang: Lang = initialLang();
  let payments: Payment[] = [];
  let links: Link[] = [];
  let filter = '';
  let selected = decodeURIComponent(location.hash.slice(1));
  let detail: OrderDetail | null = null;
  let message: { tone: 'info' | 'error'; text: string } | null = null;
  let busy = false;
  /** One key per form, kept until the operation has an outcome (a retry reuses it). */
  const keys = { refund: newKey(), capture: newKey(), void: newKey() };

  const ordersBox = byId('orders');
  const detailBox = byId('detail');
  const linksBox = byId('links');
  const linkTable = h('div', { id: 'link-table' });
  const filterSelect = byId<HTMLSelectElement>('status-filter');
  const w = () => WORDS[lang];
  const time = (iso: string | null) =>
    iso ? new Date(iso).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB') : '—';
  const statusWord = (status: string) => w().statuses[status] ?? status;
  const badge = (status: string) =>
    h('span', { class: `badge status-${status}`, 'data-status': status }, statusWord(status));

  function translate(): void {
    translatePage(lang, w());
    document.title = `${w().navBackoffice} · ${w().title}`;
    filterSelect.replaceChildren(
      ...['', 'paid', 'authorized', 'pending', 'failed', 'cancelled', 'voided', 'expired'].map(
        value =>
          h('option', { value, selected: value === filter }, value ? statusWord(value) : w().all),
      ),
    );
  }

  /** One row per order: its newest payment. */
  function renderOrders(): void {
    const latest = new Map<string, Payment>();
    for (const payment of payments)
      if (!latest.has(payment.orderRef)) latest.set(payment.orderRef, payment);
    if (!latest.size) {
      ordersBox.replaceChildren(h('p', { class: 'muted' }, w().noOrders));
      return;
    }
    ordersBox.replaceChildren(
      h(
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
      ),
    );
  }

  function table(headers: string[], rows: HTMLElement[]): HTMLElement {
    return h(
      'table',
      { class: 'bo-table' },
      h('thead', {}, h('tr', {}, ...headers.map(text => h('th', {}, text)))),
      h('tbody', {}, ...rows),
    );
  }

  /** The payment operations act on: the paid or authorized one, else the newest (as the signer does). */
  function target(order: OrderDetail): Payment | undefined {
    return (
      order.payments.find(p => p.status === 'paid' || p.status === 'authorized') ??
      order.payments[0]
    );
  }

  function renderActions(order: OrderDetail): HTMLElement {
    const words = w();
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

  function renderDetail(): void {
    const words = w();
    if (!detail) {
      detailBox.replaceChildren(h('p', { class: 'muted' }, words.pick));
      return;
    }
    const { order, shop } = detail;
    detailBox.replaceChildren(
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
      renderActions(detail),
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
    );
  }

  function renderLinkForm(): HTMLElement {
    const words = w();
    return h(
      'form',
      { class: 'bo-form', id: 'link-form' },
      h(
        'label',
        {},
        words.linkName,
        h('input', { name: 'name', id: 'link-name', value: words.linkNameDefault, required: true }),
      ),
      h(
        'label',
        {},
        words.amount,
        h('input', {
          name: 'amount',
          id: 'link-amount',
          inputmode: 'numeric',
          value: '150000',
          required: true,
        }),
      ),
      h(
        'label',
        {},
        words.linkHours,
        h('input', {
          name: 'hours',
          id: 'link-hours',
          inputmode: 'numeric',
          value: '24',
          required: true,
        }),
      ),
      h('button', { type: 'submit', id: 'create-link', class: 'primary' }, words.createLink),
    );
  }

  function renderLinks(): void {
    const words = w();
    linkTable.replaceChildren(
      links.length
        ? table(
            [words.linkName, words.amount, words.status, words.created, words.paidAt, ''],
            links.map(link =>
              h(
                'tr',
                { 'data-link': link.orderNo },
                h('td', {}, link.name),
                h('td', { class: 'num' }, formatVnd(link.amount, lang)),
                h('td', { class: 'link-status' }, badge(link.status)),
                h('td', {}, time(link.createdAt)),
                h('td', {}, time(link.paidAt)),
                h(
                  'td',
                  {},
                  link.shortLink
                    ? h(
                        'a',
                        {
                          href: link.shortLink,
                          target: '_blank',
                          rel: 'noopener',
                          class: 'open-link',
                        },
                        `${words.open} ↗`,
                      )
                    : '—',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, words.noLinks),
    );
  }

  function renderAll(): void {
    translate();
    renderOrders();
    renderDetail();
    linksBox.replaceChildren(renderLinkForm(), linkTable);
    renderLinks();
  }

  async function loadOrders(): Promise<void> {
    const answer = await api<{ payments: Payment[] }>(
      `/api/backoffice/orders${filter ? `?status=${filter}` : ''}`,
    );
    payments = answer.payments;
    renderOrders();
  }

  async function loadLinks(): Promise<void> {
    links = (await api<{ links: Link[] }>('/api/backoffice/links')).links;
    renderLinks();
  }

  async function loadDetail(): Promise<void> {
    detail = selected
      ? await api<OrderDetail>(`/api/backoffice/orders/${encodeURIComponent(selected)}`).catch(
          () => null,
        )
      : null;
    renderDetail();
  }

  async function select(orderRef: string): Promise<void> {
    if (orderRef !== selected) {
      selected = orderRef;
      message = null;
      keys.refund = newKey();
      keys.capture = newKey();
      keys.void = newKey();
    }
    renderOrders();
    await loadDetail();
  }

  async function operate(op: 'refund' | 'capture' | 'void' | 'query', form: HTMLFormElement) {
    if (!detail || busy) return;
    const data = new FormData(form);
    const body: Record<string, unknown> = {};
    if (op !== 'query') body.key = keys[op];
    if (data.has('amount')) body.amount = Number(String(data.get('amount')).replace(/[^\d]/g, ''));
    if (data.has('reason')) body.reason = String(data.get('reason'));
    busy = true;
    renderDetail();
    try {
      const answer = await api<{ operation?: Operation }>(
        `/api/backoffice/orders/${encodeURIComponent(detail.order.orderRef)}/${op}`,
        body,
      );
      const state = answer.operation?.state;
      message =
        state === 'unknown'
          ? { tone: 'info', text: w().unknown }
          : { tone: 'info', text: w().done };
      // An outcome: the next operation of this kind is a new one.
      if (op !== 'query' && state !== 'unknown') keys[op] = newKey();
    } catch (error) {
      const known = error instanceof ApiError ? error : null;
      message = {
        tone: 'error',
        text: `${w().failed}: ${known ? `${known.code} — ${known.message}` : String(error)}`,
      };
      // The gateway refused: a new try is a new operation. Anything else keeps the key (safe to retry).
      if (op !== 'query' && known?.code === 'gateway_refused') keys[op] = newKey();
    }
    busy = false;
    await Promise.all([loadDetail(), loadOrders()]);
  }

  async function createLink(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    try {
      await api('/api/backoffice/links', {
        name: String(data.get('name')),
        amount: Number(String(data.get('amount')).replace(/[^\d]/g, '')),
        expiryHours: Number(data.get('hours')),
        language: lang,
      });
    } catch (error) {
      form.append(
        h('p', { class: 'notice error', role: 'alert' }, String((error as Error).message)),
      );
    }
    if (button) button.disabled = false;
    await loadLinks();
  }

  document.addEventListener('click', event => {
    const target = event.target as Element;
    const langButton = target.closest<HTMLButtonElement>('[data-lang]');
    if (langButton) {
      lang = langButton.dataset.lang === 'en' ? 'en' : 'vi';
      saveLang(lang);
      renderAll();
      return;
    }
    const pick = target.closest<HTMLElement>('[data-select]');
    if (pick) {
      event.preventDefault();
      history.replaceState(null, '', `#${pick.dataset.select}`);
      void select(pick.dataset.select!);
      return;
    }
    if (target.closest('#refresh')) void Promise.all([loadOrders(), loadDetail(), loadLinks()]);
  });
  document.addEventListener('submit', event => {
    const form = event.target as HTMLFormElement;
    event.preventDefault();
    if (form.id === 'link-form') return void createLink(form);
    const op = form.dataset.op;
    if (op === 'refund' || op === 'capture' || op === 'void' || op === 'query')
      void operate(op, form);
  });
  filterSelect.addEventListener('change', () => {
    filter = filterSelect.value;
    void loadOrders();
  });
  addEventListener('hashchange', () => void select(decodeURIComponent(location.hash.slice(1))));

  renderAll();
  void Promise.all([loadOrders(), loadLinks(), loadDetail()]).then(() => {
    document.body.dataset.ready = 'true';
  });
  setInterval(() => {
    if (document.hidden || busy) return;
    void loadOrders().catch(() => undefined);
    void loadLinks().catch(() => undefined);
  }, POLL_MS);
}

start();
