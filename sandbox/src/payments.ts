/**
 * Finishing a payment: the state change, the signed callbacks, the browser redirect and the IPN(s),
 * with the flow faults of the order applied (duplicates, lateness, reordering, tampering).
 */

import {
  ApiOperation,
  PaymentMethod,
  ResponseCode,
  signText,
  type CallbackEnvelope,
  type CardAccount,
  type TransactionCallback,
  type TransactionCallbackData,
} from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';
import { mergeFaults, type FaultPlan } from './faults.js';
import { statusCodeOf, type Transaction } from './ledger.js';

/** How the shopper (or a test through `/__sandbox/`) ended the payment. */
export type Outcome =
  | {
      result: 'success';
      account?: CardAccount;
      /** Full test-card number, kept only to back a saved token. */
      cardNumber?: string;
      paymentMethod?: string;
      sourceType?: string;
    }
  | {
      result: 'failure';
      code: string;
      message: string;
      account?: CardAccount;
      paymentMethod?: string;
      sourceType?: string;
    }
  | { result: 'cancel' };

/** A test card's answer: approved, or declined as `505`. */
export function cardOutcome(
  txn: Transaction,
  cardNumber: string,
  outcome: 'approve' | 'decline',
): Outcome {
  return outcome === 'approve'
    ? {
        result: 'success',
        account: txn.account,
        cardNumber,
        paymentMethod: txn.paymentMethod,
        sourceType: txn.sourceType,
      }
    : {
        result: 'failure',
        code: '505',
        message: 'Authentication Failure: card declined',
        account: txn.account,
        paymentMethod: txn.paymentMethod,
        sourceType: txn.sourceType,
      };
}

/** Where the browser goes next, with what. */
export interface BrowserCallback {
  kind: 'success' | 'failure' | 'cancel';
  method: 'GET' | 'POST';
  url: string;
  envelope: CallbackEnvelope;
  /** The URL a GET redirect goes to (with `data` and `signature` in the query). */
  location: string;
}

/** The finish of a payment: the browser's next step, and the IPN deliveries under way. */
export interface Finish {
  callback?: BrowserCallback;
  ipnFirstAttempt: Promise<unknown>;
  ipnSettled: Promise<unknown>;
}

export class PaymentFinishedError extends Error {
  override readonly name = 'PaymentFinishedError';
}

/** The faults in force for a transaction: the global ones, then its own. */
export function faultsFor(ctx: SandboxContext, txn: Transaction): FaultPlan {
  return mergeFaults(ctx.globalFaults, txn.faults);
}

/** Marks a processing transaction expired once its page has outlived the TTL (checked lazily). */
export function expireIfStale(ctx: SandboxContext, txn: Transaction): void {
  const age = ctx.options.now().getTime() - txn.createdAt.getTime();
  if (txn.state === 'processing' && age > ctx.options.transactionTtlMs) {
    txn.state = 'expired';
    txn.resultCode = ResponseCode.Expired;
    txn.resultMessage = 'Transaction Expired';
    // It expired when the TTL ran out, not when somebody happened to look.
    txn.completedAt = new Date(txn.createdAt.getTime() + ctx.options.transactionTtlMs);
  }
}

/**
 * Ends a processing payment. Throws `PaymentFinishedError` if it already ended: a hosted page can be
 * submitted twice, the gateway acts once.
 */
export function finishPayment(ctx: SandboxContext, txn: Transaction, outcome: Outcome): Finish {
  expireIfStale(ctx, txn);
  if (txn.state !== 'processing') {
    throw new PaymentFinishedError(`transaction ${txn.transactionID} is already ${txn.state}`);
  }
  const faults = faultsFor(ctx, txn);
  applyOutcome(ctx, txn, outcome, faults);

  const kind = outcome.result;
  const payload = callbackPayload(ctx, txn, faults);
  const browserEnvelope = encodeWithFaults(ctx, payload, faults, { forBrowser: true });
  const callback = browserCallback(ctx, txn, kind, browserEnvelope, faults);
  if (callback) txn.callbacks.push({ kind, envelope: browserEnvelope });

  const { firstAttempt, settled } = sendIpns(ctx, txn, payload, faults);
  return { callback, ipnFirstAttempt: firstAttempt, ipnSettled: settled };
}

function applyOutcome(ctx: SandboxContext, txn: Transaction, outcome: Outcome, faults: FaultPlan) {
  txn.completedAt = ctx.options.now();
  if (outcome.result === 'cancel') {
    txn.state = 'cancelled';
    txn.resultCode = ResponseCode.CancelledByCustomer;
    txn.resultMessage = 'Canceled by user';
    return;
  }
  txn.paymentMethod = outcome.paymentMethod ?? txn.paymentMethod;
  txn.sourceType = outcome.sourceType ?? txn.sourceType;
  txn.account = outcome.account ?? txn.account;
  if (outcome.result === 'failure') {
    txn.state = 'failed';
    txn.resultCode = outcome.code;
    txn.resultMessage = outcome.message;
    return;
  }
  const authorizeOnly =
    faults.statusAuthorized ||
    (txn.data.isAutoCapture === 'false' && txn.paymentMethod === PaymentMethod.International);
  txn.state = authorizeOnly ? 'authorized' : 'captured';
  txn.capturedAmount = authorizeOnly ? 0 : txn.amount;
  txn.resultCode = ResponseCode.Success;
  txn.resultMessage = authorizeOnly ? 'Transaction is authorized.' : 'Transaction is successful.';
  if (
    txn.apiOperation === ApiOperation.PayWithCreateToken &&
    outcome.account &&
    outcome.cardNumber
  ) {
    const token = ctx.ledger.newToken();
    ctx.ledger.tokens.set(token, {
      ...outcome.account,
      token,
      tokenID: ctx.ledger.newTokenId(),
      paymentMethod: txn.paymentMethod ?? PaymentMethod.International,
      cardNumber: outcome.cardNumber,
      customerToken:
        typeof txn.data.customerToken === 'string' ? txn.data.customerToken : undefined,
      createdAt: ctx.options.now(),
    });
    txn.issuedToken = token;
  }
}

/** The decoded callback, values as strings as the gateway sends them. */
export function callbackPayload(
  ctx: SandboxContext,
  txn: Transaction,
  faults: FaultPlan,
  override?: { code: string; message: string },
): TransactionCallback {
  const str = (value: unknown) =>
    value === undefined || value === null ? undefined : String(value);
  const code = override?.code ?? txn.resultCode;
  const data: TransactionCallbackData = {
    transactionID: txn.transactionID,
    transactionDateTime: ctx.clock.now(),
    orderID: txn.orderID,
    orderNumber: str(txn.data.orderNumber),
    orderAmount: String(txn.amount + (faults.amountDelta ?? 0)),
    orderCurrency: faults.currency ?? txn.currency,
    orderDateTime: str(txn.data.orderDateTime),
    orderDescription: str(txn.data.orderDescription),
    language: str(txn.data.language),
  };
  if (String(txn.data.apiVersion ?? '') === '2') {
    // apiVersion 2 adds these (§8.1); the result code of an authorization is not final.
    data.transactionStatus = override?.code ?? statusCodeOf(txn);
    data.transactionDescription = override?.message ?? txn.resultMessage;
    data.paymentMethod = txn.paymentMethod;
    data.sourceType = txn.sourceType ?? '';
  }
  return {
    requestID: txn.requestID,
    responseDateTime: ctx.clock.now(),
    responseCode: code,
    responseMessage: override?.message ?? txn.resultMessage,
    responseData: data,
  };
}

/** Signs a payload as the gateway does, applying the encoding faults. */
export function encodeWithFaults(
  ctx: SandboxContext,
  payload: TransactionCallback,
  faults: FaultPlan,
  { forBrowser }: { forBrowser: boolean },
): CallbackEnvelope {
  let text = JSON.stringify(payload);
  if (faults.protoPollution) {
    text = text.replace(
      '"responseData":{',
      '"responseData":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},',
    );
  }
  if (forBrowser && faults.plusUnencoded) {
    // Pad until the base64 text holds a '+', which an unencoded query string turns into a space.
    // In ASCII only '>' or '~' as the third byte of a 3-byte group encodes to '+'. Pad with '~':
    // one of three in a row always lands there. ('?' never does: the loop never ended.)
    for (let pad = 0; !toBase64(text).includes('+'); pad++) {
      text = JSON.stringify({ ...payload, pad: '~'.repeat(pad) });
    }
  }
  const data = toBase64(text);
  return { data, signature: signText(data, ctx.options.salt) };
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function browserCallback(
  ctx: SandboxContext,
  txn: Transaction,
  kind: 'success' | 'failure' | 'cancel',
  envelope: CallbackEnvelope,
  faults: FaultPlan,
): BrowserCallback | undefined {
  const field = kind === 'success' ? 'successURL' : kind === 'failure' ? 'failureURL' : 'cancelURL';
  const url = urlFor(ctx, txn, field);
  if (!url) return undefined;
  const method = faults.callbackMethod ?? ctx.options.callbackMethod;
  const separator = url.includes('?') ? '&' : '?';
  const data = faults.plusUnencoded
    ? envelope.data // raw '+': the fault under test
    : encodeURIComponent(envelope.data);
  const location = `${url}${separator}data=${data}&signature=${envelope.signature}`;
  return { kind, method, url, envelope, location };
}

/**
 * A callback URL from the request, else the merchant's configured one. With `checkoutCallbackUrls: 'ignore'`
 * a checkout's own URLs are not used (its table lists none; ledger C1–C3).
 */
export function urlFor(
  ctx: SandboxContext,
  txn: Transaction,
  field: 'successURL' | 'failureURL' | 'cancelURL' | 'ipnURL',
): string | undefined {
  const ignored = txn.kind === 'checkout' && ctx.options.checkoutCallbackUrls === 'ignore';
  const fromRequest = ignored ? undefined : txn.data[field];
  if (typeof fromRequest === 'string' && fromRequest !== '') return fromRequest;
  return ctx.options.merchantUrls?.[field];
}

function sendIpns(
  ctx: SandboxContext,
  txn: Transaction,
  payload: TransactionCallback,
  faults: FaultPlan,
): { firstAttempt: Promise<unknown>; settled: Promise<unknown> } {
  const url = urlFor(ctx, txn, 'ipnURL');
  if (!url || faults.noIpn) return { firstAttempt: Promise.resolve(), settled: Promise.resolve() };
  const ipnPayload: TransactionCallback = structuredClone(payload);
  if (txn.issuedToken) {
    const saved = ctx.ledger.tokens.get(txn.issuedToken)!;
    ipnPayload.responseData.tokenization = {
      accountBrand: saved.accountBrand,
      accountSource: saved.accountSource,
      accountNumber: saved.accountNumber,
      accountName: saved.accountName,
      token: saved.token,
      status: ResponseCode.Success,
      message: 'Success',
    };
  }
  const delayMs = (faults.lateIpnSeconds ?? 0) * 1000;
  const deliver = (p: TransactionCallback) =>
    ctx.ipn.deliver({
      url,
      envelope: encodeWithFaults(ctx, p, faults, { forBrowser: false }),
      transactionID: txn.transactionID,
      delayMs,
    });

  const run = async (onFirst: (value: unknown) => void) => {
    if (faults.failThenSuccess && txn.state !== 'cancelled') {
      // The shopper failed once inside the hosted page, then paid: two IPNs for one transaction.
      const failure = callbackPayload(ctx, txn, faults, {
        code: ResponseCode.AuthenticationFailure,
        message: 'Authentication Failure',
      });
      const first = deliver(failure);
      void first.firstAttempt.then(onFirst);
      await first.settled;
    }
    const copies = faults.ipnCopies ?? 1;
    // Half the copies race each other; the rest follow one by one.
    const parallel = Array.from({ length: Math.ceil(copies / 2) }, () => deliver(ipnPayload));
    void parallel[0]!.firstAttempt.then(onFirst);
    await Promise.all(parallel.map(d => d.settled));
    for (let i = parallel.length; i < copies; i++) await deliver(ipnPayload).settled;
  };
  let onFirst: (value: unknown) => void = () => {};
  const firstAttempt = new Promise(resolve => (onFirst = resolve));
  const settled = run(onFirst);
  return { firstAttempt, settled };
}

/** The `transactionStatus` that query reports for a transaction right now. */
export function currentStatus(ctx: SandboxContext, txn: Transaction): string {
  expireIfStale(ctx, txn);
  return statusCodeOf(txn);
}
