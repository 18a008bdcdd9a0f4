/**
 * Built-in words in Vietnamese and English; the `strings` property overrides any of them. Nothing here runs at
 * import time (SSR-safe).
 */

import type { GalaxyPayLang } from './types.js';

export interface GalaxyPayStrings {
  /** Default button label (the slot replaces it). */
  pay: string;
  /** Title of the dialog, for screen readers. */
  title: string;
  close: string;
  opening: string;
  paying: string;
  verifying: string;
  paid: string;
  failed: string;
  cancelled: string;
  error: string;
  /** Shown when the gateway frame did not load: a button that opens the page in a new window. */
  openWindow: string;
  frameTimeout: string;
  popupBlocked: string;
}

/**
 * Words of the saved-cards chooser and the QR panel. Their values live in the lazily loaded extras module;
 * the `strings` property overrides them too.
 */
export interface GalaxyPayExtraStrings {
  /** Legend of the saved-cards chooser. */
  savedCards: string;
  newCard: string;
  /** The "save this card" checkbox (a new card only). */
  saveCard: string;
  continue: string;
  /** Alternative text of the QR image. */
  qrAlt: string;
  qrHint: string;
  /** `{time}` is replaced with `m:ss`. */
  expiresIn: string;
  qrExpired: string;
}

export const STRINGS: Record<GalaxyPayLang, GalaxyPayStrings> = {
  vi: {
    pay: 'Thanh toán',
    title: 'Thanh toán Galaxy Pay',
    close: 'Đóng',
    opening: 'Đang mở trang thanh toán…',
    paying: 'Đang chờ thanh toán…',
    verifying: 'Đang xác nhận thanh toán…',
    paid: 'Thanh toán thành công.',
    failed: 'Thanh toán không thành công.',
    cancelled: 'Đã hủy thanh toán.',
    error: 'Không thể thanh toán lúc này. Vui lòng thử lại.',
    openWindow: 'Mở trong cửa sổ mới',
    frameTimeout: 'Trang thanh toán không tải được tại đây.',
    popupBlocked: 'Trình duyệt đã chặn cửa sổ thanh toán.',
  },
  en: {
    pay: 'Pay',
    title: 'Galaxy Pay checkout',
    close: 'Close',
    opening: 'Opening the payment page…',
    paying: 'Waiting for your payment…',
    verifying: 'Confirming your payment…',
    paid: 'Payment complete.',
    failed: 'The payment did not go through.',
    cancelled: 'Payment cancelled.',
    error: 'Payment is unavailable right now. Please try again.',
    openWindow: 'Open in a new window',
    frameTimeout: 'The payment page cannot be shown here.',
    popupBlocked: 'The browser blocked the payment window.',
  },
};

/**
 * The built-in language of `el`: its `lang`, else the nearest `lang` around it, the page's, then the
 * browser's; Vietnamese otherwise.
 */
export function languageOf(el: HTMLElement): GalaxyPayLang {
  const tags = [
    el.lang,
    el.closest('[lang]')?.getAttribute('lang'),
    document.documentElement.lang,
    ...navigator.languages,
  ];
  for (const tag of tags) {
    const primary = tag?.toLowerCase().split('-')[0];
    if (primary === 'vi' || primary === 'en') return primary;
  }
  return 'vi';
}

/** The words `el` shows: the built-in ones in its language, with its `strings` overrides. */
export const wordsOf = (
  el: HTMLElement & { strings: Partial<GalaxyPayStrings> },
): GalaxyPayStrings => ({
  ...STRINGS[languageOf(el)],
  ...el.strings,
});
