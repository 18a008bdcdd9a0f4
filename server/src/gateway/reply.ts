/**
 * Reading a gateway reply, trusting nothing until it is checked: the status line, the body under its size
 * cap as exact UTF-8, the `signature` header over that raw text, the envelope, the echoed requestID, the
 * `responseCode`, and a hosted-page `endpoint` on an allowed origin. Yields a verified `GatewayReply` or a
 * `GatewayError` saying which check failed (logged for the ones an operator must see).
 */

import {
  ApiOperation,
  Endpoint,
  isSuccessResponseCode,
  verifyResponseSignature,
  type EndpointPath,
  type EndpointResponseData,
} from '@galaxy-pay/protocol';
import {
  GatewayError,
  GatewayErrorCode,
  isRecord,
  sanitizeMessage,
  upstreamError,
} from './errors.js';
import { readCapped, type PreparedCall } from './http-client.js';
import type { Settings } from './options.js';
import type { HttpResponse } from '../net/http-client.js';

/** A verified, successful gateway reply. */
export interface GatewayReply<P extends EndpointPath> {
  /** The `requestID` that was sent. */
  requestId: string;
  /** `"200"` (or the legacy `"00"`). */
  responseCode: string;
  responseMessage: string;
  /** For checkout/pay/payWithOption/payWithQR, `endpoint` is on an allowed origin (normalized `href`). */
  responseData: EndpointResponseData[P];
  /** The reply exactly as received and verified, e.g. to keep as evidence. */
  rawBody: string;
}

/** Replies that send the shopper to a hosted page: their `endpoint` must be on an allowed origin. */
const PAYMENT_PAGE_ENDPOINTS: ReadonlySet<EndpointPath> = new Set<EndpointPath>([
  Endpoint.Checkout,
  Endpoint.Pay,
  Endpoint.PayWithOption,
  Endpoint.PayWithQr,
]);

export async function readReply(
  settings: Settings,
  call: PreparedCall,
  response: HttpResponse,
  signal: AbortSignal,
): Promise<GatewayReply<EndpointPath>> {
  checkHttpStatus(settings, call, response);
  const text = await readBodyText(settings, call, response, signal);
  checkSignature(settings, call, response, text);
  const envelope = parseEnvelope(call, response.status, text);
  checkRequestIdEcho(settings, call, response.status, envelope.requestID);
  const responseCode = String(envelope.responseCode);
  if (!isSuccessResponseCode(responseCode) || response.status < 200 || response.status > 299) {
    throw refusal(settings, call, response.status, responseCode, envelope.responseMessage);
  }
  const responseData = PAYMENT_PAGE_ENDPOINTS.has(call.path)
    ? checkPaymentPage(settings, call, envelope.responseData)
    : envelope.responseData;
  return {
    requestId: call.requestId,
    responseCode,
    responseMessage: typeof envelope.responseMessage === 'string' ? envelope.responseMessage : '',
    responseData: responseData as EndpointResponseData[EndpointPath],
    rawBody: text,
  };
}

/** Decided on the status line alone: nothing in these bodies is worth reading or could be verified. */
function checkHttpStatus(settings: Settings, call: PreparedCall, response: HttpResponse): void {
  const status = response.status;
  // Checked before the signature: with a wrong salt no reply verifies, and the 401 is the useful diagnosis.
  if (status === 401) throw authError(settings, call, status);
  if (status >= 500) {
    throw upstreamError(call, `Galaxy Pay ${call.name} failed: HTTP ${status}`, {
      httpStatus: status,
    });
  }
  if (status < 200 || (status >= 300 && status < 400)) {
    throw upstreamError(call, `Galaxy Pay ${call.name} answered with HTTP ${status}`, {
      httpStatus: status,
      retryable: false,
    });
  }
  const contentType = response.header('content-type') ?? '';
  if (/^\s*text\/html\b/i.test(contentType)) {
    // An error page from a proxy or a WAF in front of the gateway, not a gateway reply.
    throw upstreamError(call, `Galaxy Pay ${call.name} answered with an HTML page`, {
      httpStatus: status,
      retryable: false,
    });
  }
}

/** Reads the body under the size cap and the deadline, as exact UTF-8 text (the signature covers it). */
async function readBodyText(
  settings: Settings,
  call: PreparedCall,
  response: HttpResponse,
  signal: AbortSignal,
): Promise<string> {
  const tooLarge = () =>
    upstreamError(
      call,
      `Galaxy Pay ${call.name} reply is larger than ${settings.maxResponseBytes} bytes`,
      { httpStatus: response.status, retryable: false },
    );
  const declared = Number(response.header('content-length') ?? NaN);
  if (declared > settings.maxResponseBytes) throw tooLarge();
  const bytes = await readCapped(response.body, settings.maxResponseBytes, signal);
  if (!bytes) throw tooLarge();
  try {
    // fatal: invalid UTF-8 is refused rather than repaired; ignoreBOM: keep the exact text that was signed.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw upstreamError(call, `Galaxy Pay ${call.name} reply is not UTF-8 text`, {
      httpStatus: response.status,
      retryable: false,
    });
  }
}

function checkSignature(
  settings: Settings,
  call: PreparedCall,
  response: HttpResponse,
  text: string,
): void {
  // Header names are case-insensitive (`Signature` is the same header); the formula is our reading (ledger R1).
  const header = response.header('signature');
  if (verifyResponseSignature(text, header, settings.salt)) return;
  // Which way it failed is what a first UAT run needs to know: no header at all, or another value.
  const what = header === null ? 'carries no signature header' : 'signature does not verify';
  distrust(settings, call, response.status, 'response_signature', what);
}

/**
 * A signed reply is not bound to our request (the signature covers only the reply), so a reply echoing
 * another requestID could be a replayed one. The gateway echoes ours; `null` (unparsed requests) is accepted.
 */
function checkRequestIdEcho(
  settings: Settings,
  call: PreparedCall,
  httpStatus: number,
  echoed: unknown,
): void {
  if (typeof echoed !== 'string' || echoed === call.requestId) return;
  distrust(settings, call, httpStatus, 'request_id_echo', 'echoes another requestID');
}

/** Refuses (enforce) or logs (log mode, UAT observation) a reply that fails an integrity check. */
function distrust(
  settings: Settings,
  call: PreparedCall,
  httpStatus: number,
  check: string,
  what: string,
): void {
  const fields = {
    event: 'gateway_untrusted_reply',
    endpoint: call.name,
    requestId: call.requestId,
  };
  if (!settings.enforceSignature) {
    settings.logger.warn(
      { ...fields, check, httpStatus, mode: 'log' },
      `Galaxy Pay ${call.name} reply ${what}; accepted because verifyResponseSignature is 'log'`,
    );
    return;
  }
  settings.logger.error(
    { ...fields, check, httpStatus, mode: 'enforce' },
    `Galaxy Pay ${call.name} reply ${what}; refused`,
  );
  throw new GatewayError({
    code: GatewayErrorCode.UpstreamUntrusted,
    endpoint: call.name,
    requestId: call.requestId,
    httpStatus,
    message: `Galaxy Pay ${call.name} reply ${what}`,
  });
}

interface Envelope {
  requestID?: unknown;
  responseCode: string | number;
  responseMessage?: unknown;
  responseData?: unknown;
}

function parseEnvelope(call: PreparedCall, httpStatus: number, text: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw upstreamError(call, `Galaxy Pay ${call.name} reply is not JSON`, {
      httpStatus,
      retryable: false,
    });
  }
  const code = isRecord(parsed) ? parsed.responseCode : undefined;
  const usable =
    (typeof code === 'string' && code.length > 0) ||
    (typeof code === 'number' && Number.isInteger(code));
  if (!usable) {
    throw upstreamError(call, `Galaxy Pay ${call.name} reply has no responseCode`, {
      httpStatus,
      retryable: false,
    });
  }
  return parsed as unknown as Envelope;
}

/** Maps a verified non-success reply (or a success code on a non-2xx status) to its error. */
function refusal(
  settings: Settings,
  call: PreparedCall,
  httpStatus: number,
  responseCode: string,
  responseMessage: unknown,
): GatewayError {
  if (responseCode === '401') return authError(settings, call, httpStatus, responseCode);
  const common = {
    endpoint: call.name,
    requestId: call.requestId,
    httpStatus,
    responseCode,
    responseMessage: sanitizeMessage(responseMessage, [settings.apiKey, settings.salt]),
  };
  if (isSuccessResponseCode(responseCode)) {
    return upstreamError(call, `Galaxy Pay ${call.name} reported success with HTTP ${httpStatus}`, {
      httpStatus,
      retryable: false,
    });
  }
  if (responseCode === '409') {
    return new GatewayError({
      ...common,
      code: GatewayErrorCode.Duplicate,
      message: `Galaxy Pay ${call.name}: the order already exists at the gateway (responseCode 409)`,
    });
  }
  if (/^5\d\d$/.test(responseCode)) {
    // 502–504: the gateway could not reach its provider; as transient as an HTTP 5xx.
    return new GatewayError({
      ...common,
      code: GatewayErrorCode.UpstreamError,
      message: `Galaxy Pay ${call.name} failed: responseCode ${responseCode}`,
    });
  }
  return new GatewayError({
    ...common,
    code: GatewayErrorCode.Rejected,
    message: `Galaxy Pay ${call.name} rejected the request (responseCode ${responseCode.slice(0, 10)})`,
  });
}

/**
 * The hosted-page URL goes to the shopper's browser (iframe, popup or redirect), so it must parse, use https
 * (http only against a local http sandbox) and be on an exact allowed origin (ASVS 3.7.2, T09).
 */
function checkPaymentPage(settings: Settings, call: PreparedCall, responseData: unknown): object {
  const fastPay =
    'apiOperation' in call.requestData && call.requestData.apiOperation === ApiOperation.FastPay;
  const data = isRecord(responseData) ? responseData : undefined;
  if (!data || typeof data.transactionID !== 'string' || data.transactionID.length === 0) {
    throw upstreamError(call, `Galaxy Pay ${call.name} reply has no transactionID`, {
      httpStatus: 200,
      retryable: false,
    });
  }
  // FAST_PAY charges at once and answers without a page (§7.4).
  if (fastPay && data.endpoint === undefined) return data;
  const url = typeof data.endpoint === 'string' ? parseUrl(data.endpoint) : undefined;
  const schemeAllowed =
    url !== undefined &&
    (url.protocol === 'https:' || (url.protocol === 'http:' && settings.baseIsHttp));
  if (url && schemeAllowed && settings.pageOrigins.has(url.origin)) {
    return { ...data, endpoint: url.href };
  }
  settings.logger.error(
    {
      event: 'gateway_untrusted_reply',
      check: 'endpoint_origin',
      endpoint: call.name,
      requestId: call.requestId,
      // The origin only (the path may carry tokens); JSON logging escapes it.
      endpointOrigin: url ? url.origin.slice(0, 100) : 'unparseable',
    },
    `Galaxy Pay ${call.name} reply points the shopper outside the allowed payment origins; refused`,
  );
  throw new GatewayError({
    code: GatewayErrorCode.UpstreamUntrusted,
    endpoint: call.name,
    requestId: call.requestId,
    httpStatus: 200,
    message: `Galaxy Pay ${call.name} reply has an endpoint outside the allowed payment origins`,
  });
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function authError(
  settings: Settings,
  call: PreparedCall,
  httpStatus: number,
  responseCode = '401',
): GatewayError {
  settings.logger.error(
    { event: 'gateway_auth_failed', endpoint: call.name, requestId: call.requestId, httpStatus },
    `Galaxy Pay ${call.name} refused our credentials; check GALAXY_PAY_API_KEY and GALAXY_PAY_SALT`,
  );
  return new GatewayError({
    code: GatewayErrorCode.AuthFailed,
    endpoint: call.name,
    requestId: call.requestId,
    httpStatus,
    responseCode,
    message: `Galaxy Pay ${call.name} refused the credentials (HTTP ${httpStatus}): wrong API key or salt`,
  });
}
