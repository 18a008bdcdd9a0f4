/**
 * Everything `<galaxy-pay-button>` imports lazily, as one file (`galaxy-pay-extras.js` next to the script-tag
 * file, `dist/extras.js` in the npm build), so the main file stays within its size budget: the checkout once a
 * session is open (`checkout.ts`, imported while the signer answers the click), and here the saved-cards
 * chooser (`customer-handle`) and the QR panel (`payment-method="QRPAY"`).
 */

import { html } from 'lit';
import type { CheckoutController, Flow } from './checkout-controller.js';
import { watch } from './checkout.js';
import { GalaxyPayOpenEvent } from './events.js';
import { adoptExtraStyles } from './extras.styles.js';
import { GalaxyPayRequestError, call, type CallOptions } from './signer-client.js';
import { languageOf, type GalaxyPayExtraStrings } from './strings.js';
import type { GalaxyPayLang, SavedCard } from './types.js';

export * from './checkout.js';

export const EXTRA_STRINGS: Record<GalaxyPayLang, GalaxyPayExtraStrings> = {
  vi: {
    savedCards: 'Chọn thẻ thanh toán',
    newCard: 'Dùng thẻ mới',
    saveCard: 'Lưu thẻ này cho lần sau',
    continue: 'Tiếp tục',
    qrAlt: 'Mã QR thanh toán: quét bằng ứng dụng ngân hàng hoặc ví',
    qrHint: 'Quét mã bằng ứng dụng ngân hàng hoặc ví để thanh toán.',
    expiresIn: 'Mã QR hết hạn sau {time}',
    qrExpired: 'Mã QR đã hết hạn. Đang kiểm tra…',
  },
  en: {
    savedCards: 'Choose how to pay',
    newCard: 'Use a new card',
    saveCard: 'Save this card for next time',
    continue: 'Continue',
    qrAlt: 'Payment QR code: scan it with your banking or wallet app',
    qrHint: 'Scan the code with your banking or wallet app to pay.',
    expiresIn: 'QR code expires in {time}',
    qrExpired: 'The QR code has expired. Checking…',
  },
};

/** This module's words (overridable through `strings`), and the lazy styles adopted by the element. */
function setUp({ host }: CheckoutController): GalaxyPayExtraStrings {
  adoptExtraStyles(host);
  return { ...EXTRA_STRINGS[languageOf(host)], ...host.strings };
}

/**
 * `customer-handle`: lists the customer's saved cards in the dialog; the shopper's pick (a submit: a user
 * activation, so a popup may still open) continues the checkout with `tokenId` or `saveCard`. A refused
 * handle throws (→ `CUSTOMER_HANDLE`) and shows nothing.
 */
export async function chooseCard(c: CheckoutController, flow: Flow): Promise<void> {
  const w = setUp(c);
  c.setPhase(flow, 'opening');
  c.set(flow, { frameState: 'loading' });
  await c.step(flow, c.host.updateComplete);
  c.dialog?.showModal();
  const { signal } = flow.controller;
  const cards = await c.step(flow, listCards(flow.base, c.host.customerHandle, { signal }));
  const panel = () =>
    cardsForm(cards, w, (tokenId, save) => {
      c.set(flow, { panel: undefined });
      flow.tokenId = tokenId;
      flow.saveCard = save;
      c.go(flow);
    });
  c.set(flow, { panel });
}

/**
 * QRPAY: the signer's QR image with an expiry countdown; the status comes through SSE or polling as usual,
 * and past the expiry the signer is asked until it says `expired` (→ `galaxy-pay-cancel` 'timeout').
 */
export function showQr(
  c: CheckoutController,
  flow: Flow,
  qr: { imageUrl: string; expiresAt: string },
): void {
  if (!/^https?:\/\//.test(qr.imageUrl)) throw new GalaxyPayRequestError(flow.base, 502, 'no_qr');
  const w = setUp(c);
  const watcher = watch(c, flow);
  let left = 0;
  const panel = () => qrPanel(qr.imageUrl, left, w, () => void watcher.check());
  c.set(flow, { frameState: 'loaded', panel });
  c.setPhase(flow, 'paying');
  countdown(qr.expiresAt, flow.controller.signal, (seconds, announce) => {
    left = seconds;
    c.set(flow, announce ? { announcement: expiryText(w, seconds) } : {});
    if (!seconds) void watcher.check();
  });
  c.emit(flow, new GalaxyPayOpenEvent({ sessionId: flow.sessionId!, mode: 'modal' }));
}

/** `GET {signer}/customer/tokens`, the handle in a header (not in URLs and their logs). */
export const listCards = (
  signer: string,
  handle: string,
  options: CallOptions,
): Promise<SavedCard[]> =>
  call<{ cards: SavedCard[] }>(`${signer}/customer/tokens`, options, undefined, {
    'x-customer-handle': handle,
  }).then(answer => answer.cards);

/**
 * The shopper's choice: a saved card (masked number and brand only) or a new card, which may be saved. Native
 * radios and a checkbox in a fieldset: labelled, and usable with the keyboard alone.
 */
export function cardsForm(
  cards: SavedCard[],
  w: GalaxyPayExtraStrings,
  onPick: (tokenId: string | undefined, save: boolean) => void,
) {
  const sync = (event: Event) => {
    const form = event.currentTarget as HTMLFormElement;
    const save = form.elements.namedItem('save') as HTMLInputElement;
    save.disabled = (form.elements.namedItem('card') as RadioNodeList).value !== '';
  };
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    onPick(String(data.get('card') ?? '') || undefined, data.get('save') === 'on');
  };
  return html`<form class="pick" @change=${sync} @submit=${submit}>
    <fieldset>
      <legend>${w.savedCards}</legend>
      ${cards.map(
        (card, i) =>
          html`<label
            ><input type="radio" name="card" value=${card.tokenId} ?checked=${i === 0} />
            ${card.brand ?? card.paymentMethod} ${card.maskedNumber}</label
          >`,
      )}
      <label
        ><input type="radio" name="card" value="" ?checked=${!cards.length} /> ${w.newCard}</label
      >
    </fieldset>
    <label><input type="checkbox" name="save" ?disabled=${cards.length > 0} /> ${w.saveCard}</label>
    <button class="go">${w.continue}</button>
  </form>`;
}

/** `m:ss` */
const clock = (seconds: number) =>
  `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

export const expiryText = (w: GalaxyPayExtraStrings, seconds: number) =>
  seconds ? w.expiresIn.replace('{time}', clock(seconds)) : w.qrExpired;

/** The QR image and the visible countdown (not a live region: the element announces it sparingly). */
export const qrPanel = (
  imageUrl: string,
  seconds: number,
  w: GalaxyPayExtraStrings,
  onImageError: () => void,
) =>
  html`<div class="qr">
    <img src=${imageUrl} alt=${w.qrAlt} width="280" height="280" @error=${onImageError} />
    <p>${w.qrHint}</p>
    <p class="left">${expiryText(w, seconds)}</p>
  </div>`;

/**
 * Calls `onTick(secondsLeft, announce)` every second until `signal` aborts (never, if it already has). `announce` is true at a cadence a
 * screen reader can bear: each full minute, at 30 and 10 seconds, and at expiry; after expiry it ticks every
 * 3 seconds, so the caller can ask the signer until it says `expired`.
 */
export function countdown(
  expiresAt: string,
  signal: AbortSignal,
  onTick: (seconds: number, announce: boolean) => void,
): void {
  if (signal.aborted) return;
  const end = Date.parse(expiresAt);
  let after = 0;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    if (seconds || after++ % 3 === 0) {
      onTick(seconds, seconds % 60 === 0 || seconds === 30 || seconds === 10);
    }
  };
  const timer = setInterval(tick, 1000);
  signal.addEventListener('abort', () => clearInterval(timer));
  tick();
}
