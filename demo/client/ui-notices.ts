/** What the shop tells the shopper: the notice box, and its words for the widget's result and error codes. */

import { h } from './dom.js';
import { WORDS, type Words } from './i18n.js';
import type { ShopState } from './ui-types.js';

export function renderNotice(s: ShopState): HTMLElement | null {
  if (!s.notice) return null;
  const w = WORDS[s.lang];
  return h(
    'div',
    { class: `notice ${s.notice.tone}`, role: s.notice.tone === 'error' ? 'alert' : 'status' },
    s.notice.title ? h('strong', {}, s.notice.title(w)) : null,
    h('p', {}, s.notice.text(w)),
  );
}

/** The shop's words for a failed payment's result code (Galaxy Pay's table); '' when it has none. */
export function failureWords(code: string | null): (w: Words) => string {
  switch (code) {
    case '505':
      return w => w.declined;
    case '408':
      return w => w.failedExpired;
    default:
      return () => '';
  }
}

export function errorWords(code: string): (w: Words) => string {
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
