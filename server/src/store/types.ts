/**
 * The records the store keeps (orders, sessions, evidence, outbox, idempotency keys), shared by the `Store`
 * interface (`store.ts`) and both adapters. Each closed set of values is one list, from which its type is
 * derived, so the row mappers check stored values against the same list the type is made of.
 */

import type { FinalStatus, SessionStatus } from '@galaxy-pay/protocol/session-status';
import type { OperationEvent } from './operation-types.js';

export * from '@galaxy-pay/protocol/session-status';

/** Why a session was cancelled. */
export const CANCEL_REASONS = ['user', 'closed', 'gateway', 'timeout'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** An order as the merchant priced it. Amount and currency never change once saved. */
export interface Order {
  orderRef: string;
  /** Integer minor units; VND has none, so this is dong. */
  amount: number;
  currency: string;
  description: string;
  /** Net + fee − discount = amount (the checkout API wants all four). */
  netAmount: number;
  feeAmount: number;
  discountAmount: number;
  createdAt: Date;
}

/** A checkout session: one attempt to pay one order through the gateway. */
export interface Session {
  /** ≥ 128-bit random, base64url. */
  id: string;
  /** Per-session secret echoed in the return page's postMessage, so widgets never cross-talk. */
  nonce: string;
  orderRef: string;
  /** The gateway `orderID` (unique per session, so a retry after a failure never collides). */
  gatewayOrderId: string;
  /** The `requestID` of the checkout call, kept for reconciliation after a timeout. */
  requestId: string;
  transactionId: string | null;
  amount: number;
  currency: string;
  status: SessionStatus;
  /** A verified success arrived after the session had failed, been cancelled or expired. */
  lateSuccess: boolean;
  /** The gateway's result code and message, once known. */
  code: string | null;
  message: string | null;
  cancelReason: CancelReason | null;
  locale: string;
  paymentMethod: string | null;
  sourceType: string | null;
  /** Where redirect mode returns the shopper (allow-listed). */
  returnUrl: string | null;
  /** The hosted page URL (checked against the gateway allow-list). */
  checkoutUrl: string | null;
  /** The merchant origin that opened the session (exact), for postMessage and framing. */
  merchantOrigin: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  /** How the gateway is asked to take this payment, when it is not a plain hosted checkout. */
  plan: SessionPlan | null;
  /**
   * SHA-256 (hex) of the secret the opening browser holds: the open session is handed back only to a caller
   * that presents it, and only it may cancel (orderRefs are guessable). Null for sessions opened by the
   * merchant's back end (FAST_PAY) or before the column existed.
   */
  clientKeyHash: string | null;
  /** Gateway questions about this session that went unanswered in a row (the sweep backs off). */
  checkFailures: number;
  /** The background sweep leaves the session alone until then; null = due as soon as it is stale. */
  nextCheckAt: Date | null;
}

/**
 * A session's payment plan: saving the card (PAY_WITH_CREATE_TOKEN) for a vouched customer, paying with a
 * saved card, a QR code, or authorize-only (`capture: 'manual'`). Never holds a gateway token.
 */
export interface SessionPlan {
  op?: 'create_token' | 'token' | 'qr' | 'fast_pay';
  /** The merchant's customer reference, from a verified customer handle (never from the browser as is). */
  customerRef?: string;
  /** The saved card's id (`op: 'token' | 'fast_pay'`). */
  cardId?: string;
  /** `manual`: authorize only (`isAutoCapture: "false"`), capture or void from the admin API. */
  capture?: 'manual';
  /** QR: the payload to render, and until when the code may be paid. */
  qrCode?: string;
}

/** A new session, before anything is known from the gateway. */
export type NewSession = Omit<
  Session,
  | 'status'
  | 'lateSuccess'
  | 'transactionId'
  | 'code'
  | 'message'
  | 'cancelReason'
  | 'checkoutUrl'
  | 'updatedAt'
  | 'paidAt'
  | 'plan'
  | 'clientKeyHash'
  | 'checkFailures'
  | 'nextCheckAt'
> & { plan?: SessionPlan | null; clientKeyHash?: string | null };

/** Where a callback or query answer came from. */
export const EVIDENCE_KINDS = [
  'ipn',
  'result',
  'cancel',
  'query',
  'checkout',
  'operation',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** The verdict stored with every callback attempt. */
export const EVENT_VERDICTS = [
  'applied',
  'duplicate',
  'needs_review',
  'unknown_order',
  'rejected_schema',
  'bad_signature',
  'malformed',
  'ignored',
] as const;
export type EventVerdict = (typeof EVENT_VERDICTS)[number];

/** One callback attempt or query answer, stored raw: nothing the gateway told us is lost. */
export interface PaymentEvent {
  id?: number;
  sessionId: string | null;
  kind: EvidenceKind;
  transactionId: string | null;
  /** The raw `data` text (callbacks) or response body (query), as received. */
  raw: string;
  verified: boolean;
  verdict: EventVerdict;
  /** A short human note (why it was rejected, what it changed). */
  detail: string | null;
  receivedAt: Date;
}

/** What the gateway said, reduced to what a transition needs. */
export interface Evidence {
  kind: EvidenceKind;
  transactionId: string | null;
  code: string;
  message: string;
  paymentMethod?: string | null;
  sourceType?: string | null;
}

/** Merchant-facing events delivered at least once through the outbox: a session's move to a final status. */
export type OutboxEvent = FinalStatus;

export interface OutboxItem {
  id: number;
  sessionId: string;
  /** A session's event, or an operation's (a refund, void or capture: see `operationId`). */
  event: OutboxEvent | OperationEvent;
  /** The refund, void or capture an operation event is about (one row per operation and event). */
  operationId?: string | null;
  /** JSON text of the webhook/hook payload, fixed at transition time. */
  payload: string;
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  lastError: string | null;
}

/** The target of a transition and what goes with it. */
export type Transition =
  | { to: 'paid'; evidence: Evidence; at: Date }
  | { to: 'failed'; evidence: Evidence; at: Date }
  | { to: 'cancelled'; reason: CancelReason; evidence: Evidence | null; at: Date }
  | { to: 'expired'; at: Date }
  | { to: 'needs_review'; evidence: Evidence; detail: string; at: Date }
  | { to: 'authorized'; evidence: Evidence; at: Date }
  | { to: 'voided'; evidence: Evidence; at: Date };

/** The result of a transition attempt: `changed` false means a concurrent or earlier writer won. */
export interface TransitionResult {
  changed: boolean;
  session: Session;
}

/** What deciding about a verified report reads of its session (payments/settlement.ts). */
export type SessionFacts = Pick<
  Session,
  'id' | 'status' | 'plan' | 'amount' | 'currency' | 'transactionId'
>;

/**
 * What a verified report calls for, decided against the session it names (payments/settlement.ts): a
 * transition with its event, or the event alone.
 */
export interface ReportSettlement {
  transition?: Transition;
  event: PaymentEvent;
}

/** An idempotency record for `POST /sessions` (docs/reliability.md rule 7). */
export type IdempotencyBegin =
  | { state: 'started' }
  | { state: 'in_flight' }
  | { state: 'mismatch' }
  | { state: 'done'; status: number; body: string };

/** How long a request may hold its Idempotency-Key in flight: far beyond the gateway call's deadline. */
export const IDEMPOTENCY_LEASE_MS = 60_000;
