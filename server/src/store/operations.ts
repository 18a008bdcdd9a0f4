/**
 * The merchant-operations part of the store: the audit trail of every admin operation (query, refund,
 * void, capture, fast pay, token deletion, payment links), saved cards (the gateway token encrypted at
 * rest, only the masked number in clear), and payment links with their own IPN. Same rules as the rest of
 * the store: every state change is one atomic conditional write, both adapters pass one contract suite.
 */

import type { Session, SessionPlan } from './store.js';

/** What an operator did. */
export type OperationKind =
  | 'query'
  | 'refund'
  | 'void'
  | 'capture'
  | 'fast_pay'
  | 'token_delete'
  | 'link_create'
  | 'reconcile';

/**
 * `pending`: the gateway is being called (a refund's amount is reserved meanwhile); `succeeded`: evidence
 * that it happened (the gateway's own success answer, or a query answer that shows it); `failed`: evidence
 * that it did not (a definite refusal of the first send, or a query answer that shows it did not happen);
 * `unknown`: neither (timeout, reset, 5xx, a reply we cannot trust) — the amount stays reserved, the signer
 * keeps asking the gateway, and a retry with the same Idempotency-Key sends the same request again.
 */
export type OperationState = 'pending' | 'succeeded' | 'failed' | 'unknown';

/** The operations that move money at the gateway: their outcome is settled by evidence only. */
export type MoneyOperationKind = 'refund' | 'void' | 'capture';

/**
 * What the merchant is told about a money operation (outbox, webhook, hooks), once per operation and
 * outcome. A void that succeeded is told by the session's own `voided` event (the session changes too).
 */
export type OperationEvent =
  | 'refunded'
  | 'refund_failed'
  | 'refund_unknown'
  | 'captured'
  | 'capture_failed'
  | 'capture_unknown'
  | 'void_failed'
  | 'void_unknown';

/** One audit-trail row: who, when, what, and what the gateway answered. */
export interface Operation {
  id: string;
  sessionId: string | null;
  kind: OperationKind;
  /** Integer VND (refund and capture amounts); null where no money is named. */
  amount: number | null;
  state: OperationState;
  idempotencyKey: string | null;
  /** Hash of what the key was first used for: the same key for another request is refused. */
  requestHash: string | null;
  /** Who: the `x-operator` header, or the token's label. */
  operator: string;
  /** The gateway `requestID` sent (kept so a retry sends the same one). */
  gatewayRequestId: string | null;
  /** The reference sent as the operation's own `orderID` (a refund reference), when there is one. */
  gatewayRef: string | null;
  responseCode: string | null;
  responseMessage: string | null;
  /** The gateway's reply text as received (verified), never a request body. */
  raw: string | null;
  detail: string | null;
  createdAt: Date;
  /** When the state last changed (for a send: when its last attempt ended). */
  updatedAt: Date;
  /** Unknown outcome: how many times the gateway was asked about it without settling it. */
  checkCount: number;
  /** Unknown outcome: the background pass asks again from then on; null = at its next pass. */
  nextCheckAt: Date | null;
}

export type NewOperation = Omit<
  Operation,
  'responseCode' | 'responseMessage' | 'raw' | 'updatedAt' | 'state' | 'checkCount' | 'nextCheckAt'
> & { state?: OperationState };

/** What an operation ended with. */
export interface OperationOutcome {
  state: Exclude<OperationState, 'pending'>;
  responseCode: string | null;
  responseMessage: string | null;
  raw: string | null;
  detail?: string | null;
}

/**
 * A compare-and-set on `finishOperation`: the answer is recorded only if the operation is still in `state`
 * and has not changed since `notUpdatedAfter` (no send attempt ended, and none is under way, after then).
 */
export interface OperationExpectation {
  state: 'pending' | 'unknown';
  notUpdatedAfter: Date;
}

/** Checked in the same transaction as the insert. */
export interface OperationGuard {
  /** Refunds: the sum of this session's live operations of this kind plus this one may not exceed it. */
  maxTotal?: number;
  /** Capture and void: at most one live (pending, succeeded or unknown) capture-or-void per session. */
  exclusive?: boolean;
}

export type BeginOperation =
  | { state: 'started'; operation: Operation }
  /** The idempotency key is already in use (by the same or another request: compare `requestHash`). */
  | { state: 'exists'; operation: Operation }
  /** `maxTotal` would be exceeded: `total` is what is already taken. */
  | { state: 'exceeds'; total: number }
  /** `exclusive`: another capture or void already holds the session. */
  | { state: 'conflict'; operation: Operation };

/** A saved card: the token encrypted (AES-256-GCM), the card masked. */
export interface SavedCard {
  /** Our id (128-bit random), what the widget and the admin API name; never the gateway token. */
  id: string;
  customerRef: string;
  /** Keyed digest of the gateway token: the same token is saved once. */
  tokenDigest: string;
  /** `v1.<keyId>.<iv>.<tag>.<ciphertext>`, base64url parts. */
  tokenCiphertext: string;
  keyId: string;
  paymentMethod: string;
  brand: string | null;
  source: string | null;
  /** Masked, as the gateway gave it, e.g. `550692******3667`. */
  maskedNumber: string;
  holderName: string | null;
  /** The session whose IPN delivered the token. */
  sessionId: string | null;
  createdAt: Date;
  deletedAt: Date | null;
}

export type NewSavedCard = Omit<SavedCard, 'deletedAt'>;

export type LinkStatus = 'open' | 'paid' | 'needs_review';

/** A payment link the merchant created, and what its IPN said. */
export interface PaymentLink {
  /** Galaxy Pay's reference (`orderNo`), the key of the link IPN. */
  orderNo: string;
  /** The `orderID` we sent (our reference). */
  linkRef: string;
  name: string;
  description: string;
  amount: number;
  currency: string;
  methods: string[];
  fields: string[];
  shortLink: string;
  status: LinkStatus;
  /** Paid after its expiry: recorded anyway (a verified payment is never discarded). */
  late: boolean;
  /** What the payer typed on the link page (fullName, phone, email, shippingAddress). */
  payer: Record<string, string> | null;
  paidAmount: number | null;
  /** The verified IPN `data` that settled it. */
  raw: string | null;
  detail: string | null;
  operator: string;
  createdAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  updatedAt: Date;
}

export type NewPaymentLink = Omit<
  PaymentLink,
  'status' | 'late' | 'payer' | 'paidAmount' | 'raw' | 'detail' | 'paidAt' | 'updatedAt'
>;

export interface LinkSettlement {
  status: 'paid' | 'needs_review';
  late: boolean;
  payer: Record<string, string> | null;
  paidAmount: number | null;
  raw: string;
  detail: string | null;
  at: Date;
}

export interface OperationsStore {
  /** Starts an operation (the audit row), atomically with its guard and its idempotency key. */
  beginOperation(operation: NewOperation, guard?: OperationGuard): Promise<BeginOperation>;
  /**
   * Records the gateway's answer on a pending or unknown operation (a finished one stays as it is; with
   * `expect`, only under that condition). A refund, void or capture whose state changes queues the
   * merchant's notice ({@link OperationEvent}) in the same transaction.
   */
  finishOperation(
    id: string,
    outcome: OperationOutcome,
    at: Date,
    expect?: OperationExpectation,
  ): Promise<Operation>;
  /** unknown → pending, to send the same request again: null when it is not unknown any more. */
  claimOperation(id: string, at: Date): Promise<Operation | null>;
  /**
   * Refunds, voids and captures whose outcome is unknown and due for a check at `now`, and those still
   * `pending` since before `staleBefore` (their process stopped mid-call), oldest first.
   */
  listUnsettledOperations(now: Date, staleBefore: Date, limit: number): Promise<Operation[]>;
  /** Records an unanswered (or inconclusive) check of an unknown operation, and when to ask again. */
  scheduleOperationCheck(id: string, checkCount: number, nextCheckAt: Date): Promise<void>;
  getOperation(id: string): Promise<Operation | null>;
  /** Newest first. */
  listOperations(filter: { sessionId?: string; limit: number }): Promise<Operation[]>;

  /** Replaces a session's plan (e.g. adds the QR payload the gateway returned). */
  setSessionPlan(sessionId: string, plan: SessionPlan): Promise<void>;
  /** Sessions of an order, newest first. */
  listSessionsByOrder(orderRef: string): Promise<Session[]>;
  /** Newest sessions first, optionally of one status. */
  listRecentSessions(limit: number, status?: string): Promise<Session[]>;

  /** Saves a card once per token (the digest is unique): returns the stored one and whether it is new. */
  saveCard(card: NewSavedCard): Promise<{ card: SavedCard; created: boolean }>;
  /** The customer's cards that are not deleted, oldest first. */
  listCards(customerRef: string): Promise<SavedCard[]>;
  /** A card of this customer (another customer's card is null, as an unknown one is). */
  getCard(customerRef: string, id: string): Promise<SavedCard | null>;
  /** Marks the customer's card deleted; false when it is not theirs or already deleted. */
  deleteCard(customerRef: string, id: string, at: Date): Promise<boolean>;

  createLink(link: NewPaymentLink): Promise<PaymentLink>;
  getLink(orderNo: string): Promise<PaymentLink | null>;
  /** Newest first. */
  listLinks(limit: number): Promise<PaymentLink[]>;
  /** open → paid | needs_review, once: `changed` false means it was settled before. */
  settleLink(
    orderNo: string,
    settlement: LinkSettlement,
  ): Promise<{ changed: boolean; link: PaymentLink | null }>;
}
