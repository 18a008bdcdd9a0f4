/**
 * The merchant-operations part of the store: the audit trail of every admin operation (query, refund,
 * void, capture, fast pay, token deletion, payment links), saved cards (the gateway token encrypted at
 * rest, only the masked number in clear), and payment links with their own IPN. Same rules as the rest of
 * the store: every state change is one atomic conditional write, both adapters pass one contract suite.
 */

import type {
  BeginOperation,
  LinkSettlement,
  NewOperation,
  NewPaymentLink,
  NewSavedCard,
  Operation,
  OperationExpectation,
  OperationGuard,
  OperationOutcome,
  PaymentLink,
  SavedCard,
} from './operation-types.js';
import type { Session, SessionPlan } from './types.js';

export * from './operation-types.js';

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
