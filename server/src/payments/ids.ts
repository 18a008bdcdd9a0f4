/**
 * The identifiers the signer mints for its own rows and browsers: session ids and nonces, operation and
 * saved-card ids, client keys (base64url, 128 bits by default), and the gateway `orderID` of a new session.
 */

import { randomBytes } from 'node:crypto';

/** A random id with `bytes` bytes of entropy, base64url. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Session ids are 128-bit random base64url (22 characters): `randomId()`. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** A new session's gateway `orderID`: 32 hex characters, unique per session (a retry never collides). */
export function newGatewayOrderId(): string {
  return randomBytes(16).toString('hex');
}
