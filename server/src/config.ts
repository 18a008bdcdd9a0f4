/**
 * The standalone signer's configuration, read once from the environment and checked at start: a bad value
 * stops the process with a message naming the variable (and its value, unless it is a secret).
 */

import { GatewayBaseUrl } from '@galaxy-pay/protocol';
import type { GatewayFlow } from './payments/checkout-request.js';
import { parseEncryptionKey } from './tokens/vault.js';

export interface Config {
  port: number;
  host: string;
  /** Where the signer's routes are reachable from browsers and the gateway (base path included). */
  publicUrl: string;
  apiKey: string;
  salt: string;
  gatewayBaseUrl: string;
  /** Exact origins the hosted `endpoint` may be on. */
  gatewayPageOrigins: string[];
  flow: GatewayFlow;
  /** Merchant page origins allowed to call the signer and to receive its messages. */
  allowedOrigins: string[];
  databaseUrl: string;
  adminToken: string | undefined;
  merchantWebhook: { url: string; secret: string } | undefined;
  sessionTtlSeconds: number;
  /** How long a client may take to send a whole request (headers and body): trickled uploads are cut off. */
  requestTimeoutSeconds: number;
  catalogFile: string | undefined;
  /** Number of proxy hops in front of the signer (`trust proxy`); 0 = none. */
  trustProxy: number;
  logLevel: string;
  /** Saved cards: AES-256-GCM keys (current first, then previous ones) and the customer-handle secret. */
  savedCards: { encryptionKeys: Buffer[]; customerHandleSecret: string } | undefined;
  captureMode: 'auto' | 'manual';
  refundWindowDays: number;
  /** Auto capture: what becomes of an authorization the gateway answered instead (`void` or `capture`). */
  unexpectedAuthorization: 'capture' | 'void';
  /** Unverified evidence kept (newest first): at most this many rows and bytes. */
  unverifiedEvidence: { maxRows: number; maxBytes: number };
  /** Unverifiable IPNs recorded per minute and source (bursts as large); 0 records none. */
  unverifiedIpnRate: number;
  /** The same, from all sources together. */
  unverifiedIpnRateTotal: number;
  /**
   * What an API reply whose `signature` header does not verify gets: `enforce` (refused, the default) or
   * `log` (accepted with a warning, for a first UAT run: the formula is not documented).
   */
  responseSignature: 'enforce' | 'log';
  /** The `orderID` refunds, voids and captures send: `per-operation` (default) or `original`. */
  managementOrderId: 'per-operation' | 'original';
  /** Galaxy Pay's Apple Pay merchant-validation path (enables the route); undefined: off. */
  applePayValidationPath: string | undefined;
}

/** A configuration error: names the variable; safe to print (never contains a secret). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Hosted-page origins per documented gateway base URL [CONFIRM production hosts in UAT]. */
const KNOWN_PAGE_ORIGINS: Record<string, string[]> = {
  [GatewayBaseUrl.Uat]: ['https://uat-payment.galaxypay.vn'],
  [GatewayBaseUrl.Production]: ['https://payment.galaxypay.vn', 'https://paymentv2.galaxypay.vn'],
};

/** The hosted-page origins of a gateway: Galaxy Pay's known hosts, else (a local sandbox) its own origin. */
export function defaultPageOrigins(gatewayBaseUrl: string): string[] {
  const origin = new URL(gatewayBaseUrl).origin;
  return KNOWN_PAGE_ORIGINS[origin] ?? [origin];
}

const SECRET_MIN_LENGTH = 32;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Env = Record<string, string | undefined>;

/** The variables the signer cannot start without, each with a line on what it is. */
export const REQUIRED_VARIABLES: Readonly<Record<string, string>> = Object.freeze({
  GALAXY_PAY_BASE_URL:
    'the gateway API: https://uat-secure.galaxypay.vn (UAT), https://secure.galaxypay.vn (production), or a local sandbox',
  GALAXY_PAY_API_KEY: 'your merchant API key, from Galaxy Pay (a secret)',
  GALAXY_PAY_SALT: 'your merchant signature salt, from Galaxy Pay (a secret)',
});

/**
 * Every required variable that is unset or still holds the `.env.example` placeholder, all at once: a
 * developer fixes them in one pass instead of one start per variable.
 */
function checkRequired(env: Env): void {
  const unset: string[] = [];
  const placeholders: string[] = [];
  for (const name of Object.keys(REQUIRED_VARIABLES)) {
    const value = optional(env, name);
    if (value === undefined) unset.push(name);
    else if (/^<replace-with-/.test(value)) placeholders.push(name);
  }
  const missing = [...unset, ...placeholders];
  if (missing.length === 0) return;
  const names = (list: string[]) =>
    list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
  const what = [
    unset.length > 0 ? `${names(unset)} ${unset.length === 1 ? 'is' : 'are'} not set` : '',
    placeholders.length > 0
      ? `${names(placeholders)} still ${placeholders.length === 1 ? 'holds' : 'hold'} the placeholder from .env.example`
      : '',
  ].filter(Boolean);
  const width = Math.max(...missing.map(name => name.length));
  throw new ConfigError(
    `${what.join('; ')}:\n` +
      missing.map(name => `  ${name.padEnd(width)}  ${REQUIRED_VARIABLES[name]}`).join('\n') +
      '\nSet them in the environment or in a .env file in the working directory (start from ' +
      '.env.example); galaxy-pay-signer --help lists every variable.',
  );
}

/** Reads and checks the environment; throws `ConfigError` naming every missing variable, or the first bad one. */
export function loadConfig(env: Env): Config {
  checkRequired(env);
  const port = integer(env, 'PORT', 8200, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL', `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  const gatewayBaseUrl = required(env, 'GALAXY_PAY_BASE_URL', { secret: false });
  const base = parseUrl('GALAXY_PAY_BASE_URL', gatewayBaseUrl);
  if (base.protocol !== 'https:' && !LOOPBACK.has(base.hostname)) {
    throw new ConfigError(
      `GALAXY_PAY_BASE_URL must be https (only a loopback sandbox may use http), not "${gatewayBaseUrl}"`,
    );
  }
  const pageOrigins = env.GALAXY_PAY_PAGE_ORIGINS
    ? originList(env, 'GALAXY_PAY_PAGE_ORIGINS')
    : defaultPageOrigins(gatewayBaseUrl);
  const webhookUrl = optional(env, 'MERCHANT_WEBHOOK_URL');
  const webhookSecret = optional(env, 'MERCHANT_WEBHOOK_SECRET');
  if (Boolean(webhookUrl) !== Boolean(webhookSecret)) {
    throw new ConfigError('MERCHANT_WEBHOOK_URL and MERCHANT_WEBHOOK_SECRET must be set together');
  }
  if (webhookUrl) parseUrl('MERCHANT_WEBHOOK_URL', webhookUrl);
  const adminToken = optional(env, 'ADMIN_TOKEN');
  if (adminToken !== undefined) checkSecret('ADMIN_TOKEN', adminToken);
  if (webhookSecret !== undefined) checkSecret('MERCHANT_WEBHOOK_SECRET', webhookSecret);
  const savedCards = savedCardsFrom(env);
  const responseSignature = responseSignatureFrom(env, base);

  // Deep: a shared Config must not be edited by whoever holds it (lists and the webhook included).
  return Object.freeze({
    port,
    host: optional(env, 'HOST') ?? '127.0.0.1',
    publicUrl,
    apiKey: required(env, 'GALAXY_PAY_API_KEY', { secret: true }),
    salt: required(env, 'GALAXY_PAY_SALT', { secret: true }),
    gatewayBaseUrl: gatewayBaseUrl.replace(/\/+$/, ''),
    gatewayPageOrigins: Object.freeze(pageOrigins) as string[],
    flow: oneOf(env, 'GALAXY_PAY_FLOW', ['checkout', 'pay', 'payWithOption'] as const, 'checkout'),
    allowedOrigins: Object.freeze(
      env.ALLOWED_ORIGINS ? originList(env, 'ALLOWED_ORIGINS') : [],
    ) as string[],
    databaseUrl: optional(env, 'DATABASE_URL') ?? 'file:galaxy-pay.db',
    adminToken,
    merchantWebhook:
      webhookUrl && webhookSecret
        ? Object.freeze({ url: webhookUrl, secret: webhookSecret })
        : undefined,
    sessionTtlSeconds: integer(env, 'SESSION_TTL_SECONDS', 1800, 60, 86_400),
    requestTimeoutSeconds: integer(env, 'REQUEST_TIMEOUT_SECONDS', 15, 1, 300),
    catalogFile: optional(env, 'CATALOG_FILE'),
    trustProxy: integer(env, 'TRUST_PROXY', 0, 0, 10),
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const,
      'info',
    ),
    savedCards,
    captureMode: oneOf(env, 'CAPTURE_MODE', ['auto', 'manual'] as const, 'auto'),
    refundWindowDays: integer(env, 'REFUND_WINDOW_DAYS', 365, 1, 365),
    unexpectedAuthorization: oneOf(
      env,
      'UNEXPECTED_AUTHORIZATION',
      ['void', 'capture'] as const,
      'void',
    ),
    unverifiedEvidence: Object.freeze({
      maxRows: integer(env, 'UNVERIFIED_EVIDENCE_MAX_ROWS', 10_000, 100, 10_000_000),
      // At least one row's worth (2 KB kept per row, plus its note).
      maxBytes: integer(env, 'UNVERIFIED_EVIDENCE_MAX_BYTES', 8 * 1024 * 1024, 65_536, 2 ** 40),
    }),
    unverifiedIpnRate: integer(env, 'UNVERIFIED_IPN_RATE', 60, 0, 100_000),
    unverifiedIpnRateTotal: integer(env, 'UNVERIFIED_IPN_RATE_TOTAL', 600, 0, 1_000_000),
    responseSignature,
    managementOrderId: oneOf(
      env,
      'GALAXY_PAY_MANAGEMENT_ORDER_ID',
      ['per-operation', 'original'] as const,
      'per-operation',
    ),
    applePayValidationPath: applePayPathFrom(env),
  });
}

/**
 * APPLE_PAY_VALIDATION_PATH: the gateway path Apple Pay merchant validation is forwarded to, relative to
 * GALAXY_PAY_BASE_URL (e.g. `api/v1/applepay/validateMerchant`, our guess: Galaxy Pay's page on it is not
 * available). Unset: the route is off.
 */
function applePayPathFrom(env: Env): string | undefined {
  const path = optional(env, 'APPLE_PAY_VALIDATION_PATH');
  if (path !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}$/.test(path)) {
    throw new ConfigError(
      `APPLE_PAY_VALIDATION_PATH must be a relative path such as api/v1/applepay/validateMerchant, not "${path}"`,
    );
  }
  return path?.includes('..') ? refuseDotDot(path) : path;
}

function refuseDotDot(path: string): never {
  throw new ConfigError(`APPLE_PAY_VALIDATION_PATH must not contain "..", not "${path}"`);
}

/** The one value of GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES that lets `log` run against production. */
export const ALLOW_UNVERIFIED_RESPONSES = 'yes-i-understand';

/**
 * GALAXY_PAY_RESPONSE_SIGNATURE: `enforce` (default) or `log`. `log` accepts replies whose signature does not
 * verify (a warning each): meant for a first UAT run, so it is refused in production (NODE_ENV=production,
 * or the production gateway) unless GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES says so in so many words.
 */
function responseSignatureFrom(env: Env, base: URL): Config['responseSignature'] {
  const mode = oneOf(env, 'GALAXY_PAY_RESPONSE_SIGNATURE', ['enforce', 'log'] as const, 'enforce');
  const allow = optional(env, 'GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES');
  if (allow !== undefined && allow !== ALLOW_UNVERIFIED_RESPONSES) {
    throw new ConfigError(
      `GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES must be "${ALLOW_UNVERIFIED_RESPONSES}" or unset, not "${allow}"`,
    );
  }
  if (mode === 'enforce' || allow !== undefined) return mode;
  const production =
    env.NODE_ENV?.trim() === 'production' ||
    base.origin === new URL(GatewayBaseUrl.Production).origin;
  if (production) {
    throw new ConfigError(
      'GALAXY_PAY_RESPONSE_SIGNATURE=log accepts gateway replies whose signature does not verify, and this ' +
        'is production (NODE_ENV=production or the production gateway); use enforce, or set ' +
        `GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES=${ALLOW_UNVERIFIED_RESPONSES} if you really mean it`,
    );
  }
  return mode;
}

/**
 * TOKEN_ENCRYPTION_KEY (32 bytes, hex or base64), TOKEN_ENCRYPTION_PREVIOUS_KEYS (comma-separated, for
 * rotation) and CUSTOMER_HANDLE_SECRET: all or none. Secrets: never echoed.
 */
function savedCardsFrom(env: Env): Config['savedCards'] {
  const key = optional(env, 'TOKEN_ENCRYPTION_KEY');
  const handleSecret = optional(env, 'CUSTOMER_HANDLE_SECRET');
  const previous = optional(env, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS');
  if (key === undefined && handleSecret === undefined) {
    if (previous !== undefined) {
      throw new ConfigError('TOKEN_ENCRYPTION_PREVIOUS_KEYS needs TOKEN_ENCRYPTION_KEY');
    }
    return undefined;
  }
  if (key === undefined || handleSecret === undefined) {
    throw new ConfigError('TOKEN_ENCRYPTION_KEY and CUSTOMER_HANDLE_SECRET must be set together');
  }
  refusePlaceholder('TOKEN_ENCRYPTION_KEY', key);
  checkSecret('CUSTOMER_HANDLE_SECRET', handleSecret);
  const parse = (name: string, text: string): Buffer => {
    const parsed = parseEncryptionKey(text);
    if (!parsed) {
      throw new ConfigError(
        `${name} must be 32 random bytes as 64 hex characters or base64 (e.g. openssl rand -base64 32)`,
      );
    }
    return parsed;
  };
  const keys = [parse('TOKEN_ENCRYPTION_KEY', key)];
  for (const item of (previous ?? '')
    .split(',')
    .map(part => part.trim())
    .filter(Boolean)) {
    keys.push(parse('TOKEN_ENCRYPTION_PREVIOUS_KEYS', item));
  }
  return Object.freeze({ encryptionKeys: keys, customerHandleSecret: handleSecret });
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string, { secret }: { secret: boolean }): string {
  const value = optional(env, name);
  if (value === undefined) {
    const hint = secret ? '; copy server/.env.example to server/.env and fill it in' : '';
    throw new ConfigError(`${name} is not set${hint}`);
  }
  if (secret) refusePlaceholder(name, value);
  return value;
}

/** `.env.example` placeholders are public text: never accept one as a secret, whatever its length. */
function refusePlaceholder(name: string, value: string): void {
  if (/^<replace-with-/.test(value)) {
    throw new ConfigError(`${name} still holds the placeholder from .env.example`);
  }
}

/** A secret we issue ourselves (admin token, webhook key): not a placeholder, and long enough. */
function checkSecret(name: string, value: string): void {
  refusePlaceholder(name, value);
  if (value.length < SECRET_MIN_LENGTH) {
    throw new ConfigError(`${name} must be at least ${SECRET_MIN_LENGTH} characters long`);
  }
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function oneOf<const T extends string>(
  env: Env,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, not "${raw}"`);
  }
  return raw as T;
}

function parseUrl(name: string, value: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, not "${value}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http(s) URL, not "${value}"`);
  }
  return parsed;
}

function url(env: Env, name: string, fallback: string): string {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  parseUrl(name, raw);
  return raw;
}

/** A comma-separated list of exact origins: `null`, `*` and paths are refused. */
function originList(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map(item => item.trim())
    .filter(Boolean)
    .map(item => {
      const parsed = item === 'null' || item === '*' ? undefined : tryUrl(item);
      if (
        !parsed ||
        parsed.origin !== item.replace(/\/$/, '') ||
        !/^https?:$/.test(parsed.protocol)
      ) {
        throw new ConfigError(
          `${name} must list exact origins such as https://shop.example (no path, no "*", no "null"), not "${item}"`,
        );
      }
      return parsed.origin;
    });
}

function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
