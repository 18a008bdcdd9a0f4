/**
 * `/api/v1/...`: the documented gateway API. Bodies are read as raw text and the signature is checked on
 * that exact text before anything is parsed; every request is recorded with its verdict.
 */

import express, { type NextFunction, type Request, type Response } from 'express';
import {
  ApiOperation,
  Endpoint,
  SourceOfFund,
  findTestCard,
  formatGatewayDateTime,
  numericText,
  sha256Hex,
  signText,
  signatureMatches,
  validateEnvelope,
  validateRequestData,
  type EndpointPath,
  type FieldIssue,
} from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';
import {
  FaultTokenError,
  faultsFromDescription,
  mergeFaults,
  type ApiFaults,
  type FaultPlan,
} from './faults.js';
import type { Transaction, TransactionKind } from './ledger.js';
import { currentStatus, finishPayment, type Outcome } from './payments.js';
import { cardAccount, checkCard } from './cards.js';
import { vietQrPayload } from './qr.js';
import { validateApplePayMerchant } from './apple-pay.js';
import { managementOrderIdRefusal, replySignatureHeaders } from './fidelity.js';
import {
  LegacyPaths,
  envelopeRefusal,
  mediaTypeRefusal,
  readRequest,
  rememberRequest,
  repeatedOrderIdAllowed,
  routeOf,
  validationOptions,
  type RequestRefusal,
} from './request-checks.js';

/** The outcome of one API call, before faults shape the reply. */
interface Reply {
  httpStatus: number;
  responseCode: string;
  responseMessage: string;
  responseData?: Record<string, unknown>;
  field?: string;
  /** Reply faults in force for this call. */
  faults?: ApiFaults;
  /** Work that must finish before the reply goes out (`ipn-first`). */
  before?: Promise<unknown>;
}

class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly responseCode: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const badField = (issue: FieldIssue) =>
  new ApiError(400, '400', `Bad Request: ${issue.field} ${issue.message}`, issue.field);
const refused = (refusal: RequestRefusal) =>
  new ApiError(refusal.httpStatus, refusal.responseCode, refusal.message, refusal.field);

const endpointNames = new Map<string, string>(
  Object.values(Endpoint).map(path => [path, path.slice(path.lastIndexOf('/') + 1)]),
);
const MAX_BODY = '256kb';
const ONE_YEAR_MS = 366 * 24 * 60 * 60 * 1000;

export function apiRouter(ctx: SandboxContext): express.Router {
  const router = express.Router();
  // Older clients' paths (guides 3.3–3.5, the official samples) are aliases (request-checks.ts, ledger Q1).
  const legacyPaths = ctx.options.legacyPaths ? Object.keys(LegacyPaths) : [];
  router.post(
    ['/api/v1/:group/:name', ...legacyPaths],
    // Read as text whatever the content type (checked later): the signature covers the raw text.
    express.text({ type: () => true, limit: MAX_BODY, defaultCharset: 'utf-8' }),
    async (req: Request, res: Response) => {
      const route = routeOf(req);
      const path = route.path;
      const raw = typeof req.body === 'string' ? req.body : '';
      let reply: Reply;
      let requestID: unknown = null;
      try {
        const parsed = authenticate(ctx, req, raw, path);
        // Signed and parsed: echo the requestID even when the envelope is then refused.
        requestID = (parsed as { requestID?: unknown } | null)?.requestID ?? null;
        const issue = validateEnvelope(parsed)[0];
        if (issue) throw badField(issue);
        // Freshness, duplicate requestID, legacy and blank fields (request-checks.ts, ledger Q*).
        const stale = envelopeRefusal(ctx, route, parsed as Record<string, unknown>);
        if (stale) throw refused(stale);
        const read = readRequest(ctx, route, parsed as Record<string, unknown>);
        if ('refusal' in read) throw refused(read.refusal);
        reply = await handle(ctx, path as EndpointPath, read.request);
        rememberRequest(ctx, route, read.request, reply.responseCode);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        reply = {
          httpStatus: error.httpStatus,
          responseCode: error.responseCode,
          // The reply carries no field of its own: the message must name the field at fault.
          responseMessage:
            error.field && !error.message.includes(error.field)
              ? `${error.message} (${error.field})`
              : error.message,
          field: error.field,
        };
      }
      record(ctx, req, raw, reply);
      await send(ctx, res, reply, typeof requestID === 'string' ? requestID : null);
    },
  );
  // The body parser refused the body (too large, unknown charset): still a signed, recorded gateway reply.
  router.use(
    ['/api/v1', ...legacyPaths],
    async (error: unknown, req: Request, res: Response, next: NextFunction) => {
      const status = (error as { status?: unknown }).status;
      if (typeof status !== 'number' || status < 400 || status >= 500) return next(error);
      const message =
        status === 413
          ? `Payload Too Large: the body exceeds ${MAX_BODY}`
          : `Bad Request: ${(error as Error).message}`;
      const reply: Reply = {
        httpStatus: status,
        responseCode: String(status),
        responseMessage: message,
      };
      record(ctx, req, '', reply);
      await send(ctx, res, reply, null);
    },
  );
  return router;
}

function record(ctx: SandboxContext, req: Request, rawBody: string, reply: Reply): void {
  ctx.ledger.recordRequest({
    at: new Date().toISOString(),
    method: req.method,
    path: req.originalUrl.split('?')[0]!,
    headers: { ...req.headers },
    rawBody,
    verdict: {
      httpStatus: reply.httpStatus,
      responseCode: reply.responseCode,
      message: reply.responseMessage,
      field: reply.field,
    },
  });
}

/** Path, media type, API key, then the signature over the raw text, then JSON (the caller checks the envelope). */
function authenticate(ctx: SandboxContext, req: Request, raw: string, path: string): unknown {
  if (!endpointNames.has(path)) throw new ApiError(404, '404', `Not Found: no API at /${path}`);
  const media = mediaTypeRefusal(ctx, req);
  if (media) throw refused(media);
  const apiKey = req.get('apikey');
  if (apiKey === undefined || !safeEqual(apiKey, ctx.options.apiKey)) {
    throw new ApiError(401, '401', 'Unauthorized: Invalid API Key');
  }
  if (!signatureMatches(raw, req.get('signature'), ctx.options.salt)) {
    throw new ApiError(401, '401', 'Unauthorized: Invalid Signature');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, '400', 'Bad Request: body is not JSON', 'body');
  }
  return parsed;
}

function safeEqual(given: string, expected: string): boolean {
  // Hash both sides so the comparison is constant-time whatever the lengths.
  return sha256Hex(given) === sha256Hex(expected);
}

async function handle(
  ctx: SandboxContext,
  path: EndpointPath,
  request: Record<string, unknown>,
): Promise<Reply> {
  const data = request.requestData as Record<string, unknown>;
  const issue = validateRequestData(path, data, validationOptions(ctx))[0];
  if (issue) throw badField(issue);
  const name = endpointNames.get(path)!;
  let own: FaultPlan;
  try {
    own = faultsFromDescription(data.orderDescription);
  } catch (error) {
    if (error instanceof FaultTokenError) {
      throw new ApiError(
        400,
        '400',
        `Bad Request: ${error.message}`,
        'requestData.orderDescription',
      );
    }
    throw error;
  }
  const txn =
    typeof data.transactionID === 'string'
      ? ctx.ledger.transactions.get(data.transactionID)
      : undefined;
  const faults: ApiFaults = {
    ...ctx.globalFaults.api,
    ...own.api,
    ...ctx.globalFaults.scoped[name],
    ...txn?.faults.scoped[name],
    ...own.scoped[name],
  };
  // A chain counts the calls on one transaction (query, refund, void, capture: each of these may carry an
  // orderID of its own), else on one orderID.
  const chainKey = `${String(data.transactionID ?? data.orderID ?? data.token ?? '')}:${name}`;
  const step = nextReplyStep(ctx, faults, chainKey);
  if (step) return { ...step, faults: { ...faults, ...step.faults } };
  if (faults.duplicate409) {
    return {
      httpStatus: 409,
      responseCode: '409',
      responseMessage: 'Transaction Duplicate',
      faults,
    };
  }
  // Only the order's own faults are kept with it: global faults are read afresh at each use.
  const reply = await operate(ctx, path, request, data, own);
  return { ...reply, faults };
}

function nextReplyStep(ctx: SandboxContext, faults: ApiFaults, key: string): Reply | undefined {
  if (!faults.replies) return undefined;
  const count = (ctx.ledger.chainCalls.get(key) ?? 0) + 1;
  ctx.ledger.chainCalls.set(key, count);
  const step = faults.replies[count - 1] ?? 'ok';
  if (step === 'ok') return undefined;
  if (step === 'reset')
    return {
      httpStatus: 0,
      responseCode: 'reset',
      responseMessage: 'socket reset',
      faults: { reset: true },
    };
  if (step === 'html')
    return {
      httpStatus: 502,
      responseCode: '502',
      responseMessage: 'Bad Gateway',
      faults: { htmlErrorPage: true },
    };
  return {
    httpStatus: Number(step),
    responseCode: step,
    responseMessage: step === '504' ? 'Request Timeout' : 'Service Unavailable',
  };
}

function operate(
  ctx: SandboxContext,
  path: EndpointPath,
  request: Record<string, unknown>,
  data: Record<string, unknown>,
  faults: FaultPlan,
): Reply | Promise<Reply> {
  switch (path) {
    case Endpoint.Checkout:
      return createPayment(ctx, 'checkout', request, data, faults);
    case Endpoint.Pay:
      return createPayment(ctx, 'pay', request, data, faults);
    case Endpoint.PayWithOption:
      return createPayment(ctx, 'payWithOption', request, data, faults);
    case Endpoint.PayWithQr:
      return createPayment(ctx, 'payWithQR', request, data, faults);
    case Endpoint.Query:
      return query(ctx, data);
    case Endpoint.Refund:
      return refund(ctx, request, data);
    case Endpoint.Void:
      return voidTransaction(ctx, data);
    case Endpoint.Capture:
      return capture(ctx, data);
    case Endpoint.CreateToken:
      return createToken(ctx, data);
    case Endpoint.DeleteToken:
      return deleteToken(ctx, data);
    case Endpoint.QueryTokens:
      return queryTokens(ctx, data);
    // Remove Token (G3.6.1 §2.8) at the playground's path: the same effect as deleteToken (ledger K1).
    case Endpoint.RemoveToken:
      return deleteToken(ctx, data);
    case Endpoint.ApplePayValidation:
      return validateApplePayMerchant(ctx, data);
    case Endpoint.CreatePaymentLink:
      return createPaymentLink(ctx, request, data, faults);
  }
}

const ok = (responseData?: Record<string, unknown>): Reply => ({
  httpStatus: 200,
  responseCode: '200',
  responseMessage: 'Success',
  responseData,
});

function amountOf(value: unknown): number {
  return Number(numericText(value));
}

async function createPayment(
  ctx: SandboxContext,
  kind: TransactionKind,
  request: Record<string, unknown>,
  data: Record<string, unknown>,
  faults: FaultPlan,
): Promise<Reply> {
  const orderID = String(data.orderID);
  if (ctx.ledger.orderIds.has(orderID) && !repeatedOrderIdAllowed(ctx, data)) {
    throw new ApiError(
      409,
      '409',
      `Transaction Duplicate: orderID ${orderID} was already used`,
      'requestData.orderID',
    );
  }
  if (kind === 'payWithQR' && String(numericText(data.orderAmount)).length > 13) {
    // EMVCo's amount field (tag 54) holds at most 13 characters.
    throw new ApiError(
      400,
      '400',
      'Bad Request: a QR amount has at most 13 digits',
      'requestData.orderAmount',
    );
  }
  const apiOperation = typeof data.apiOperation === 'string' ? data.apiOperation : ApiOperation.Pay;
  // Only pay takes sourceOfFund; elsewhere it is an unknown extra field (a checkout sending
  // sourceOfFund CARD without card fields worked in UAT, §7.7).
  const sourceOfFund = kind === 'pay' ? data.sourceOfFund : undefined;
  const byToken = sourceOfFund === SourceOfFund.Token;
  const saved = byToken ? ctx.ledger.tokens.get(String(data.token)) : undefined;
  if (byToken && !saved)
    throw new ApiError(400, '400', 'Bad Request: token is unknown or deleted', 'requestData.token');
  const hostedCard = sourceOfFund === SourceOfFund.Card ? checkCard(data) : undefined;
  if (hostedCard && 'error' in hostedCard)
    throw new ApiError(400, '400', `Bad Request: ${hostedCard.error}`, hostedCard.field);

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

  const origin = ctx.origin();
  if (apiOperation === ApiOperation.FastPay) {
    // Merchant-initiated, no shopper present: charged at once, no OTP, no page.
    const outcome: Outcome =
      card?.outcome === 'approve'
        ? { result: 'success', account: txn.account, paymentMethod: txn.paymentMethod }
        : {
            result: 'failure',
            code: '505',
            message: 'Authentication Failure: card declined',
            account: txn.account,
          };
    finishPayment(ctx, txn, outcome);
    return ok({ transactionID: txn.transactionID, transactionStatus: currentStatus(ctx, txn) });
  }
  if (card) txn.pendingCard = card;
  let before: Promise<unknown> | undefined;
  if (card && !card.otp) {
    // Merchant Hosted Checkout with a card that needs no OTP: the issuer answers straight away.
    finishPayment(
      ctx,
      txn,
      card.outcome === 'approve'
        ? {
            result: 'success',
            account: txn.account,
            cardNumber: card.number,
            paymentMethod: txn.paymentMethod,
          }
        : {
            result: 'failure',
            code: '505',
            message: 'Authentication Failure: card declined',
            account: txn.account,
          },
    );
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
    endpoint: `${origin}/${endpointPath}`,
  };
  if (kind === 'payWithQR') responseData.qrCode = txn.qrCode = vietQrPayload(txn);
  return { ...ok(responseData), before };
}

function findTransaction(ctx: SandboxContext, data: Record<string, unknown>): Transaction {
  const txn = ctx.ledger.transactions.get(String(data.transactionID));
  if (!txn) throw new ApiError(404, '404', 'Transaction not found', 'requestData.transactionID');
  return txn;
}

function query(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  const txn = findTransaction(ctx, data);
  const status = currentStatus(ctx, txn);
  const refunded = txn.refunds.reduce((sum, r) => sum + r.amount, 0);
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
    refundedAmount: String(refunded),
  });
}

function checkCurrency(txn: Transaction, data: Record<string, unknown>): void {
  if (data.orderCurrency !== txn.currency) {
    throw new ApiError(
      400,
      '400',
      `Bad Request: orderCurrency must be ${txn.currency}, the transaction's currency`,
      'requestData.orderCurrency',
    );
  }
}

function refund(
  ctx: SandboxContext,
  request: Record<string, unknown>,
  data: Record<string, unknown>,
): Reply {
  const txn = findTransaction(ctx, data);
  currentStatus(ctx, txn);
  if (txn.state !== 'captured') {
    throw new ApiError(
      400,
      '400',
      `Bad Request: only a captured transaction can be refunded; this one is ${txn.state}`,
      'requestData.transactionID',
    );
  }
  if (ctx.options.now().getTime() - (txn.completedAt ?? txn.createdAt).getTime() > ONE_YEAR_MS) {
    throw new ApiError(
      400,
      '400',
      'Bad Request: refunds are allowed within one year of the payment',
      'requestData.transactionID',
    );
  }
  checkCurrency(txn, data);
  const orderID = String(data.orderID);
  // A refund reference other than the original orderID identifies this refund: the same one twice is a duplicate.
  checkManagementOrderId(ctx, txn, orderID);
  const amount = amountOf(data.orderAmount);
  const remaining = txn.capturedAmount - txn.refunds.reduce((sum, r) => sum + r.amount, 0);
  if (amount > remaining) {
    throw new ApiError(
      400,
      '400',
      `Bad Request: orderAmount ${amount} is more than the ${remaining} left to refund`,
      'requestData.orderAmount',
    );
  }
  txn.refunds.push({
    requestID: String(request.requestID),
    orderID,
    amount,
    at: ctx.options.now(),
  });
  return ok();
}

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
    throw new ApiError(400, '400', `Bad Request: ${why}`, 'requestData.transactionID');
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

function voidTransaction(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  const txn = findAuthorized(ctx, data, 'voided');
  txn.state = 'voided';
  txn.resultMessage = 'Transaction is voided.';
  return ok();
}

function capture(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  const txn = findAuthorized(ctx, data, 'captured');
  const amount = amountOf(data.orderAmount);
  if (amount > txn.amount) {
    throw new ApiError(
      400,
      '400',
      `Bad Request: orderAmount ${amount} is more than the ${txn.amount} authorized`,
      'requestData.orderAmount',
    );
  }
  txn.state = 'captured';
  txn.capturedAmount = amount;
  txn.resultMessage = 'Transaction is successful.';
  return ok();
}

function createToken(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  const checked = checkCard(data);
  if ('error' in checked)
    throw new ApiError(400, '400', `Bad Request: ${checked.error}`, checked.field);
  const token = ctx.ledger.newToken();
  const account = cardAccount(checked.card, String(data.cardHolderName));
  ctx.ledger.tokens.set(token, {
    ...account,
    token,
    tokenID: ctx.ledger.newTokenId(),
    paymentMethod: String(data.paymentMethod),
    cardNumber: checked.card.number,
    customerToken: typeof data.customerToken === 'string' ? data.customerToken : undefined,
    createdAt: ctx.options.now(),
  });
  return ok({ ...account, token });
}

function deleteToken(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  if (!ctx.ledger.tokens.delete(String(data.token))) {
    throw new ApiError(
      400,
      '400',
      'Bad Request: token is unknown or already deleted',
      'requestData.token',
    );
  }
  return ok();
}

function queryTokens(ctx: SandboxContext, data: Record<string, unknown>): Reply {
  const customerToken = String(data.customerToken);
  const tokens = [...ctx.ledger.tokens.values()]
    .filter(t => t.customerToken === customerToken)
    .map(t => ({
      tokenID: String(t.tokenID),
      token: t.token,
      accountBrand: t.accountBrand,
      accountSource: t.accountSource,
      accountNumber: t.accountNumber,
      accountName: t.accountName,
    }));
  return ok({
    customerID: sha256Hex(customerToken).slice(0, 16),
    customerName: 'SANDBOX CUSTOMER',
    tokens,
  });
}

const UNIT_MS = { DAY: 86_400_000, HOUR: 3_600_000, MINUTE: 60_000 } as const;

function createPaymentLink(
  ctx: SandboxContext,
  request: Record<string, unknown>,
  data: Record<string, unknown>,
  faults: FaultPlan,
): Reply {
  const orderID = String(data.orderID);
  if (ctx.ledger.linkOrderIds.has(orderID)) {
    throw new ApiError(
      409,
      '409',
      `Transaction Duplicate: orderID ${orderID} was already used`,
      'requestData.orderID',
    );
  }
  const unit = (data.expiryUnit as keyof typeof UNIT_MS | undefined) ?? 'DAY';
  const { orderNo, code } = ctx.ledger.newLinkReference();
  const now = ctx.options.now();
  ctx.ledger.links.set(orderNo, {
    orderNo,
    code,
    requestID: String(request.requestID),
    data,
    amount: amountOf(data.orderAmount),
    currency: String(data.orderCurrency),
    expiresAt: new Date(now.getTime() + amountOf(data.expiryDuration) * UNIT_MS[unit]),
    state: 'open',
    faults,
  });
  ctx.ledger.linkOrderIds.add(orderID);
  return ok({ orderNo, shortLink: `${ctx.origin()}/link/${code}` });
}

/** Writes the reply: envelope, signature header, and the reply faults. */
async function send(
  ctx: SandboxContext,
  res: Response,
  reply: Reply,
  requestID: string | null,
): Promise<void> {
  const faults = reply.faults ?? {};
  await reply.before;
  if (faults.delayMs) await new Promise(resolve => setTimeout(resolve, faults.delayMs));
  if (faults.reset) {
    res.socket?.destroy();
    return;
  }
  if (faults.htmlErrorPage) {
    res
      .status(502)
      .type('html')
      .send(
        '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>',
      );
    return;
  }
  const responseData = reply.responseData ? { ...reply.responseData } : undefined;
  if (responseData && faults.foreignEndpointHost && typeof responseData.endpoint === 'string') {
    const url = new URL(responseData.endpoint);
    responseData.endpoint = `${ctx.options.foreignOrigin}${url.pathname}`;
  }
  const envelope: Record<string, unknown> = {
    requestID,
    responseDateTime: ctx.clock.now(),
    responseCode: reply.responseCode,
    responseMessage: reply.responseMessage,
  };
  if (responseData) envelope.responseData = responseData;
  if (faults.huge) envelope.padding = 'x'.repeat(5 * 1024 * 1024);
  const body = JSON.stringify(envelope);
  // How the reply is signed is a sandbox option (fidelity.ts, ledger R2–R7); the fault breaks it.
  const signed = replySignatureHeaders(
    ctx.options.responseSignature,
    body,
    reply.responseCode,
    ctx.options.salt,
  );
  if (faults.badResponseSignature) signed.signature = signText(`${body} `, ctx.options.salt);
  res
    .status(reply.httpStatus)
    .set({ 'content-type': 'application/json; charset=utf-8', ...signed });
  if (!faults.drip) {
    res.send(body);
    return;
  }
  // Headers now, then the body one byte at a time: a client without a body deadline hangs here.
  res.flushHeaders();
  const bytes = Buffer.from(body, 'utf8');
  for (let i = 0; i < bytes.length && !res.destroyed; i++) {
    res.write(bytes.subarray(i, i + 1));
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  res.end();
}
