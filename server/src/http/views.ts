/**
 * What each JSON answer shows of a stored row: the widget's view of a session (verified status, no secrets,
 * no nonce), the back office's views of payments, operations, payment links and saved cards. Never a token,
 * a signature or raw gateway text (that stays in the store for audit).
 */

import { balanceOf, UNKNOWN_NOTE } from '../operations/common.js';
import type { Operation, PaymentLink, SavedCard, Session, Store } from '../store/store.js';

/** What the widget may know about a session: verified status, no secrets, no nonce. */
export function sessionView(session: Session) {
  return {
    sessionId: session.id,
    status: session.status,
    orderRef: session.orderRef,
    amount: session.amount,
    currency: session.currency,
    transactionId: session.transactionId,
    code: session.code,
    message: session.message,
    cancelReason: session.cancelReason,
    lateSuccess: session.lateSuccess,
    paidAt: session.paidAt?.toISOString() ?? null,
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** The widget's view of a session, plus what only the back office sees (the CLI's UPDATED column). */
export function adminSessionView(session: Session) {
  return {
    ...sessionView(session),
    updatedAt: session.updatedAt.toISOString(),
    plan: planView(session),
  };
}

function planView(session: Session) {
  const plan = session.plan;
  if (!plan) return null;
  return {
    op: plan.op ?? null,
    capture: plan.capture ?? 'auto',
    customerRef: plan.customerRef ?? null,
  };
}

/** A payment as the admin API shows it: the session, its balance, and what is still in doubt. */
export async function paymentView(deps: { store: Store }, session: Session) {
  const operations = await deps.store.listOperations({ sessionId: session.id, limit: 1000 });
  // Refunds, voids and captures the gateway has not settled yet: neither done nor failed (UNKNOWN_NOTE).
  const unknown = operations.filter(op => op.state === 'unknown');
  return {
    ...adminSessionView(session),
    ...balanceOf(session, operations),
    outcomeUnknown: unknown.map(op => ({
      operationId: op.id,
      kind: op.kind,
      amount: op.amount,
      since: op.updatedAt.toISOString(),
      nextCheckAt: op.nextCheckAt?.toISOString() ?? null,
    })),
    ...(unknown.length > 0 ? { outcomeUnknownNote: UNKNOWN_NOTE } : {}),
  };
}

/** The JSON an operation is shown as: never the raw gateway text, which stays in the store for audit. */
export function operationView(op: Operation) {
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    amount: op.amount,
    operator: op.operator,
    sessionId: op.sessionId,
    idempotencyKey: op.idempotencyKey,
    gatewayRequestId: op.gatewayRequestId,
    gatewayRef: op.gatewayRef,
    responseCode: op.responseCode,
    responseMessage: op.responseMessage,
    detail: op.detail,
    createdAt: op.createdAt.toISOString(),
    updatedAt: op.updatedAt.toISOString(),
    ...(op.state === 'unknown'
      ? {
          note: UNKNOWN_NOTE,
          checks: op.checkCount,
          nextCheckAt: op.nextCheckAt?.toISOString() ?? null,
        }
      : {}),
  };
}

/** What the admin API shows of a link; `status` says `expired` for an open link past its expiry. */
export function linkView(link: PaymentLink, now: Date) {
  const expired = link.status === 'open' && link.expiresAt <= now;
  return {
    orderNo: link.orderNo,
    linkRef: link.linkRef,
    name: link.name,
    description: link.description,
    amount: link.amount,
    currency: link.currency,
    methods: link.methods,
    fields: link.fields,
    shortLink: link.shortLink,
    status: expired ? 'expired' : link.status,
    late: link.late,
    payer: link.payer,
    paidAmount: link.paidAmount,
    detail: link.detail,
    operator: link.operator,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
    paidAt: link.paidAt?.toISOString() ?? null,
  };
}

/** What the widget and the admin API may know about a card: never the token. */
export function cardView(card: SavedCard) {
  return {
    tokenId: card.id,
    paymentMethod: card.paymentMethod,
    brand: card.brand,
    source: card.source,
    maskedNumber: card.maskedNumber,
    holderName: card.holderName,
    createdAt: card.createdAt.toISOString(),
  };
}
