/**
 * The records of the merchant-operations part of the store (see `operations.ts`): the audit trail of every
 * admin operation, saved cards and payment links. Each closed set of values is one list, from which its type
 * is derived, so the row mappers check stored values against the same list the type is made of.
 */

/** What an operator did. */
export const OPERATION_KINDS = [
  'query',
  'refund',
  'void',
  'capture',
  'fast_pay',
  'token_delete',
  'link_create',
  'reconcile',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/**
 * `pending`: the gateway is being called (a refund's amount is reserved meanwhile); `succeeded`: evidence
 * that it happened (the gateway's own success answer, or a query answer that shows it); `failed`: evidence
 * that it did not (a definite refusal of the first send, or a query answer that shows it did not happen);
 * `unknown`: neither (timeout, reset, 5xx, a reply we cannot trust) — the amount stays reserved, the signer
 * keeps asking the gateway, and a retry with the same Idempotency-Key sends the same request again.
 */
export const OPERATION_STATES = ['pending', 'succeeded', 'failed', 'unknown'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** Operations that still hold what they claimed (a refund's amount, a capture-or-void's session). */
export const LIVE_OPERATION_STATES = [
  'pending',
  'succeeded',
  'unknown',
] as const satisfies readonly OperationState[];

/** The operations that move money at the gateway: their outcome is settled by evidence only. */
export type MoneyOperationKind = 'refund' | 'void' | 'capture';

/**
 * What the merchant is told about a money operation (outbox, webhook, hooks), once per operation and
 * outcome. A void that succeeded is told by the session's own `voided` event (the session changes too).
 */
export const OPERATION_EVENTS = [
  'refunded',
  'refund_failed',
  'refund_unknown',
  'captured',
  'capture_failed',
  'capture_unknown',
  'void_failed',
  'void_unknown',
] as const;
export type OperationEvent = (typeof OPERATION_EVENTS)[number];

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

export const LINK_STATUSES = ['open', 'paid', 'needs_review'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

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
