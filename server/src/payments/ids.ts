/**
 * The identifiers the signer mints for its own rows and browsers: session ids and nonces, operation and
 * saved-card ids, client keys (base64url, 128 bits by default), and the gateway `orderID` of a new session.
 */

import { randomBytes } from 'node:crypto';

/** A random id with `bytes` bytes of entropy, base64url. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Session ids: 16 bytes in base64url (22 characters), made by {@link newSessionId}. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * 16 bytes: the time in milliseconds (48 bits, big-endian), then 80 random bits.
 *
 * Why the time first: sessions are paid roughly in the order they were opened, and each IPN looks its session
 * up by gateway `orderID` and adds index entries keyed by the session id (its outbox row, its payment event).
 * With random keys each of those lands on a random index page, which the lookup reads from disk and the commit
 * writes to the WAL; with keys that grow with time they land next to each other. On SQLite that was 15–20 %
 * of an IPN's CPU in the bench for session ids, and about 13 % of the store's for gateway order ids
 * (docs/performance.md). Eighty random bits keep a key unguessable; the time it shows is when the shopper
 * opened the checkout, which the session's own status says anyway.
 */
function timeOrderedBytes(nowMs: number): Buffer {
  const id = randomBytes(16);
  // Any clock a test injects: before 1970 counts as 1970, and 48 bits last until the year 10889.
  id.writeUIntBE(
    Number.isFinite(nowMs) ? Math.min(Math.max(0, Math.floor(nowMs)), 2 ** 48 - 1) : 0,
    0,
    6,
  );
  return id;
}

/** A new session's id: {@link timeOrderedBytes} in base64url (22 characters). */
export function newSessionId(nowMs: number = Date.now()): string {
  return timeOrderedBytes(nowMs).toString('base64url');
}

/** Gateway order ids: 32 lowercase hex characters, made by {@link newGatewayOrderId}. */
export const GATEWAY_ORDER_ID = /^[0-9a-f]{32}$/;

/**
 * A new session's gateway `orderID`: {@link timeOrderedBytes} in hex (32 characters, as before it began with
 * the time), unique per session (a retry never collides).
 */
export function newGatewayOrderId(nowMs: number = Date.now()): string {
  return timeOrderedBytes(nowMs).toString('hex');
}
