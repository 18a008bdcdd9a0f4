/**
 * Customer handles: how the merchant's back end vouches for a returning customer without the browser ever
 * naming a raw customer id. A handle is `gpch1.<payload>.<mac>`: base64url JSON `{c, e}` (customer
 * reference, expiry in Unix seconds) and HMAC-SHA256 over `gpch1.<payload>` with a dedicated secret
 * (CUSTOMER_HANDLE_SECRET, never the gateway salt). The signer checks it in constant time, and refuses it
 * once expired.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Merchant customer references: ids, e-mail-like values; nothing that needs escaping. */
export const CUSTOMER_REF = /^[A-Za-z0-9_.:@+-]{1,100}$/;
/** Longest lifetime a handle may be minted with. */
export const MAX_HANDLE_TTL_SECONDS = 24 * 3600;

const PREFIX = 'gpch1';
const HANDLE = /^gpch1\.([A-Za-z0-9_-]{1,300})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed, 'utf8').digest();
}

/**
 * Mints a handle for `customerRef`, valid `ttlSeconds` from `now` (router mode: call it in your back end
 * and hand the result to the page that renders the widget).
 */
export function mintCustomerHandle(
  secret: string,
  customerRef: string,
  ttlSeconds: number,
  now: Date = new Date(),
): { handle: string; expiresAt: Date } {
  if (!CUSTOMER_REF.test(customerRef)) {
    throw new TypeError('mintCustomerHandle: customerRef must be 1-100 of A-Z a-z 0-9 _ . : @ + -');
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_HANDLE_TTL_SECONDS) {
    throw new TypeError(`mintCustomerHandle: ttlSeconds must be 1-${MAX_HANDLE_TTL_SECONDS}`);
  }
  const expires = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const payload = Buffer.from(JSON.stringify({ c: customerRef, e: expires })).toString('base64url');
  const signed = `${PREFIX}.${payload}`;
  return {
    handle: `${signed}.${mac(secret, signed).toString('base64url')}`,
    expiresAt: new Date(expires * 1000),
  };
}

/** Why a handle was refused (stable codes for the HTTP answer). */
export type HandleRefusal = 'invalid_customer_handle' | 'customer_handle_expired';

/** The customer reference a handle vouches for, or why it is refused. */
export function verifyCustomerHandle(
  secret: string,
  handle: unknown,
  now: Date = new Date(),
): { ok: true; customerRef: string } | { ok: false; code: HandleRefusal } {
  const match = typeof handle === 'string' ? HANDLE.exec(handle) : null;
  if (!match) return { ok: false, code: 'invalid_customer_handle' };
  const expected = mac(secret, `${PREFIX}.${match[1]}`);
  const given = Buffer.from(match[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: 'invalid_customer_handle' };
  }
  let claims: { c?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return { ok: false, code: 'invalid_customer_handle' };
  }
  if (
    typeof claims.c !== 'string' ||
    !CUSTOMER_REF.test(claims.c) ||
    typeof claims.e !== 'number'
  ) {
    return { ok: false, code: 'invalid_customer_handle' };
  }
  if (claims.e * 1000 <= now.getTime()) return { ok: false, code: 'customer_handle_expired' };
  return { ok: true, customerRef: claims.c };
}
