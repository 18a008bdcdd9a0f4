/**
 * How a gateway client is configured: the options callers pass (`GatewayClientOptions`, per-call
 * `CallOptions`), their defaults, and the checked `Settings` every call runs on. A bad option is refused at
 * creation with a `TypeError` naming it, never its value (the API key and the salt are secrets).
 */

import { setTimeout as delay } from 'node:timers/promises';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { fetchHttpClient, nodeHttpClient, type HttpClient } from '../net/http-client.js';

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
  /**
   * A `fetch` to send through instead of `node:http` (a proxying fetch, or a test's stand-in gateway).
   * Default: `node:http` (see net/http-client.ts for why not the global fetch).
   */
  fetch?: typeof fetch;
}

/** Per-call options of the convenience methods. */
export interface CallOptions {
  /** The `requestID` to send (Alphanumeric(50)); default a fresh 128-bit hex id. Save it before calling. */
  requestId?: string;
  /** Aborts the call; the abort reason is rethrown as it is and does not count against the gateway. */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BASE_DELAY_MS = 200;

export interface Settings {
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
  http: HttpClient;
  breaker: CircuitBreaker;
}

export function resolveSettings(options: GatewayClientOptions): Settings {
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
    http: options.fetch ? fetchHttpClient(options.fetch) : nodeHttpClient(),
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
