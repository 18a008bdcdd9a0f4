/**
 * `/api/v1/...`: the documented gateway API. Bodies are read as raw text and the signature is checked on
 * that exact text before anything is parsed; every request is recorded with its verdict.
 */

import express, { type NextFunction, type Request, type Response } from 'express';
import {
  Endpoint,
  sha256Hex,
  signatureMatches,
  validateEnvelope,
  validateRequestData,
  type EndpointPath,
  type FieldIssue,
} from '@galaxy-pay/protocol';
import { validateApplePayMerchant } from './apple-pay.js';
import type { SandboxContext } from './context.js';
import {
  FaultTokenError,
  faultsFromDescription,
  type ApiFaults,
  type FaultPlan,
} from './faults.js';
import { createPaymentLink } from './links.js';
import { ApiError, badRequest, send, statusReply, type Operation, type Reply } from './reply.js';
import {
  LegacyPaths,
  envelopeRefusal,
  mediaTypeRefusal,
  readRequest,
  rememberRequest,
  routeOf,
  validationOptions,
  type RequestRefusal,
} from './request-checks.js';
import { createToken, deleteToken, queryTokens } from './tokenization.js';
import { capture, payment, query, refund, voidTransaction } from './transactions.js';

const badField = (issue: FieldIssue) => badRequest(`${issue.field} ${issue.message}`, issue.field);
const refused = (refusal: RequestRefusal) =>
  new ApiError(refusal.httpStatus, refusal.responseCode, refusal.message, refusal.field);

const endpointNames = new Map<string, string>(
  Object.values(Endpoint).map(path => [path, path.slice(path.lastIndexOf('/') + 1)]),
);
const MAX_BODY = '256kb';

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
      const refusal = statusReply(status, String(status), message);
      record(ctx, req, '', refusal);
      await send(ctx, res, refusal, null);
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
    throw badRequest('body is not JSON', 'body');
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
      throw badRequest(error.message, 'requestData.orderDescription');
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
  if (faults.duplicate409) return statusReply(409, '409', 'Transaction Duplicate', faults);
  // Only the order's own faults are kept with it: global faults are read afresh at each use.
  const answer = await operations[path](ctx, { request, data, faults: own });
  return { ...answer, faults };
}

function nextReplyStep(ctx: SandboxContext, faults: ApiFaults, key: string): Reply | undefined {
  if (!faults.replies) return undefined;
  const count = (ctx.ledger.chainCalls.get(key) ?? 0) + 1;
  ctx.ledger.chainCalls.set(key, count);
  const step = faults.replies[count - 1] ?? 'ok';
  if (step === 'ok') return undefined;
  if (step === 'reset') return statusReply(0, 'reset', 'socket reset', { reset: true });
  if (step === 'html') return statusReply(502, '502', 'Bad Gateway', { htmlErrorPage: true });
  return statusReply(
    Number(step),
    step,
    step === '504' ? 'Request Timeout' : 'Service Unavailable',
  );
}

/** What answers each endpoint. */
const operations: Record<EndpointPath, Operation> = {
  [Endpoint.Checkout]: payment('checkout'),
  [Endpoint.Pay]: payment('pay'),
  [Endpoint.PayWithOption]: payment('payWithOption'),
  [Endpoint.PayWithQr]: payment('payWithQR'),
  [Endpoint.Query]: query,
  [Endpoint.Refund]: refund,
  [Endpoint.Void]: voidTransaction,
  [Endpoint.Capture]: capture,
  [Endpoint.CreateToken]: createToken,
  [Endpoint.DeleteToken]: deleteToken,
  [Endpoint.QueryTokens]: queryTokens,
  // Remove Token (G3.6.1 §2.8) at the playground's path: the same effect as deleteToken (ledger K1).
  [Endpoint.RemoveToken]: deleteToken,
  [Endpoint.ApplePayValidation]: validateApplePayMerchant,
  [Endpoint.CreatePaymentLink]: createPaymentLink,
};
