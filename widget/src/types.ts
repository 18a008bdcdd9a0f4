/** Public types of `<galaxy-pay-button>`: what the signer answers and what the events carry. */

import type { SessionStatus } from './session-status.js';

/** How the checkout is shown. `auto` picks one from the screen and the browser. */
export type GalaxyPayMode = 'auto' | 'modal' | 'popup' | 'redirect';

/** The presentation actually used for one payment. */
export type GalaxyPayPresentation = Exclude<GalaxyPayMode, 'auto'>;

/**
 * Payment methods the `payment-method` attribute may preselect (the signer checks them): the `paymentMethod`
 * values of Galaxy Pay's Pay API. `HUB` and `BNPL` need a `source-type` (e.g. `2C2P`, `KREDIVO`).
 */
export type GalaxyPayPaymentMethod =
  'DOMESTIC' | 'INTERNATIONAL' | 'WALLET' | 'QRPAY' | 'HUB' | 'BNPL';

/** Built-in languages. */
export type GalaxyPayLang = 'vi' | 'en';

/** Session statuses the signer reports (`@galaxy-pay/protocol`, written out in the published typings). */
export type { SessionStatus };

/** `POST {signer}/sessions` answer. */
export interface CreatedSession {
  sessionId: string;
  /** Per-session secret the return page echoes in its message: two buttons never cross-talk. */
  nonce: string;
  checkoutUrl: string | null;
  gatewayOrigin: string | null;
  status: SessionStatus;
  expiresAt: string;
  /** `paymentMethod: 'QRPAY'`: the QR code to show (an SVG the signer renders) and when it stops being payable. */
  qr?: { data: string | null; imageUrl: string; expiresAt: string };
}

/** `GET {signer}/customer/tokens`: one of the customer's saved cards, masked (never the token). */
export interface SavedCard {
  tokenId: string;
  paymentMethod: string;
  brand: string | null;
  source: string | null;
  maskedNumber: string;
  holderName: string | null;
  createdAt: string;
}

/** `GET {signer}/sessions/:id`: the signer's verified view of a session. */
export interface SessionView {
  sessionId: string;
  status: SessionStatus;
  orderRef: string;
  amount: number;
  currency: string;
  transactionId: string | null;
  code: string | null;
  message: string | null;
  cancelReason: CancelReason | null;
  lateSuccess: boolean;
  paidAt: string | null;
  expiresAt: string;
}

/** What the browser may ask for; the signer prices the order itself. */
export interface SessionRequest {
  orderRef: string;
  locale?: GalaxyPayLang;
  paymentMethod?: GalaxyPayPaymentMethod;
  sourceType?: string;
  returnUrl?: string;
  /** The signed, expiring customer handle minted by the merchant's back end (saved cards). */
  customerHandle?: string;
  /** Save the card the shopper pays with (PAY_WITH_CREATE_TOKEN). */
  saveCard?: boolean;
  /** Pay with one of the customer's saved cards. */
  tokenId?: string;
  /** This tab's secret for the order: the signer hands its open session back only to the holder. */
  clientKey?: string;
}

export type CancelReason = 'user' | 'closed' | 'gateway' | 'timeout';

export interface GalaxyPayOpenDetail {
  sessionId: string;
  mode: GalaxyPayPresentation;
}

/** The verified outcome of a payment: these fields of the signer's view, and the status it ended in. */
export interface GalaxyPayResultDetail extends Pick<
  SessionView,
  'sessionId' | 'orderRef' | 'amount' | 'currency' | 'transactionId' | 'code' | 'message'
> {
  /** `authorized`: card authorized for a later capture by the merchant (manual capture only). */
  status: 'paid' | 'failed' | 'authorized';
}

export interface GalaxyPayCancelDetail {
  reason: CancelReason;
  sessionId: string;
  orderRef: string;
}

/** Stable error codes of `galaxy-pay-error`. */
export const ErrorCode = {
  /** `signer` or `order-ref` missing. */
  Config: 'CONFIG',
  /** The signer could not be reached (network, CORS). */
  Network: 'SIGNER_UNREACHABLE',
  /** The signer answered an error; `message` names its code. */
  Signer: 'SIGNER_ERROR',
  /** The order is already paid. */
  OrderPaid: 'ORDER_PAID',
  PopupBlocked: 'POPUP_BLOCKED',
  /** The gateway frame did not load in time. */
  FrameTimeout: 'FRAME_TIMEOUT',
  /** The page's Content-Security-Policy does not allow the gateway in `frame-src`. */
  FrameBlocked: 'FRAME_BLOCKED',
  /** The signer's answer does not belong to this button's order. */
  Mismatch: 'VERIFY_MISMATCH',
  /** A verified message disagreed with the order: the merchant must look at it. */
  NeedsReview: 'NEEDS_REVIEW',
  /** The signer refused the `customer-handle` (forged, malformed or expired): no saved cards are shown. */
  CustomerHandle: 'CUSTOMER_HANDLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface GalaxyPayErrorDetail {
  code: ErrorCode;
  message: string;
  /** Whether pressing the button again may work. */
  retryable: boolean;
}

export interface GalaxyPayCloseDetail {
  sessionId: string | null;
}
