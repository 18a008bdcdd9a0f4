/**
 * The signer's durable state behind one interface, with two adapters (SQLite by default, PostgreSQL for
 * several instances). Every state change is one atomic conditional write: a concurrent loser changes nothing
 * and learns the current row, so duplicates and races resolve to exactly one effect (docs/reliability.md §2).
 */

import type { OperationEvent, OperationsStore } from './operations.js';

export type * from './operations.js';

/** Where a checkout session is. `pending_unknown`: the gateway call's outcome is unknown (timeout). */
export type SessionStatus =
  | 'pending'
  | 'pending_unknown'
  | 'paid'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'needs_review'
  /** Manual capture only: the card is authorized; the merchant captures or voids it. */
  | 'authorized'
  /** An authorization the merchant voided: no money moved. */
  | 'voided';

/** Statuses from which nothing moves on its own any more (only a late verified success may still arrive). */
export const FINAL_STATUSES: readonly SessionStatus[] = [
  'paid',
  'failed',
  'cancelled',
  'expired',
  'needs_review',
  'authorized',
  'voided',
];

/** Why a session was cancelled. */
export type CancelReason = 'user' | 'closed' | 'gateway' | 'timeout';

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
export type EvidenceKind = 'ipn' | 'result' | 'cancel' | 'query' | 'checkout' | 'operation';

/** The verdict stored with every callback attempt. */
export type EventVerdict =
  | 'applied'
  | 'duplicate'
  | 'needs_review'
  | 'unknown_order'
  | 'rejected_schema'
  | 'bad_signature'
  | 'malformed'
  | 'ignored';

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

/** Merchant-facing events delivered at least once through the outbox. */
export type OutboxEvent =
  'paid' | 'failed' | 'cancelled' | 'expired' | 'needs_review' | 'authorized' | 'voided';

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

/** How long a request may hold its Idempotency-Key in flight: far beyond the gateway call's deadline. */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** An idempotency record for `POST /sessions` (docs/reliability.md rule 7). */
export type IdempotencyBegin =
  | { state: 'started' }
  | { state: 'in_flight' }
  | { state: 'mismatch' }
  | { state: 'done'; status: number; body: string };

export interface Store extends OperationsStore {
  /** Creates or upgrades the schema; safe to run at every start and from several processes. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Saves a priced order. An existing orderRef keeps its amount and currency: returns what is stored. */
  putOrder(order: Order): Promise<Order>;
  getOrder(orderRef: string): Promise<Order | null>;

  /** Inserts a session in `pending`, before the gateway is called. */
  createSession(session: NewSession): Promise<Session>;
  getSession(id: string): Promise<Session | null>;
  getSessionByGatewayOrderId(gatewayOrderId: string): Promise<Session | null>;
  /** The open (pending or pending_unknown, not expired at `now`) session of an order, if any. */
  findOpenSession(orderRef: string, now: Date): Promise<Session | null>;
  /** The paid session of an order (or its authorized one, awaiting capture), if any. */
  findPaidSession(orderRef: string): Promise<Session | null>;
  /**
   * The order's newest sessions (at most 5) that ended cancelled or failed while their hosted page may still
   * take a payment: they have a gateway transaction and a page, and have not reached their expiry.
   */
  findEndedWithPage(orderRef: string, now: Date): Promise<Session[]>;
  /**
   * Sessions the shopper closed (or a failure report ended) whose hosted page may still take a payment: a
   * gateway transaction and a page, not ended by the gateway itself, expiring after `expiresAfter`, last
   * updated before `before`, and with their backoff (`nextCheckAt`) run out by `now`. Oldest first.
   */
  listEndedToWatch(before: Date, expiresAfter: Date, now: Date, limit: number): Promise<Session[]>;
  /**
   * cancelled|failed → pending, cancel reason cleared: the same gateway page is handed back to the browser
   * that opened it, instead of a second gateway transaction for the order. Throws `open_session_exists`
   * when the order has another open session.
   */
  reopenSession(id: string, at: Date): Promise<TransitionResult>;
  /**
   * Sessions still pending (or pending_unknown) that were last updated before `before`; with `now`, only
   * those whose backoff (`nextCheckAt`) has run out by then.
   */
  listStalePending(before: Date, limit: number, now?: Date): Promise<Session[]>;
  /** Records how many gateway questions went unanswered in a row, and when to ask again (null: reset). */
  scheduleCheck(id: string, failures: number, nextCheckAt: Date | null): Promise<void>;

  /**
   * Records the gateway's checkout answer. Sets the transaction id and checkout URL only if none is set
   * yet. The only status it changes is pending_unknown → pending (a retried call got its answer); a final
   * status stays (an IPN may have won the race: T26).
   */
  attachCheckout(
    id: string,
    checkout: { transactionId: string; checkoutUrl: string },
    at: Date,
  ): Promise<Session>;
  /** pending → pending_unknown (the checkout call timed out or failed ambiguously). */
  markPendingUnknown(id: string, at: Date): Promise<Session>;

  /**
   * Applies one transition atomically: the conditional status update, the outbox row (unique per session
   * and event) and, when given, the payment event — all committed together or not at all.
   *
   * Allowed: pending|pending_unknown → paid|failed|cancelled|expired|needs_review;
   * failed|cancelled|expired → paid (sets lateSuccess); failed|cancelled|expired → needs_review.
   * Never: paid → anything. The session's transactionId is set from the evidence if still null.
   * The event is stored whether or not the status changed; an `applied` verdict that changed nothing is
   * stored as `duplicate`. A change is published to subscribers (as `publish` does) once committed:
   * PostgreSQL sends the NOTIFY inside the transaction, so it leaves with the commit, not before.
   */
  transition(id: string, transition: Transition, event?: PaymentEvent): Promise<TransitionResult>;

  /**
   * Stores a callback attempt or query answer with its verdict (dead letters have no session). A verified one
   * is kept whole, for ever; an unverified one is cut to a prefix and kept only within the store's caps on
   * unverified evidence, the oldest deleted first (`store/evidence.ts`).
   */
  recordEvent(event: PaymentEvent): Promise<void>;
  listEvents(sessionId: string): Promise<PaymentEvent[]>;

  /** Outbox: items due at `now`, oldest first, claimed so no other worker takes them until `leaseUntil`. */
  claimOutbox(now: Date, leaseUntil: Date, limit: number): Promise<OutboxItem[]>;
  markOutboxDelivered(id: number, at: Date): Promise<void>;
  markOutboxFailed(id: number, error: string, retryAt: Date): Promise<void>;
  listOutbox(sessionId: string): Promise<OutboxItem[]>;

  /**
   * Starts an idempotent request: a new key is saved as in flight with the request's hash; a known key
   * reports its state. Keys older than `expiresBefore` are forgotten first, and so is a key still in flight
   * after `IDEMPOTENCY_LEASE_MS` (its request died with its process: it must not block retries for a day).
   */
  beginIdempotent(
    key: string,
    requestHash: string,
    now: Date,
    expiresBefore: Date,
  ): Promise<IdempotencyBegin>;
  /** Saves the response of a finished idempotent request for replay. */
  finishIdempotent(key: string, status: number, body: string): Promise<void>;
  /** Forgets an in-flight key whose request failed before producing a replayable answer. */
  abandonIdempotent(key: string): Promise<void>;

  /** Notifies every signer process that a session changed (in-process for SQLite, NOTIFY for PostgreSQL). */
  publish(sessionId: string): Promise<void>;
  /** Calls `listener` when any process publishes; returns the unsubscribe function. */
  subscribe(listener: (sessionId: string) => void): Promise<() => Promise<void>>;
}
