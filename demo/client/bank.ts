/**
 * The demo bank (`/bank`): what a banking app does after scanning a QR code, for a visitor without one. It
 * lists the sandbox's QR payments waiting to be paid (through the shop's back end) and pays or declines
 * one; the sandbox then notifies the signer (IPN) as Galaxy Pay would, and the shop's dialog reports it.
 */

import { api, byId, h } from './dom.js';
import { formatVnd, initialLang, saveLang, translatePage, type Lang } from './i18n.js';

interface Waiting {
  id: string;
  amount: number;
  order: string;
  description: string;
  createdAt: string;
}

const WORDS = {
  vi: {
    bankTitle: 'Ngân hàng giả lập',
    bankBanner:
      'Thay cho ứng dụng ngân hàng trên điện thoại: cổng thanh toán của bản demo là sandbox ngoại tuyến, nên không ứng dụng thật nào trả được mã QR của nó.',
    bankWaiting: 'Mã QR đang chờ thanh toán',
    bankHow:
      'Ở cửa hàng, chọn “Mã QR (VietQR)” rồi bấm nút thanh toán: mã QR hiện ra, và khoản đó xuất hiện ở đây. Trang này tự cập nhật.',
    none: 'Chưa có mã QR nào đang chờ.',
    order: 'Đơn hàng',
    pay: 'Xác nhận thanh toán',
    decline: 'Từ chối',
    paid: 'Đã gửi lệnh thanh toán. Quay lại cửa hàng để xem kết quả.',
    declined: 'Đã từ chối.',
    error: 'Không thực hiện được; thử lại.',
  },
  en: {
    bankTitle: 'Demo bank',
    bankBanner:
      'Stands in for a banking app on a phone: the demo’s gateway is an offline sandbox, so no real app can pay its QR codes.',
    bankWaiting: 'QR codes waiting to be paid',
    bankHow:
      'In the shop, choose “QR code (VietQR)” and press the pay button: the QR code shows, and its payment appears here. This page updates itself.',
    none: 'No QR code is waiting.',
    order: 'Order',
    pay: 'Confirm payment',
    decline: 'Decline',
    paid: 'Payment sent. Back in the shop, the dialog shows the result.',
    declined: 'Declined.',
    error: 'That did not work; try again.',
  },
};

const POLL_MS = 1500;

function start(): void {
  let lang: Lang = initialLang();
  let waiting: Waiting[] = [];
  let status = '';
  let busy = false;
  const box = byId('payments');
  const w = () => WORDS[lang];

  function render(): void {
    translatePage(lang, w());
    document.title = `${w().bankTitle} · Galaxy Pay demo`;
    box.replaceChildren(
      status ? h('p', { class: 'notice info', role: 'status', id: 'bank-status' }, status) : '',
      waiting.length
        ? h(
            'ul',
            { class: 'bank-list' },
            ...waiting.map(payment =>
              h(
                'li',
                { class: 'panel', 'data-payment': payment.id, 'data-order': payment.order },
                h('p', { class: 'bank-amount' }, formatVnd(payment.amount, lang)),
                h('p', {}, `${w().order} `, h('code', {}, payment.order)),
                h('p', { class: 'fine' }, payment.description),
                h(
                  'div',
                  { class: 'bank-actions' },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'primary',
                      'data-approve': payment.id,
                      disabled: busy,
                    },
                    w().pay,
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'data-decline': payment.id,
                      disabled: busy,
                    },
                    w().decline,
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, w().none),
    );
  }

  async function load(): Promise<void> {
    waiting = (await api<{ payments: Waiting[] }>('/api/bank/payments')).payments;
    render();
  }

  async function decide(id: string, decision: 'approve' | 'decline'): Promise<void> {
    busy = true;
    render();
    try {
      await api(`/api/bank/payments/${encodeURIComponent(id)}/${decision}`, {});
      status = decision === 'approve' ? w().paid : w().declined;
    } catch {
      status = w().error;
    }
    busy = false;
    await load();
  }

  document.addEventListener('click', event => {
    const target = (event.target as Element).closest<HTMLButtonElement>('button');
    if (!target) return;
    if (target.dataset.lang) {
      lang = target.dataset.lang === 'en' ? 'en' : 'vi';
      saveLang(lang);
      render();
    } else if (target.dataset.approve) {
      void decide(target.dataset.approve, 'approve');
    } else if (target.dataset.decline) {
      void decide(target.dataset.decline, 'decline');
    }
  });

  render();
  void load().then(() => (document.body.dataset.ready = 'true'));
  setInterval(() => {
    if (!document.hidden && !busy) void load().catch(() => undefined);
  }, POLL_MS);
}

start();
