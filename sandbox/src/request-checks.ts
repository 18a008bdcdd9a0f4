/**
 * How the sandbox reads a request before its endpoint does: which paths answer, which media types, how fresh
 * `requestDateTime` must be, whether a `requestID` may repeat, and how the legacy request shape (guides
 * 3.3–3.5, the official samples) is read. Where Galaxy Pay's evidence is split, the default follows the newest
 * guide or what Galaxy Pay's own code sends, and an option plays the other reading (docs/gateway-fidelity.md,
 * rows Q1–Q11).
 */

import type { Request } from 'express';
import {
  ApiOperation,
  Endpoint,
  SourceOfFund,
  endpointFields,
  formatGatewayDateTime,
  parseGatewayDateTime,
  type EndpointPath,
  type ValidationOptions,
} from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';

/**
 * Paths older clients post to, and the endpoint each one is:
 * - `/pay`, `/payWithOption`: the API endpoints of guides 3.3–3.5 (§1.4), still called by the .NET sample
 *   (`UPC-Api/Controllers/ClientController.cs`, 2023-07) and the Node demo on the playground branch;
 * - `/api/v1.0/Merchant/Pay`: the demo-portal gateway the Node sample calls (`app.js`, `MERCHANT_GW_URL`).
 */
export const LegacyPaths: Readonly<Record<string, EndpointPath>> = {
  '/pay': Endpoint.Pay,
  '/payWithOption': Endpoint.PayWithOption,
  '/api/v1.0/Merchant/Pay': Endpoint.Pay,
};

/** The `requestData` objects that came by a legacy path (`readRequest` makes them). */
const legacyData = new WeakSet<object>();

/** Documented (G3.5/G3.6.1 §1.3 "Content Type: application/json") plus what a .NET JSON input formatter takes. */
const JSON_MEDIA_TYPE = /^(?:application\/json|text\/json|application\/[\w.+-]+\+json)$/;

/** Calls that change something: a second call with an accepted one's requestID is a duplicate. */
const ACTING_ENDPOINTS: ReadonlySet<string> = new Set<string>([
  Endpoint.Checkout,
  Endpoint.Pay,
  Endpoint.PayWithOption,
  Endpoint.PayWithQr,
  Endpoint.CreatePaymentLink,
  Endpoint.Refund,
  Endpoint.Void,
  Endpoint.Capture,
  Endpoint.CreateToken,
  Endpoint.DeleteToken,
]);

const CARD_FIELDS = [
  'cardNumber',
  'cardHolderName',
  'cardExpireDate',
  'cardVerificationValue',
  'cardIssueDate',
];

/** Why a request is refused: the reply's HTTP status and `responseCode`, and a message naming the field. */
export interface RequestRefusal {
  httpStatus: number;
  responseCode: string;
  message: string;
  field?: string;
}

/** The endpoint a request is for (`api/v1/...`, possibly unknown) and whether it came by a legacy path. */
export interface ApiRoute {
  path: string;
  legacy: boolean;
}

/** The route of an API request: a legacy path maps to its endpoint. */
export function routeOf(req: Request): ApiRoute {
  const legacy = Object.entries(LegacyPaths).find(
    ([path]) => path.toLowerCase() === req.path.replace(/\/+$/, '').toLowerCase(),
  );
  if (legacy) return { path: legacy[1], legacy: true };
  return { path: `api/v1/${String(req.params.group)}/${String(req.params.name)}`, legacy: false };
}

/** 415 unless the body is declared JSON (any parameters, e.g. `; charset=utf-8` as the Node sample sends). */
export function mediaTypeRefusal(ctx: SandboxContext, req: Request): RequestRefusal | undefined {
  if (ctx.options.acceptAnyContentType) return undefined;
  const declared = req.get('content-type');
  const mediaType = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (JSON_MEDIA_TYPE.test(mediaType)) return undefined;
  return {
    httpStatus: 415,
    responseCode: '415',
    message: `Unsupported Media Type: Content-Type must be application/json, not ${
      declared === undefined ? 'missing' : JSON.stringify(declared.slice(0, 100))
    }`,
    field: 'Content-Type',
  };
}

/**
 * Envelope checks after the signature and the envelope's own format: 408 when `requestDateTime` (GMT+7) is
 * further from the sandbox's clock than the tolerance, 409 when a changing call reuses an accepted requestID.
 */
export function envelopeRefusal(
  ctx: SandboxContext,
  route: ApiRoute,
  request: Record<string, unknown>,
): RequestRefusal | undefined {
  const tolerance = ctx.options.requestDateTimeToleranceMs;
  const sent = parseGatewayDateTime(request.requestDateTime);
  if (tolerance !== null && sent) {
    const now = ctx.options.now();
    const skew = sent.getTime() - now.getTime();
    if (Math.abs(skew) > tolerance) {
      const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
      return {
        httpStatus: 408,
        responseCode: '408',
        message:
          `Request Expired: requestDateTime ${String(request.requestDateTime)} is ${minutes(Math.abs(skew))} ` +
          `${skew < 0 ? 'behind' : 'ahead of'} the gateway's ${formatGatewayDateTime(now)} (GMT+7); ` +
          `at most ${minutes(tolerance)} either way`,
        field: 'requestDateTime',
      };
    }
  }
  const requestID = String(request.requestID);
  if (
    !ctx.options.allowDuplicateRequestId &&
    ACTING_ENDPOINTS.has(route.path) &&
    ctx.ledger.requestIds.has(requestID)
  ) {
    return {
      httpStatus: 409,
      responseCode: '409',
      message: `Duplicate Request: requestID ${requestID} was already used`,
      field: 'requestID',
    };
  }
  return undefined;
}

/** Remembers the requestID of an accepted call that changed something. */
export function rememberRequest(
  ctx: SandboxContext,
  route: ApiRoute,
  request: Record<string, unknown>,
  responseCode: string,
): void {
  if (responseCode === '200' && ACTING_ENDPOINTS.has(route.path)) {
    ctx.ledger.requestIds.add(String(request.requestID));
  }
}

/**
 * The request as its endpoint reads it: blank strings dropped (`blankFields`), and on the legacy paths the
 * guide-3.5 reading of pay (`apiOperation` defaults to PAY, which the Node samples never send). Card fields
 * without `sourceOfFund` are refused or read as a hosted card (`cardWithoutSourceOfFund`).
 */
export function readRequest(
  ctx: SandboxContext,
  route: ApiRoute,
  request: Record<string, unknown>,
): { request: Record<string, unknown> } | { refusal: RequestRefusal } {
  const data = { ...(request.requestData as Record<string, unknown>) };
  if (ctx.options.blankFields === 'absent') {
    for (const spec of endpointFields[route.path as EndpointPath] ?? []) {
      const value = data[spec.name];
      const blank = typeof value === 'string' && value !== '' && value.trim() === '';
      if (blank && spec.required !== true) delete data[spec.name];
    }
  }
  if (route.legacy && route.path === Endpoint.Pay && isAbsent(data.apiOperation)) {
    data.apiOperation = ApiOperation.Pay;
  }
  const hasCardFields = CARD_FIELDS.some(name => !isAbsent(data[name]));
  if (route.path === Endpoint.Pay && hasCardFields && isAbsent(data.sourceOfFund)) {
    const mode = ctx.options.cardWithoutSourceOfFund;
    if (mode === 'refuse' || (mode === 'by-path' && !route.legacy)) {
      return {
        refusal: {
          httpStatus: 400,
          responseCode: '400',
          message:
            'Bad Request: requestData.sourceOfFund must be CARD when card fields are sent (Merchant Hosted Checkout)',
          field: 'requestData.sourceOfFund',
        },
      };
    }
    data.sourceOfFund = SourceOfFund.Card;
  }
  if (route.legacy) legacyData.add(data);
  return { request: { ...request, requestData: data } };
}

/** Whether a payment may carry an orderID an earlier payment used (`duplicateOrderId`). */
export function repeatedOrderIdAllowed(ctx: SandboxContext, data: object): boolean {
  const mode = ctx.options.duplicateOrderId;
  return mode === 'allow' || (mode === 'by-path' && legacyData.has(data));
}

/** The documented field tables as the sandbox's options relax them. */
export function validationOptions(ctx: SandboxContext): ValidationOptions {
  return {
    orderNumberMaxLength: ctx.options.orderNumberMaxLength,
    checkoutAmountsRequired: ctx.options.requireCheckoutAmounts,
  };
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
