/**
 * The transaction endpoints: the payments (checkout, pay, payWithOption, payWithQR) that open a transaction,
 * and query, refund, void and capture on one. api.ts has checked the call's signature, envelope and fields.
 */

import {
  ApiOperation,
  SourceOfFund,
  findTestCard,
  formatGatewayDateTime,
  numericText,
} from '@galaxy-pay/protocol';
import { cardAccount, checkCard } from './cards.js';
import type { SandboxContext } from './context.js';
import { mergeFaults } from './faults.js';
import { managementOrderIdRefusal } from './fidelity.js';
import type { Transaction, TransactionKind } from './ledger.js';
import { cardOutcome, currentStatus, finishPayment } from './payments.js';
import { vietQrPayload } from './qr.js';
import {
  ApiError,
  badRequest,
  duplicateOrderId,
  ok,
  type ApiCall,
  type Operation,
  type Reply,
} from './reply.js';
import { repeatedOrderIdAllowed } from './request-checks.js';

const ONE_YEAR_MS = 366 * 24 * 60 * 60 * 1000;

export function amountOf(value: unknown): number {
  return Number(numericText(value));
}

/** The operation of a payment endpoint: it opens a transaction of `kind`. */
export const payment =
  (kind: TransactionKind): Operation =>
  (ctx, call) =>
    createPayment(ctx, kind, call);

async function createPayment(
  ctx: SandboxContext,
  kind: TransactionKind,
  { request, data, faults }: ApiCall,
): Promise<Reply> {
  const orderID = String(data.orderID);
  if (ctx.ledger.orderIds.has(orderID) && !repeatedOrderIdAllowed(ctx, data)) {
    throw duplicateOrderId(orderID);
  }
  if (kind === 'payWithQR' && String(numericText(data.orderAmount)).length > 13) {
    // EMVCo's amount field (tag 54) holds at most 13 characters.
    throw badRequest('a QR amount has at most 13 digits', 'requestData.orderAmount');
  }
  const apiOperation = typeof data.apiOperation === 'string' ? data.apiOperation : ApiOperation.Pay;
  // Only pay takes sourceOfFund; elsewhere it is an unknown extra field (a checkout sending
  // sourceOfFund CARD without card fields worked in UAT, §7.7).
  const sourceOfFund = kind === 'pay' ? data.sourceOfFund : undefined;
  const byToken = sourceOfFund === SourceOfFund.Token;
  const saved = byToken ? ctx.ledger.tokens.get(String(data.token)) : undefined;
  if (byToken && !saved) throw badRequest('token is unknown or deleted', 'requestData.token');
  const hostedCard = sourceOfFund === SourceOfFund.Card ? checkCard(data) : undefined;
  if (hostedCard && 'error' in hostedCard) throw badRequest(hostedCard.error, hostedCard.field);

  const now = ctx.options.now();
  const txn: Transaction = {
    transactionID: ctx.ledger.newTransactionId(now),
    kind,
    requestID: String(request.requestID),
    orderID,
    data,
    amount: amountOf(data.orderAmount),
    currency: String(data.orderCurrency),
    apiOperation,
    paymentMethod: typeof data.paymentMethod === 'string' ? data.paymentMethod : undefined,
    sourceType:
      typeof data.sourceType === 'string' && data.sourceType !== '' ? data.sourceType : undefined,
    state: 'processing',
    resultCode: '102',
    resultMessage: 'Transaction is processing.',
    capturedAmount: 0,
    refunds: [],
    createdAt: now,
    faults,
    callbacks: [],
  };
  ctx.ledger.transactions.set(txn.transactionID, txn);
  ctx.ledger.orderIds.set(orderID, txn.transactionID);

  const card = hostedCard?.card ?? (saved ? findTestCard(saved.cardNumber) : undefined);
  if (saved)
    txn.account = {
      accountBrand: saved.accountBrand,
      accountSource: saved.accountSource,
      accountNumber: saved.accountNumber,
      accountName: saved.accountName,
    };
  if (hostedCard?.card)
    txn.account = cardAccount(hostedCard.card, String(data.cardHolderName ?? ''));

  if (apiOperation === ApiOperation.FastPay) {
    // Merchant-initiated, no shopper present: charged at once, no OTP, no page.
    finishPayment(ctx, txn, cardOutcome(txn, card?.number ?? '', card?.outcome ?? 'decline'));
    return ok({ transactionID: txn.transactionID, transactionStatus: currentStatus(ctx, txn) });
  }
  if (card) txn.pendingCard = card;
  let before: Promise<unknown> | undefined;
  if (card && !card.otp) {
    // Merchant Hosted Checkout with a card that needs no OTP: the issuer answers straight away.
    finishPayment(ctx, txn, cardOutcome(txn, card.number, card.outcome));
  } else if (mergeFaults(ctx.globalFaults, faults).ipnFirst) {
    // The IPN reaches the merchant before this reply does (T26).
    before = finishPayment(ctx, txn, {
      result: 'success',
      paymentMethod: txn.paymentMethod,
    }).ipnFirstAttempt;
  }
  const endpointPath =
    kind === 'payWithQR' ? `qr/${txn.transactionID}` : `${kind}/${txn.transactionID}`;
  const responseData: Record<string, unknown> = {
    transactionID: txn.transactionID,
    endpoint: `${ctx.origin()}/${endpointPath}`,
  };
  if (kind === 'payWithQR') responseData.qrCode = txn.qrCode = vietQrPayload(txn);
  return { ...ok(responseData), before };
}

function findTransaction(ctx: SandboxContext, data: Record<string, unknown>): Transaction {
  const txn = ctx.ledger.transactions.get(String(data.transactionID));
  if (!txn) throw new ApiError(404, '404', 'Transaction not found', 'requestData.transactionID');
  return txn;
}

const refundedAmount = (txn: Transaction) => txn.refunds.reduce((sum, r) => sum + r.amount, 0);

export const query: Operation = (ctx, { data }) => {
  const txn = findTransaction(ctx, data);
  const status = currentStatus(ctx, txn);
  const str = (value: unknown) => (value === undefined ? undefined : String(value));
  return ok({
    transactionID: txn.transactionID,
    // When the payment happened (or was created, while it is open), not when it is queried.
    transactionDateTime: formatGatewayDateTime(txn.completedAt ?? txn.createdAt),
    transactionStatus: status,
    transactionDescription: txn.resultMessage,
    orderID: txn.orderID,
    orderNumber: str(txn.data.orderNumber),
    orderAmount: String(txn.amount),
    orderCurrency: txn.currency,
    orderDateTime: str(txn.data.orderDateTime),
    orderDescription: str(txn.data.orderDescription),
    paymentMethod: txn.paymentMethod,
    sourceType: txn.sourceType,
    capturedAmount: String(txn.capturedAmount),
    refundedAmount: String(refundedAmount(txn)),
  });
};

function checkCurrency(txn: Transaction, data: Record<string, unknown>): void {
  if (data.orderCurrency !== txn.currency) {
    throw badRequest(
      `orderCurrency must be ${txn.currency}, the transaction's currency`,
      'requestData.orderCurrency',
    );
  }
}

/** A refused orderAmount: more than `limit`, what is `left`. */
function checkAmount(amount: number, limit: number, left: string): void {
  if (amount > limit) {
    throw badRequest(
      `orderAmount ${amount} is more than the ${limit} ${left}`,
      'requestData.orderAmount',
    );
  }
}

export const refund: Operation = (ctx, { request, data }) => {
  const txn = findTransaction(ctx, data);
  currentStatus(ctx, txn);
  if (txn.state !== 'captured') {
    throw badRequest(
      `only a captured transaction can be refunded; this one is ${txn.state}`,
      'requestData.transactionID',
    );
  }
  if (ctx.options.now().getTime() - (txn.completedAt ?? txn.createdAt).getTime() > ONE_YEAR_MS) {
    throw badRequest(
      'refunds are allowed within one year of the payment',
      'requestData.transactionID',
    );
  }
  checkCurrency(txn, data);
  const orderID = String(data.orderID);
  // A refund reference other than the original orderID identifies this refund: the same one twice is a duplicate.
  checkManagementOrderId(ctx, txn, orderID);
  const amount = amountOf(data.orderAmount);
  checkAmount(amount, txn.capturedAmount - refundedAmount(txn), 'left to refund');
  txn.refunds.push({
    requestID: String(request.requestID),
    orderID,
    amount,
    at: ctx.options.now(),
  });
  return ok();
};

/** Void and capture act on an authorization only: find it, or say why not. */
function findAuthorized(
  ctx: SandboxContext,
  data: Record<string, unknown>,
  action: 'voided' | 'captured',
): Transaction {
  const txn = findTransaction(ctx, data);
  currentStatus(ctx, txn);
  if (txn.state !== 'authorized') {
    const why =
      txn.state === 'captured'
        ? action === 'voided'
          ? 'the transaction is captured; refund it instead of voiding'
          : 'the transaction is already captured'
        : `only an authorized transaction can be ${action}; this one is ${txn.state}`;
    throw badRequest(why, 'requestData.transactionID');
  }
  checkCurrency(txn, data);
  checkManagementOrderId(ctx, txn, String(data.orderID));
  return txn;
}

/** The `orderID` of a refund, void or capture, per `managementOrderId` (fidelity.ts, ledger M1–M3). */
function checkManagementOrderId(ctx: SandboxContext, txn: Transaction, orderID: string): void {
  const refusal = managementOrderIdRefusal(
    ctx.options.managementOrderId,
    orderID,
    { orderID: txn.orderID, refundOrderIds: txn.refunds.map(r => r.orderID) },
    id => ctx.ledger.orderIds.has(id),
  );
  if (refusal) {
    const code = String(refusal.httpStatus);
    throw new ApiError(refusal.httpStatus, code, refusal.message, 'requestData.orderID');
  }
}

export const voidTransaction: Operation = (ctx, { data }) => {
  const txn = findAuthorized(ctx, data, 'voided');
  txn.state = 'voided';
  txn.resultMessage = 'Transaction is voided.';
  return ok();
};

export const capture: Operation = (ctx, { data }) => {
  const txn = findAuthorized(ctx, data, 'captured');
  const amount = amountOf(data.orderAmount);
  checkAmount(amount, txn.amount, 'authorized');
  txn.state = 'captured';
  txn.capturedAmount = amount;
  txn.resultMessage = 'Transaction is successful.';
  return ok();
};
