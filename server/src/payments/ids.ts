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
 * A new session's id: the time in milliseconds (48 bits, big-endian), then 80 random bits, in base64url.
 *
 * Why the time first: sessions are paid roughly in the order they were opened, and each IPN adds index
 * entries keyed by the session (its outbox row, its payment event). With random ids each of those lands on a
 * random index page, which the commit then writes to the WAL; with ids that grow with time they land next to
 * each other. On SQLite that was 15–20 % of an IPN's CPU in the bench (docs/performance.md). Eighty random bits
 * keep an id unguessable; the time it shows is when the shopper opened the checkout, which the session's own
 * status says anyway.
 */
export function newSessionId(nowMs: number = Date.now()): string {
  const id = randomBytes(16);
  // Any clock a test injects: before 1970 counts as 1970, and 48 bits last until the year 10889.
  id.writeUIntBE(
    Number.isFinite(nowMs) ? Math.min(Math.max(0, Math.floor(nowMs)), 2 ** 48 - 1) : 0,
    0,
    6,
  );
  return id.toString('base64url');
}

/** A new session's gateway `orderID`: 32 hex characters, unique per session (a retry never collides). */
export function newGatewayOrderId(): string {
  return randomBytes(16).toString('hex');
}
