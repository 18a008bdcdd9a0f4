/** The shop page's data: the catalogue, orders and receipts, saved cards, checkout choices, and its state. */

import type { Lang, Words } from './i18n.js';

export interface Product {
  id: string;
  name: Record<Lang, string>;
  blurb: Record<Lang, string>;
  price: number;
  image: string;
}

export interface OrderLine {
  productId: string;
  name: Record<Lang, string>;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

export interface Order {
  orderRef: string;
  lines: OrderLine[];
  amount: number;
  currency: string;
}

export interface Receipt {
  order: Order;
  status: 'paid' | 'authorized';
  transactionId: string | null;
  amount: number;
  at: string;
}

/** A saved card as the signer shows it: masked, never the token. */
export interface SavedCard {
  tokenId: string;
  paymentMethod: string;
  brand: string | null;
  maskedNumber: string;
}

/** What the shop's back end gives this browser's demo customer: a fresh handle and the saved cards. */
export interface Customer {
  handle: string;
  expiresAt: string;
  cards: SavedCard[];
}

/** The checkout's choices (kept for the tab, so a full-page redirect comes back to the same signer). */
export interface PayOptions {
  method: '' | 'QRPAY';
  savedCards: boolean;
  manual: boolean;
}

export type View =
  { kind: 'cart' } | { kind: 'checkout'; order: Order } | { kind: 'receipt'; receipt: Receipt };

export type Notice = {
  tone: 'info' | 'warn' | 'error';
  text: (w: Words) => string;
  title?: (w: Words) => string;
};

/** Everything the shop page knows and shows; the page's code changes it, the views read it. */
export interface ShopState {
  lang: Lang;
  products: Product[];
  cart: Record<string, number>;
  mode: string;
  options: PayOptions;
  customer: Customer | null;
  notice: Notice | null;
  busy: boolean;
  /** Products whose "add" button says "Added", with the timer that ends it. */
  justAdded: Map<string, number>;
  /** What the last "add" did, in words (read out by the cart bar, a status region). */
  lastAdded: string;
  view: View;
  signerUrl: string;
  /** The manual-capture signer, '' when the page names none. */
  manualSignerUrl: string;
}
