/**
 * The signer's only way out to Galaxy Pay: sign once, send those exact bytes, and trust nothing that comes back
 * until it has been checked (docs/reliability.md §5 "Outbound calls", T07–T10; docs/protocol.md §3, §4).
 *
 * Every call gets one deadline covering connect, headers and body; the body is read incrementally under a
 * size cap; redirects are refused; the reply's `signature` header is verified over the raw text before it is
 * parsed; and a hosted-page `endpoint` must be on an allowed origin before any caller sees it. Retries happen
 * only where the gateway cannot have acted twice, and a circuit breaker stops hammering a failing gateway.
 */

import { setTimeout as delay } from 'node:timers/promises';
import {
  ApiOperation,
  Endpoint,
  formatGatewayDateTime,
  isSuccessResponseCode,
  newRequestId,
  serializeAndSign,
  verifyResponseSignature,
  type CaptureRequestData,
  type CheckoutRequestData,
  type CreatePaymentLinkRequestData,
  type CreateTokenRequestData,
  type DeleteTokenRequestData,
  type EndpointPath,
  type EndpointRequestData,
  type EndpointResponseData,
  type GatewayRequest,
  type PayRequestData,
  type PayWithOptionRequestData,
  type PayWithQrRequestData,
  type QueryTokensRequestData,
  type RefundRequestData,
  type VoidRequestData,
} from '@galaxy-pay/protocol';
import { CircuitBreaker, type CircuitPermit, type CircuitState } from './circuit-breaker.js';

/** Stable codes of `GatewayError`: what went wrong, in a form callers and HTTP answers can switch on. */
export const GatewayErrorCode = {
  /** The deadline passed before the whole reply arrived; the gateway may still have acted. */
  UpstreamTimeout: 'upstream_timeout',
  /** Connection error or reset, HTTP 5xx, a redirect, or a reply that is not a usable envelope. */
  UpstreamError: 'upstream_error',
  /** The reply's signature does not verify, or its hosted-page `endpoint` is not on an allowed origin. */
  UpstreamUntrusted: 'upstream_untrusted',
  /** HTTP 401 or `responseCode` 401: the API key or the salt is wrong. Never retried; alerted. */
  AuthFailed: 'gateway_auth_failed',
  /** `responseCode` 409: the orderID already exists at the gateway; reconcile through `query`. */
  Duplicate: 'gateway_duplicate',
  /** Any other non-success `responseCode` (e.g. 400 naming a field); see `responseCode`/`responseMessage`. */
  Rejected: 'gateway_rejected',
  /** The circuit breaker is open: nothing was sent. See `retryAfterSeconds`. */
  CircuitOpen: 'circuit_open',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/** The HTTP status the signer should answer with for each code (the browser never sees gateway details). */
const STATUS_OF: Readonly<Record<GatewayErrorCode, number>> = {
  upstream_timeout: 504,
  upstream_error: 502,
  upstream_untrusted: 502,
  gateway_auth_failed: 502,
  gateway_duplicate: 502,
  gateway_rejected: 502,
  circuit_open: 503,
};

/** Whether the condition is transient by default (a later attempt of the same request may succeed). */
const RETRYABLE_BY_DEFAULT: Readonly<Record<GatewayErrorCode, boolean>> = {
  upstream_timeout: true,
  upstream_error: true,
  upstream_untrusted: false,
  gateway_auth_failed: false,
  gateway_duplicate: false,
  gateway_rejected: false,
  circuit_open: true,
};

/** Codes that count as a failure of the gateway for the circuit breaker (see `settlePermit`). */
const BREAKER_FAILURES: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  'upstream_timeout',
  'upstream_error',
  'upstream_untrusted',
  'gateway_auth_failed',
]);

/** What `GatewayError` is built from. */
export interface GatewayErrorInit {
  code: GatewayErrorCode;
  /** The endpoint's short name (`checkout`, `query`, …). */
  endpoint: string;
  /** Names the endpoint and the failure; never a secret, a signature or a body. */
  message: string;
  requestId?: string;
  /** Overrides the code's default (malformed replies are not worth retrying). */
  retryable?: boolean;
  /** Default true; false only when the request provably never left (connection refused, circuit open). */
  mayHaveReachedGateway?: boolean;
  httpStatus?: number;
  responseCode?: string;
  responseMessage?: string;
  retryAfterSeconds?: number;
}

/**
 * The only error the gateway client throws (apart from the caller's own abort reason, rethrown as it is).
 * Its message names the endpoint but never contains the API key, the salt, a signature or a body.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  /** Stable code to switch on. */
  readonly code: GatewayErrorCode;
  /** The HTTP status the signer should answer with: 504, 502 or 503. */
  readonly status: number;
  /**
   * The same request may succeed later. For a non-idempotent call that `mayHaveReachedGateway`, reconcile
   * through `query` (or a 409 on the next attempt) instead of sending a new order.
   */
  readonly retryable: boolean;
  /** False only when the gateway cannot have seen the request: the caller may safely try again later. */
  readonly mayHaveReachedGateway: boolean;
  /** The endpoint's short name. */
  readonly endpoint: string;
  /** The `requestID` that was sent (also when the reply never came). */
  readonly requestId?: string;
  /** The gateway's HTTP status, when there was a reply. */
  readonly httpStatus?: number;
  /** The gateway's `responseCode` (rejections, duplicates, auth failures). */
  readonly responseCode?: string;
  /** The gateway's `responseMessage`: control characters removed, secrets redacted, at most 200 characters. */
  readonly responseMessage?: string;
  /** `circuit_open` only: when to try again (for a `Retry-After` header). */
  readonly retryAfterSeconds?: number;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.code = init.code;
    this.status = STATUS_OF[init.code];
    this.retryable = init.retryable ?? RETRYABLE_BY_DEFAULT[init.code];
    this.mayHaveReachedGateway = init.mayHaveReachedGateway ?? true;
    this.endpoint = init.endpoint;
    this.requestId = init.requestId;
    this.httpStatus = init.httpStatus;
    this.responseCode = init.responseCode;
    this.responseMessage = init.responseMessage;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** A plain object for logs; the message is included because `Error#message` is not enumerable. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
      mayHaveReachedGateway: this.mayHaveReachedGateway,
      endpoint: this.endpoint,
      requestId: this.requestId,
      httpStatus: this.httpStatus,
      responseCode: this.responseCode,
      responseMessage: this.responseMessage,
      retryAfterSeconds: this.retryAfterSeconds,
    };
  }
}

/** A pino-compatible logger for alerts. Log objects never carry secrets, signatures or bodies. */
export interface GatewayLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Options of `createGatewayClient`. */
export interface GatewayClientOptions {
  /** API base, e.g. `https://uat-secure.galaxypay.vn`; plain http only for the local sandbox. */
  baseUrl: string;
  /** The merchant's API key (a bearer credential: never logged). */
  apiKey: string;
  /** The merchant's signature salt (never leaves this module). */
  salt: string;
  /** Exact origins a hosted-page `endpoint` may be on, e.g. `https://uat-payment.galaxypay.vn`. */
  pageOrigins: readonly string[];
  /**
   * One deadline per attempt covering connect, headers and body. Default 10 000 ms. A retried idempotent
   * call may take up to (retries + 1) × timeoutMs plus backoff; pass a `signal` to bound the whole call.
   */
  timeoutMs?: number;
  /** Largest reply accepted, read incrementally; larger replies are aborted. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Extra attempts where a retry is safe (see `call`). Default 2. */
  retries?: number;
  /** Full-jitter exponential backoff base: attempt n waits random() × base × 2ⁿ. Default 200 ms. */
  baseDelayMs?: number;
  /** Circuit breaker: consecutive failures that open it (default 5) and how long it stays open (30 s). */
  breaker?: { failureThreshold?: number; openMs?: number };
  /**
   * `'enforce'` (default) refuses a reply whose `signature` header is absent or does not verify. `'log'` only
   * logs it and carries on: Galaxy Pay does not document the response-signature formula, so a first UAT run
   * may use `'log'` (standalone: `GALAXY_PAY_RESPONSE_SIGNATURE=log`) until the formula is confirmed;
   * production must run `'enforce'`. See docs/gateway-fidelity.md, R1–R7.
   */
  verifyResponseSignature?: 'enforce' | 'log';
  /** The clock for `requestDateTime` (GMT+7) and the circuit breaker. */
  now?: () => Date;
  /** Random source in [0, 1) for backoff jitter. */
  random?: () => number;
  /** Waits between attempts; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Alerts: untrusted replies, auth failures, circuit changes. Default: silent. */
  logger?: GatewayLogger;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Per-call options of the convenience methods. */
export interface CallOptions {
  /** The `requestID` to send (Alphanumeric(50)); default a fresh 128-bit hex id. Save it before calling. */
  requestId?: string;
  /** Aborts the call; the abort reason is rethrown as it is and does not count against the gateway. */
  signal?: AbortSignal;
}

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

/** Calls Galaxy Pay. Every method resolves with a verified success or rejects with `GatewayError`. */
export interface GatewayClient {
  /**
   * Signs and sends one request. Retries (at most `retries`, with full-jitter backoff) only when it is safe:
   * when the connection was never established, for any call; after a 5xx, a reset or a timeout, only for
   * `idempotent` calls. A non-idempotent call that timed out rejects with `upstream_timeout`: the caller
   * marks the order `pending_unknown` and reconciles through `query`.
   */
  call<P extends EndpointPath>(
    endpoint: P,
    requestData: EndpointRequestData[P],
    options?: CallOptions & { idempotent?: boolean },
  ): Promise<GatewayReply<P>>;
  /** `transaction/checkout` (modal checkout). Never retried once sent. */
  checkout(
    data: CheckoutRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Checkout>>;
  /** `transaction/pay`. Never retried once sent. */
  pay(data: PayRequestData, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Pay>>;
  /** `transaction/payWithOption`. Never retried once sent. */
  payWithOption(
    data: PayWithOptionRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.PayWithOption>>;
  /** `transaction/payWithQR`. Never retried once sent. */
  payWithQr(
    data: PayWithQrRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.PayWithQr>>;
  /** `transaction/query`: a read, so retried after 5xx, resets and timeouts too. */
  query(transactionID: string, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Query>>;
  /** `transaction/refund`. Never retried once sent. */
  refund(
    data: RefundRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Refund>>;
  /** `transaction/void` (path inferred). Never retried once sent. */
  void(data: VoidRequestData, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Void>>;
  /** `transaction/capture`. Never retried once sent. */
  capture(
    data: CaptureRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Capture>>;
  /** `transaction/createPaymentLink`. Never retried once sent. */
  createPaymentLink(
    data: CreatePaymentLinkRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.CreatePaymentLink>>;
  /** `tokenization/createToken`. Never retried once sent. */
  createToken(
    data: CreateTokenRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.CreateToken>>;
  /** `tokenization/deleteToken`. Never retried once sent. */
  deleteToken(
    data: DeleteTokenRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.DeleteToken>>;
  /** `tokenization/queryTokens`: a read, retried like `query`. */
  queryTokens(
    data: QueryTokensRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.QueryTokens>>;
  /** The circuit breaker's state, for health and readiness reports. */
  circuitState(): CircuitState;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BASE_DELAY_MS = 200;
/** No single backoff wait is longer than this, whatever `retries` is. */
const MAX_BACKOFF_MS = 5_000;
const MAX_RESPONSE_MESSAGE = 200;
const REQUEST_ID = /^[A-Za-z0-9-]{1,50}$/;

/** Replies that send the shopper to a hosted page: their `endpoint` must be on an allowed origin. */
const PAYMENT_PAGE_ENDPOINTS: ReadonlySet<EndpointPath> = new Set<EndpointPath>([
  Endpoint.Checkout,
  Endpoint.Pay,
  Endpoint.PayWithOption,
  Endpoint.PayWithQr,
]);

/** Network error codes meaning the connection was never established, so nothing reached the gateway. */
const NOT_CONNECTED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface Settings {
  apiBase: string;
  baseIsHttp: boolean;
  apiKey: string;
  salt: string;
  pageOrigins: ReadonlySet<string>;
  timeoutMs: number;
  maxResponseBytes: number;
  retries: number;
  baseDelayMs: number;
  enforceSignature: boolean;
  now: () => Date;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger: GatewayLogger;
  fetch: typeof fetch;
  breaker: CircuitBreaker;
}

/** One signed request, ready to (re)send: retries send these exact bytes again. */
interface PreparedCall {
  path: EndpointPath;
  name: string;
  url: string;
  requestId: string;
  requestData: object;
  body: string;
  signature: string;
}

/** Creates a gateway client. Throws a `TypeError` naming the bad option (never its value) when misconfigured. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const settings = resolveSettings(options);
  const call = <P extends EndpointPath>(
    path: P,
    requestData: EndpointRequestData[P],
    callOptions: CallOptions & { idempotent?: boolean } = {},
  ): Promise<GatewayReply<P>> => callGateway(settings, path, requestData, callOptions);
  const once = (options?: CallOptions) => ({ ...options, idempotent: false });
  const read = (options?: CallOptions) => ({ ...options, idempotent: true });
  return {
    call,
    checkout: (data, o) => call(Endpoint.Checkout, data, once(o)),
    pay: (data, o) => call(Endpoint.Pay, data, once(o)),
    payWithOption: (data, o) => call(Endpoint.PayWithOption, data, once(o)),
    payWithQr: (data, o) => call(Endpoint.PayWithQr, data, once(o)),
    query: (transactionID, o) => call(Endpoint.Query, { transactionID }, read(o)),
    refund: (data, o) => call(Endpoint.Refund, data, once(o)),
    void: (data, o) => call(Endpoint.Void, data, once(o)),
    capture: (data, o) => call(Endpoint.Capture, data, once(o)),
    createPaymentLink: (data, o) => call(Endpoint.CreatePaymentLink, data, once(o)),
    createToken: (data, o) => call(Endpoint.CreateToken, data, once(o)),
    deleteToken: (data, o) => call(Endpoint.DeleteToken, data, once(o)),
    queryTokens: (data, o) => call(Endpoint.QueryTokens, data, read(o)),
    circuitState: () => settings.breaker.state,
  };
}

function resolveSettings(options: GatewayClientOptions): Settings {
  const base = parseBaseUrl(options.baseUrl);
  requireSecret('apiKey', options.apiKey);
  requireSecret('salt', options.salt);
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? silentLogger;
  return {
    apiBase: base.href.endsWith('/') ? base.href : `${base.href}/`,
    baseIsHttp: base.protocol === 'http:',
    apiKey: options.apiKey,
    salt: options.salt,
    pageOrigins: parsePageOrigins(options.pageOrigins, base.protocol === 'http:'),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxResponseBytes: positive(
      'maxResponseBytes',
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    ),
    retries: nonNegativeInteger('retries', options.retries ?? DEFAULT_RETRIES),
    baseDelayMs: nonNegative('baseDelayMs', options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS),
    enforceSignature: (options.verifyResponseSignature ?? 'enforce') === 'enforce',
    now,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    logger,
    fetch: options.fetch ?? fetch,
    breaker: new CircuitBreaker({
      failureThreshold: options.breaker?.failureThreshold,
      openMs: options.breaker?.openMs,
      now: () => now().getTime(),
      onStateChange: ({ from, to, failures }) => logCircuitChange(logger, from, to, failures),
    }),
  };
}

const silentLogger: GatewayLogger = { warn: () => undefined, error: () => undefined };

function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('createGatewayClient: baseUrl is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(
      'createGatewayClient: baseUrl must be https (http only for the local sandbox)',
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError(
      'createGatewayClient: baseUrl must not carry credentials, a query or a fragment',
    );
  }
  return url;
}

function parsePageOrigins(values: readonly string[], baseIsHttp: boolean): ReadonlySet<string> {
  if (!Array.isArray(values) || values.length === 0) {
    throw new TypeError('createGatewayClient: pageOrigins must list at least one origin');
  }
  const origins = new Set<string>();
  for (const value of values) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TypeError('createGatewayClient: every pageOrigins entry must be an origin URL');
    }
    const isOrigin = url.pathname === '/' && !url.search && !url.hash && !url.username;
    if (!isOrigin || !(url.protocol === 'https:' || (url.protocol === 'http:' && baseIsHttp))) {
      throw new TypeError(
        'createGatewayClient: pageOrigins entries must be bare origins, https unless baseUrl is http',
      );
    }
    origins.add(url.origin);
  }
  return origins;
}

function requireSecret(name: string, value: unknown): void {
  // The message names the option, never its value: it is a secret.
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`createGatewayClient: ${name} is required`);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`createGatewayClient: ${name} must be a positive number`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`createGatewayClient: ${name} must be a number of at least 0`);
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`createGatewayClient: ${name} must be an integer of at least 0`);
  }
  return value;
}

async function callGateway<P extends EndpointPath>(
  settings: Settings,
  path: P,
  requestData: EndpointRequestData[P],
  options: CallOptions & { idempotent?: boolean },
): Promise<GatewayReply<P>> {
  options.signal?.throwIfAborted();
  const call = prepare(settings, path, requestData, options.requestId);
  for (let attempt = 0; ; attempt++) {
    const permit = settings.breaker.tryAcquire();
    if (!permit) throw circuitOpenError(settings, call);
    try {
      const reply = await exchange(settings, call, options.signal);
      permit.success();
      return reply as GatewayReply<P>;
    } catch (error) {
      settlePermit(permit, error);
      if (attempt >= settings.retries || !shouldRetry(error, options.idempotent === true)) {
        throw error;
      }
    }
    await abortable(settings.sleep(backoffMs(settings, attempt), options.signal), options.signal);
  }
}

/** Builds and signs the envelope once; every attempt sends exactly this body (docs/reliability.md rule 2). */
function prepare(
  settings: Settings,
  path: EndpointPath,
  requestData: object,
  requestId: string | undefined,
): PreparedCall {
  const id = requestId ?? newRequestId();
  if (!REQUEST_ID.test(id)) {
    throw new TypeError('gateway client: requestId must be 1–50 letters, digits or dashes');
  }
  const request: GatewayRequest = {
    requestID: id,
    requestDateTime: formatGatewayDateTime(settings.now()),
    requestData,
  };
  const { body, signature } = serializeAndSign(request, settings.salt);
  return {
    path,
    name: path.slice(path.lastIndexOf('/') + 1),
    url: `${settings.apiBase}${path}`,
    requestId: id,
    requestData,
    body,
    signature,
  };
}

/**
 * What the breaker learns from an attempt. Timeouts, transport errors, untrusted replies and auth failures
 * count: with a wrong key or a tampering middlebox every further call is wasted (and may get the merchant
 * locked out), so failing fast is right. A business rejection or a duplicate proves the gateway is up and
 * answering, so it counts as a success. The caller's own abort says nothing about the gateway.
 */
function settlePermit(permit: CircuitPermit, error: unknown): void {
  if (!(error instanceof GatewayError)) permit.release();
  else if (BREAKER_FAILURES.has(error.code)) permit.failure();
  else permit.success();
}

/**
 * Connection never established: safe for any call. After that the gateway may have acted, so 5xx, resets and
 * timeouts are retried only for idempotent reads; a second checkout could create a second transaction.
 */
function shouldRetry(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof GatewayError) || !error.retryable) return false;
  return idempotent || !error.mayHaveReachedGateway;
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, base × 2ⁿ). */
function backoffMs(settings: Settings, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, settings.baseDelayMs * 2 ** attempt);
  return Math.floor(settings.random() * ceiling);
}

function circuitOpenError(settings: Settings, call: PreparedCall): GatewayError {
  const retryAfterSeconds = Math.max(1, Math.ceil(settings.breaker.retryAfterMs() / 1000));
  return new GatewayError({
    code: GatewayErrorCode.CircuitOpen,
    endpoint: call.name,
    requestId: call.requestId,
    mayHaveReachedGateway: false,
    retryAfterSeconds,
    message: `Galaxy Pay ${call.name} not sent: the circuit is open after repeated gateway failures; retry in ${retryAfterSeconds} s`,
  });
}

/** The deadline's own abort reason, so a timeout is never confused with the caller's abort. */
class DeadlineExceeded extends Error {}

/** One HTTP exchange under one deadline, from connect to the last byte of the body. */
async function exchange(
  settings: Settings,
  call: PreparedCall,
  callerSignal: AbortSignal | undefined,
): Promise<GatewayReply<EndpointPath>> {
  callerSignal?.throwIfAborted();
  const controller = new AbortController();
  const deadline = new DeadlineExceeded();
  const timer = setTimeout(() => controller.abort(deadline), settings.timeoutMs);
  const forwardAbort = () => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', forwardAbort, { once: true });
  try {
    const response = await abortable(
      settings.fetch(call.url, {
        method: 'POST',
        headers: {
          apikey: settings.apiKey,
          signature: call.signature,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: call.body,
        redirect: 'error', // ASVS 15.3.2: a redirect would re-send the signed body to another host
        signal: controller.signal,
      }),
      controller.signal,
    );
    return await readReply(settings, call, response, controller.signal);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    if (controller.signal.reason === deadline) throw timeoutError(settings, call);
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw transportError(call, error);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', forwardAbort);
    // Frees the connection when the body was not read (401, 5xx, oversize); a no-op after a full read.
    if (!controller.signal.aborted) controller.abort();
  }
}

async function readReply(
  settings: Settings,
  call: PreparedCall,
  response: Response,
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
function checkHttpStatus(settings: Settings, call: PreparedCall, response: Response): void {
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
  const contentType = response.headers.get('content-type') ?? '';
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
  response: Response,
  signal: AbortSignal,
): Promise<string> {
  const tooLarge = () =>
    upstreamError(
      call,
      `Galaxy Pay ${call.name} reply is larger than ${settings.maxResponseBytes} bytes`,
      { httpStatus: response.status, retryable: false },
    );
  const declared = Number(response.headers.get('content-length') ?? NaN);
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

/**
 * Reads a body chunk by chunk and gives up as soon as it exceeds `limit` (returns `undefined`), so a huge or
 * endless reply never sits in memory. Each read also races the abort signal, so the deadline holds even
 * against a server that drips one byte at a time or a `fetch` that ignores its signal.
 */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await abortable(reader.read(), signal);
      if (done) return Buffer.concat(chunks, total);
      total += value.byteLength;
      if (total > limit) return undefined;
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

function checkSignature(
  settings: Settings,
  call: PreparedCall,
  response: Response,
  text: string,
): void {
  // Header names are case-insensitive (`Signature` is the same header); the formula is our reading (ledger R1).
  const header = response.headers.get('signature');
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

function upstreamError(
  call: PreparedCall,
  message: string,
  extra: { httpStatus?: number; retryable?: boolean; mayHaveReachedGateway?: boolean } = {},
): GatewayError {
  return new GatewayError({
    code: GatewayErrorCode.UpstreamError,
    endpoint: call.name,
    requestId: call.requestId,
    message,
    ...extra,
  });
}

function timeoutError(settings: Settings, call: PreparedCall): GatewayError {
  return new GatewayError({
    code: GatewayErrorCode.UpstreamTimeout,
    endpoint: call.name,
    requestId: call.requestId,
    message: `Galaxy Pay ${call.name} did not answer within ${settings.timeoutMs} ms`,
  });
}

/** A fetch or body-stream failure; only its code is kept (library messages are not ours to forward). */
function transportError(call: PreparedCall, error: unknown): GatewayError {
  if (causeMessage(error) === 'unexpected redirect') {
    return upstreamError(
      call,
      `Galaxy Pay ${call.name} answered with a redirect, which is never followed`,
      {
        retryable: false,
      },
    );
  }
  const code = networkErrorCode(error);
  const notConnected = code !== undefined && NOT_CONNECTED_CODES.has(code);
  return upstreamError(
    call,
    `Galaxy Pay ${call.name} failed: ${notConnected ? 'could not connect' : 'connection error'} (${code ?? 'unknown'})`,
    { mayHaveReachedGateway: !notConnected },
  );
}

/** The first `code` like `ECONNREFUSED` along an error's `cause` chain (and inside an AggregateError). */
function networkErrorCode(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 4) return undefined;
  if (typeof error.code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(error.code))
    return error.code;
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const code = networkErrorCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return networkErrorCode(error.cause, depth + 1);
}

function causeMessage(error: unknown): string | undefined {
  const cause = isRecord(error) ? error.cause : undefined;
  return isRecord(cause) && typeof cause.message === 'string' ? cause.message : undefined;
}

/**
 * The gateway's message, safe to keep on an error and to log: control and bidi-override characters become
 * spaces, the API key and salt are redacted should a gateway ever echo them, and it is cut to 200 characters.
 */
function sanitizeMessage(value: unknown, secrets: readonly string[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  let text = Array.from(value, char => (isUnsafeChar(char) ? ' ' : char)).join('');
  for (const secret of secrets) {
    if (secret.length >= 4) text = text.split(secret).join('[redacted]');
  }
  text = text.replace(/ {2,}/g, ' ').trim();
  const chars = Array.from(text);
  return chars.length > MAX_RESPONSE_MESSAGE
    ? `${chars.slice(0, MAX_RESPONSE_MESSAGE - 1).join('')}…`
    : text;
}

function isUnsafeChar(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x2028 ||
    code === 0x2029
  );
}

function logCircuitChange(
  logger: GatewayLogger,
  from: CircuitState,
  to: CircuitState,
  failures: number,
): void {
  const fields = { event: 'gateway_circuit', from, to, failures };
  if (to === 'open') {
    logger.error(
      fields,
      'Galaxy Pay circuit opened: gateway calls fail fast until a probe succeeds',
    );
  } else if (to === 'closed') {
    logger.warn(fields, 'Galaxy Pay circuit closed: the probe call succeeded');
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
