/** The session state machine, what a transition writes, and the notice it queues for the merchant. */

import {
  OPEN_STATUSES,
  type CancelReason,
  type OutboxEvent,
  type PaymentEvent,
  type Session,
  type SessionStatus,
  type Transition,
} from './types.js';

/** Final statuses that a verified success may still overturn, flagged as a late success (rule 6). */
export const LATE_SUCCESS_FROM: readonly SessionStatus[] = ['failed', 'cancelled', 'expired'];

/** The statuses each transition may start from (docs/reliability.md §2); `paid` is in none of them. */
export const ALLOWED_FROM: Readonly<Record<Transition['to'], readonly SessionStatus[]>> = {
  // authorized → paid is a capture, not a late success (authorized is not in LATE_SUCCESS_FROM).
  paid: [...OPEN_STATUSES, ...LATE_SUCCESS_FROM, 'authorized'],
  // Not from authorized: money is held on the card, and a failure report after it is stale (an IPN that
  // arrived out of order). Only a capture, a void or a person ends an authorization.
  failed: OPEN_STATUSES,
  cancelled: OPEN_STATUSES,
  expired: OPEN_STATUSES,
  needs_review: [...OPEN_STATUSES, ...LATE_SUCCESS_FROM, 'authorized'],
  // A late authorization (after a cancel or an expiry) holds money on the card: it is recorded, flagged.
  authorized: [...OPEN_STATUSES, ...LATE_SUCCESS_FROM],
  voided: [...OPEN_STATUSES, 'authorized'],
};

/** The column values one transition writes; `null` keeps what is stored. */
export interface TransitionChanges {
  status: SessionStatus;
  /** Set `late_success` when the row currently is in one of {@link LATE_SUCCESS_FROM}. */
  flagLateSuccess: boolean;
  /** Only written where the row has none yet: a transaction id is never overwritten. */
  transactionId: string | null;
  code: string | null;
  message: string | null;
  paymentMethod: string | null;
  sourceType: string | null;
  cancelReason: CancelReason | null;
  paidAt: Date | null;
  at: Date;
}

function carriesMethod(transition: Transition): boolean {
  return transition.to === 'paid' || transition.to === 'authorized';
}

/** What a transition writes to the session row. */
export function transitionChanges(transition: Transition): TransitionChanges {
  const evidence = 'evidence' in transition ? transition.evidence : null;
  return {
    status: transition.to,
    flagLateSuccess: transition.to === 'paid' || transition.to === 'authorized',
    transactionId: evidence?.transactionId ?? null,
    code: evidence?.code ?? null,
    message: evidence?.message ?? null,
    paymentMethod: carriesMethod(transition) ? (evidence?.paymentMethod ?? null) : null,
    sourceType: carriesMethod(transition) ? (evidence?.sourceType ?? null) : null,
    cancelReason: transition.to === 'cancelled' ? transition.reason : null,
    paidAt: transition.to === 'paid' ? transition.at : null,
    at: transition.at,
  };
}

/** What every notice about a session tells the merchant: the session as the change left it. */
export interface SessionNotice<E extends string> {
  event: E;
  sessionId: string;
  orderRef: string;
  amount: number;
  currency: string;
  status: SessionStatus;
  transactionId: string | null;
  code: string | null;
  message: string | null;
  lateSuccess: boolean;
  /** ISO 8601. */
  at: string;
}

/** The notice's fields, in the order the payload text has them. */
export function sessionNotice<E extends string>(
  event: E,
  session: Session,
  at: Date,
): SessionNotice<E> {
  return {
    event,
    sessionId: session.id,
    orderRef: session.orderRef,
    amount: session.amount,
    currency: session.currency,
    status: session.status,
    transactionId: session.transactionId,
    code: session.code,
    message: session.message,
    lateSuccess: session.lateSuccess,
    at: at.toISOString(),
  };
}

/** The JSON document an outbox row carries to the merchant: fixed when the transition commits. */
export interface OutboxPayload extends SessionNotice<OutboxEvent> {
  /** Why the session needs review; only on `needs_review`. */
  detail?: string;
}

/** Builds the outbox payload text from the row the transition just wrote. */
export function outboxPayload(session: Session, transition: Transition): string {
  const payload: OutboxPayload = {
    ...sessionNotice(transition.to, session, transition.at),
    ...(transition.to === 'needs_review' ? { detail: transition.detail } : {}),
  };
  return JSON.stringify(payload);
}

/** The event as stored with a transition: an `applied` verdict that changed nothing is a duplicate. */
export function eventAsRecorded(event: PaymentEvent, changed: boolean): PaymentEvent {
  return !changed && event.verdict === 'applied' ? { ...event, verdict: 'duplicate' } : event;
}
