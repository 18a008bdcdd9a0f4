/**
 * Turning verified gateway evidence (an IPN, or a Query Transaction answer) into at most one state change.
 * Browser redirects never come here directly: they only make the signer ask the gateway (RELIABILITY rule 4).
 */

import {
  classifyTransactionStatus,
  numericText,
  type QueryResponseData,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import type { Logger } from '../logger.js';
import {
  FINAL_STATUSES,
  type Evidence,
  type EvidenceKind,
  type PaymentEvent,
  type ReportSettlement,
  type Session,
  type SessionFacts,
  type Store,
  type Transition,
} from '../store/store.js';

/**
 * The one failure Galaxy Pay's guides document as a payment's result (3.6.1 §1.5: 505 Authentication
 * Failure, 3DS). 400, 401 and 409 in the same table are answers to an API call (bad request, bad key,
 * duplicate request), not what became of a payment: read as a transaction status they would be a guess.
 * Every other code keeps the session open and is asked about again (issue 11 §8): only evidence settles.
 */
const DOCUMENTED_FAILURES = new Set(['505']);

/** What the gateway said about one transaction, from a callback or a query. */
export interface GatewayReport {
  kind: EvidenceKind;
  /** The raw text received (callback `data`, or the query response body): stored as is. */
  raw: string;
  orderId: string;
  transactionId: string;
  amount: string;
  currency: string;
  /** The call's or callback's `responseCode`. */
  responseCode: string;
  /** `transactionStatus` (apiVersion 2 callbacks, query); absent in apiVersion 1 callbacks. */
  transactionStatus: string | undefined;
  message: string;
  paymentMethod?: string;
  sourceType?: string;
}

/** The outcome of applying a report, and how to answer an IPN about it. */
export interface SettleResult {
  session: Session | null;
  changed: boolean;
  ipnStatus: '200' | '404' | '409';
  description: string;
}

export interface SettleDeps {
  store: Store;
  logger: Logger;
  now: () => Date;
}

/** A report from a verified transaction callback (IPN, result, cancel). */
export function reportFromCallback(
  kind: EvidenceKind,
  raw: string,
  payload: TransactionCallback,
): GatewayReport {
  const data = payload.responseData;
  return {
    kind,
    raw,
    orderId: String(data.orderID),
    transactionId: String(data.transactionID),
    amount: String(data.orderAmount),
    currency: String(data.orderCurrency),
    responseCode: String(payload.responseCode),
    transactionStatus:
      data.transactionStatus === undefined ? undefined : String(data.transactionStatus),
    message: String(data.transactionDescription ?? payload.responseMessage ?? ''),
    paymentMethod: data.paymentMethod,
    sourceType: data.sourceType,
  };
}

/** A report from a verified Query Transaction answer. */
export function reportFromQuery(raw: string, data: QueryResponseData): GatewayReport {
  return {
    kind: 'query',
    raw,
    orderId: String(data.orderID),
    transactionId: String(data.transactionID),
    amount: String(data.orderAmount),
    currency: String(data.orderCurrency),
    // The query call itself succeeded; the payment's result is transactionStatus.
    responseCode: String(data.transactionStatus),
    transactionStatus: String(data.transactionStatus),
    message: String(data.transactionDescription ?? ''),
    paymentMethod: data.paymentMethod,
    sourceType: data.sourceType,
  };
}

type Decision =
  | { kind: 'transition'; transition: Transition }
  | { kind: 'none'; why: string; undocumented?: boolean };

/** What a report asks for, given the session it matches. Pure. */
export function decide(session: SessionFacts, report: GatewayReport, at: Date): Decision {
  const evidence: Evidence = {
    kind: report.kind,
    transactionId: report.transactionId,
    code: report.transactionStatus ?? report.responseCode,
    message: report.message.slice(0, 250),
    paymentMethod: report.paymentMethod ?? null,
    sourceType: report.sourceType ?? null,
  };
  const mismatch = disagreement(session, report);
  if (mismatch)
    return {
      kind: 'transition',
      transition: { to: 'needs_review', evidence, detail: mismatch, at },
    };

  // Paid only when every code present says 200 (T17): an authorization or an odd pair is not a payment.
  const codes = [report.responseCode, report.transactionStatus].filter(c => c !== undefined);
  const outcomes = codes.map(classifyTransactionStatus);
  if (outcomes.every(o => o === 'paid'))
    return { kind: 'transition', transition: { to: 'paid', evidence, at } };
  const outcome = classifyTransactionStatus(report.transactionStatus ?? report.responseCode);
  switch (outcome) {
    case 'paid':
      // transactionStatus 200 with another responseCode: contradictory.
      return review(evidence, `responseCode ${report.responseCode} with transactionStatus 200`, at);
    case 'cancelled':
      return {
        kind: 'transition',
        transition: { to: 'cancelled', reason: 'gateway', evidence, at },
      };
    case 'expired':
      return { kind: 'transition', transition: { to: 'expired', at } };
    case 'failed':
      return DOCUMENTED_FAILURES.has(evidence.code)
        ? { kind: 'transition', transition: { to: 'failed', evidence, at } }
        : {
            kind: 'none',
            why: `undocumented result code ${evidence.code.slice(0, 12)}; will query again`,
            undocumented: true,
          };
    case 'authorized':
      // Money is held on the card either way. With manual capture the merchant decides; with auto capture
      // the background pass captures or voids it (UNEXPECTED_AUTHORIZATION), so it is never left held.
      // Never `paid` (T17): an authorization is not a capture.
      return session.status === 'paid'
        ? { kind: 'none', why: 'an authorization of a payment already captured' }
        : { kind: 'transition', transition: { to: 'authorized', evidence, at } };
    case 'pending':
      return { kind: 'none', why: `not final (${outcome})` };
    case 'voided':
      // An authorization (manual capture, or one auto capture did not ask for) voided: no money moved.
      return session.plan?.capture === 'manual' || session.status === 'authorized'
        ? { kind: 'transition', transition: { to: 'voided', evidence, at } }
        : { kind: 'transition', transition: { to: 'failed', evidence, at } };
    case 'unknown':
      // 502–504: the provider had a problem; the reconciler asks again later.
      return { kind: 'none', why: `result unknown (${evidence.code}); will query again` };
  }
}

/** Sessions already warned about an undocumented code (bounded: a warning is a hint, not a record). */
const warnedUndocumented = new Set<string>();

/** Logs an undocumented result code once per session and code: the sweep asks again and again. */
function warnOnce(logger: Logger, sessionId: string, report: GatewayReport, why: string): void {
  const key = `${sessionId}:${report.transactionStatus ?? report.responseCode}`;
  if (warnedUndocumented.has(key)) return;
  if (warnedUndocumented.size >= 10_000) warnedUndocumented.clear();
  warnedUndocumented.add(key);
  logger.warn({ sessionId, kind: report.kind }, `verified message with an ${why}`);
}

function review(evidence: Evidence, detail: string, at: Date): Decision {
  return { kind: 'transition', transition: { to: 'needs_review', evidence, detail, at } };
}

/** Why a verified report cannot be about this session's money, or undefined if it agrees. */
function disagreement(session: SessionFacts, report: GatewayReport): string | undefined {
  const amount = numericText(report.amount);
  if (amount === undefined || Number(amount) !== session.amount) {
    return `amount ${report.amount} differs from the order's ${session.amount}`;
  }
  if (report.currency !== session.currency) {
    return `currency ${report.currency} differs from the order's ${session.currency}`;
  }
  if (session.transactionId !== null && session.transactionId !== report.transactionId) {
    return `transaction ${report.transactionId} differs from the session's ${session.transactionId}`;
  }
  return undefined;
}

/** Options of `settle`. */
export interface SettleOptions {
  /**
   * Asked when no session has the report's `orderID`, before it is recorded as an unknown order: an answer
   * ends `settle` with it (a payment-link IPN in the transaction shape, operations/links.ts). Never asked
   * otherwise, so a session's IPN costs no extra lookup.
   */
  otherwise?: () => Promise<SettleResult | undefined>;
}

/**
 * Applies a verified report: one atomic transition (or none) with the raw evidence stored alongside (the
 * store publishes the change once committed). The IPN answer follows docs/reliability.md §3.
 */
export async function settle(
  deps: SettleDeps,
  report: GatewayReport,
  options: SettleOptions = {},
): Promise<SettleResult> {
  const at = deps.now();
  const event = (
    session: SessionFacts | null,
    verdict: PaymentEvent['verdict'],
    detail: string | null,
  ): PaymentEvent => ({
    sessionId: session?.id ?? null,
    kind: report.kind,
    transactionId: report.transactionId,
    raw: report.raw,
    verified: true,
    verdict,
    detail,
    receivedAt: at,
  });
  // Decided inside the store's transaction (pure, so it may run twice); read back here for the answer.
  const decided: { decision?: Decision } = {};
  const settlement = (session: SessionFacts): ReportSettlement => {
    const decision = decide(session, report, at);
    decided.decision = decision;
    if (decision.kind === 'none') return { event: event(session, 'ignored', decision.why) };
    const { transition } = decision;
    const reviewing = transition.to === 'needs_review';
    return {
      transition,
      event: event(
        session,
        reviewing ? 'needs_review' : 'applied',
        reviewing ? transition.detail : null,
      ),
    };
  };
  const result = await deps.store.settleReport(report.orderId, settlement);
  const { decision } = decided;
  if (result === null || decision === undefined) {
    const handled = await options.otherwise?.();
    if (handled) return handled;
    await deps.store.recordEvent(
      event(null, 'unknown_order', `no session for orderID ${report.orderId.slice(0, 60)}`),
    );
    deps.logger.warn(
      { kind: report.kind, transactionId: report.transactionId },
      'verified callback for an unknown order',
    );
    return { session: null, changed: false, ipnStatus: '404', description: 'order not found' };
  }
  const { session } = result;
  if (decision.kind === 'none') {
    if (decision.undocumented) warnOnce(deps.logger, session.id, report, decision.why);
    // A message that cannot change a final order is "already completed" (docs/reliability.md §3).
    const final = FINAL_STATUSES.includes(session.status);
    return {
      session,
      changed: false,
      ipnStatus: final ? '409' : '200',
      description: final ? `already ${session.status}` : decision.why,
    };
  }
  const { transition } = decision;
  if (transition.to === 'needs_review') {
    deps.logger.warn(
      { sessionId: session.id, detail: transition.detail },
      'verified message disagrees with the order',
    );
  }
  if (!result.changed) {
    return {
      session,
      changed: false,
      ipnStatus: '409',
      description: `already ${session.status}`,
    };
  }
  if (session.lateSuccess && transition.to === 'paid') {
    deps.logger.warn({ sessionId: session.id }, 'late success: paid after the session had ended');
  }
  return { session, changed: true, ipnStatus: '200', description: `now ${session.status}` };
}
