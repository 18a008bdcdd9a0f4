/**
 * The standalone signer's configuration, read once from the environment and checked at start: a bad value
 * stops the process with a message naming the variable (and its value, unless it is a secret).
 */

import { GatewayBaseUrl } from '@galaxy-pay/protocol';
import { parseEncryptionKey } from './tokens/vault.js';

/** Which gateway API opens the hosted page. */
export type GatewayFlow = 'checkout' | 'pay' | 'payWithOption';

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

/** Reads and checks the environment; throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env): Config {
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
  });
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
