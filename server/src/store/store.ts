/**
 * The signer's durable state behind one interface, with two adapters (SQLite by default, PostgreSQL for
 * several instances). Every state change is one atomic conditional write: a concurrent loser changes nothing
 * and learns the current row, so duplicates and races resolve to exactly one effect (docs/reliability.md §2).
 *
 * The records are declared in `types.ts` and `operation-types.ts`; this module re-exports them.
 */

import type { OperationsStore } from './operations.js';
import type {
  IdempotencyBegin,
  NewSession,
  Order,
  OutboxItem,
  PaymentEvent,
  ReportSettlement,
  Session,
  SessionFacts,
  Transition,
  TransitionResult,
} from './types.js';

export * from './types.js';
export type * from './operations.js';

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
   * take a payment, or may have taken one whose IPN has not come: they have a gateway transaction and a page,
   * and expire after `expiresAfter`.
   */
  findEndedWithPage(orderRef: string, expiresAfter: Date): Promise<Session[]>;
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
   * stored as `duplicate`. A change is published to subscribers (as `publish` does) once committed, never
   * before: PostgreSQL sends the NOTIFY right after the commit, batched (store/postgres/notify.ts).
   */
  transition(id: string, transition: Transition, event?: PaymentEvent): Promise<TransitionResult>;
  /**
   * A verified report's settlement: looks up the session with `gatewayOrderId` (null, and nothing written,
   * when there is none), asks `settlement` what the report calls for given the facts it decides on (pure and
   * synchronous: it may run more than once), and applies that transition as `transition` does, or stores the
   * event alone; answers with the whole session as it then is. SQLite does all of it in one write
   * transaction, reading only those facts unless nothing moves; PostgreSQL looks up, then transitions, each
   * batched per turn.
   */
  settleReport(
    gatewayOrderId: string,
    settlement: (session: SessionFacts) => ReportSettlement,
  ): Promise<TransitionResult | null>;

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
