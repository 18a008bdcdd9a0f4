/**
 * The shop's back office (`/backoffice`): orders and their payments, the audit trail, refund / capture /
 * void / query, and payment links. Every call goes to the shop's own back end (`/api/backoffice/*`), which
 * calls the signer's admin API with the admin token, server to server: this code never sees the token.
 * Each money form carries an Idempotency-Key minted when the form is shown, so a double click or a retry
 * after a timeout is one operation.
 */

import { ApiError, api, byId, h } from './dom.js';
import { initialLang, saveLang, translatePage, type Lang } from './i18n.js';
import { renderLinkForm, renderLinks } from './backoffice-links-view.js';
import { lookFor } from './backoffice-look.js';
import { renderDetail, renderOrders, type Message } from './backoffice-orders-view.js';
import type { Link, Operation, OrderDetail, Payment } from './backoffice-types.js';

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
  let message: Message = null;
  let busy = false;
  /** One key per form, kept until the operation has an outcome (a retry reuses it). */
  const keys = { refund: newKey(), capture: newKey(), void: newKey() };

  const ordersBox = byId('orders');
  const detailBox = byId('detail');
  const linksBox = byId('links');
  const linkTable = h('div', { id: 'link-table' });
  const filterSelect = byId<HTMLSelectElement>('status-filter');
  const w = () => lookFor(lang).words;
  const statusWord = (status: string) => lookFor(lang).statusWord(status);

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

  function showOrders(): void {
    ordersBox.replaceChildren(renderOrders(payments, selected, lookFor(lang)));
  }

  function showDetail(): void {
    detailBox.replaceChildren(...renderDetail(detail, lookFor(lang), busy, message));
  }

  function showLinks(): void {
    linkTable.replaceChildren(renderLinks(links, lookFor(lang)));
  }

  function renderAll(): void {
    translate();
    showOrders();
    showDetail();
    linksBox.replaceChildren(renderLinkForm(lookFor(lang)), linkTable);
    showLinks();
  }

  async function loadOrders(): Promise<void> {
    const answer = await api<{ payments: Payment[] }>(
      `/api/backoffice/orders${filter ? `?status=${filter}` : ''}`,
    );
    payments = answer.payments;
    showOrders();
  }

  async function loadLinks(): Promise<void> {
    links = (await api<{ links: Link[] }>('/api/backoffice/links')).links;
    showLinks();
  }

  async function loadDetail(): Promise<void> {
    detail = selected
      ? await api<OrderDetail>(`/api/backoffice/orders/${encodeURIComponent(selected)}`).catch(
          () => null,
        )
      : null;
    showDetail();
  }

  async function select(orderRef: string): Promise<void> {
    if (orderRef !== selected) {
      selected = orderRef;
      message = null;
      keys.refund = newKey();
      keys.capture = newKey();
      keys.void = newKey();
    }
    showOrders();
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
    showDetail();
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
