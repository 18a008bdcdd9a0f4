/** The `<galaxy-pay-button>` of the checkout: made once per order, pointed at what the choices say. */

import type {} from '@galaxy-pay/widget';
import { WORDS } from './i18n.js';
import type { Order, ShopState } from './ui-types.js';

const EVENTS = [
  'galaxy-pay-open',
  'galaxy-pay-result',
  'galaxy-pay-cancel',
  'galaxy-pay-error',
  'galaxy-pay-close',
] as const;

/** Points the button at what the checkout's choices say (read when the shopper clicks it). */
export function configureButton(
  s: ShopState,
  pay: HTMLElementTagNameMap['galaxy-pay-button'],
): void {
  const w = WORDS[s.lang];
  pay.setAttribute(
    'signer',
    s.options.manual && s.manualSignerUrl ? s.manualSignerUrl : s.signerUrl,
  );
  pay.setAttribute('mode', s.mode);
  pay.setAttribute('lang', s.lang);
  if (s.options.method) pay.setAttribute('payment-method', s.options.method);
  else pay.removeAttribute('payment-method');
  const handle = s.options.savedCards ? s.customer?.handle : undefined;
  if (handle) pay.setAttribute('customer-handle', handle);
  else pay.removeAttribute('customer-handle');
  // Waiting for the customer handle: a click now would pay without the saved cards asked for.
  pay.toggleAttribute('disabled', s.options.savedCards && !handle);
  // The widget's own words, except where the demo must say how to "scan" (a public property).
  pay.strings = { qrHint: w.qrHintDemo };
  pay.textContent = w.payWith;
}

/** A new button for the order; its events go to `onEvent`. */
export function createPayButton(
  order: Order,
  onEvent: (event: Event) => void,
): HTMLElementTagNameMap['galaxy-pay-button'] {
  const button = document.createElement('galaxy-pay-button');
  button.id = 'pay';
  // Attributes before the element connects: a returning redirect is claimed on connect.
  button.setAttribute('order-ref', order.orderRef);
  for (const name of EVENTS) button.addEventListener(name, onEvent);
  return button;
}
