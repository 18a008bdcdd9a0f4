/**
 * What a gateway call can fail with: `GatewayError` and its stable codes, and the constructors of the
 * transport-level failures (timeout, connection, unusable reply). A failure names the endpoint and the
 * requestID, never a secret, a signature or a body; the gateway's own message is sanitized before it is kept.
 */

/** The call a failure is about: the endpoint's short name and the requestID sent. */
export interface CallRef {
  name: string;
  requestId: string;
}

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

const MAX_RESPONSE_MESSAGE = 200;

/** Network error codes meaning the connection was never established, so nothing reached the gateway. */
const NOT_CONNECTED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function upstreamError(
  call: CallRef,
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

export function timeoutError(timeoutMs: number, call: CallRef): GatewayError {
  return new GatewayError({
    code: GatewayErrorCode.UpstreamTimeout,
    endpoint: call.name,
    requestId: call.requestId,
    message: `Galaxy Pay ${call.name} did not answer within ${timeoutMs} ms`,
  });
}

/** A fetch or body-stream failure; only its code is kept (library messages are not ours to forward). */
export function transportError(call: CallRef, error: unknown): GatewayError {
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
export function sanitizeMessage(value: unknown, secrets: readonly string[]): string | undefined {
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
