/**
 * Saved-card tokens at rest: AES-256-GCM with a key from config (TOKEN_ENCRYPTION_KEY), a fresh 96-bit IV
 * per token, and the customer reference as additional data, so a ciphertext copied onto another customer's
 * row does not decrypt. Only the masked card ever leaves the signer; the token is decrypted just before a
 * gateway call and never logged. Older keys may be kept for decryption while tokens are re-saved (rotation).
 */

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

/** A 32-byte key as 64 hex characters or base64 (standard or url-safe) of 32 bytes. */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

/** Encrypts and decrypts gateway tokens; `keys[0]` encrypts, every key decrypts (rotation). */
export interface TokenVault {
  /** The id of the encrypting key (a digest prefix, safe to store and log). */
  readonly keyId: string;
  encrypt(token: string, customerRef: string): string;
  /** Throws when no key opens it or it was bound to another customer. */
  decrypt(ciphertext: string, customerRef: string): string;
  /** Keyed digest of a token: the same token is saved once, without storing it in clear. */
  digest(token: string): string;
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

const FORMAT = /^v1\.([0-9a-f]{12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]+)$/;

/** A vault over 32-byte keys: the first encrypts, all of them decrypt. */
export function createTokenVault(keys: readonly Buffer[]): TokenVault {
  if (keys.length === 0 || keys.some(key => key.length !== 32)) {
    throw new TypeError('createTokenVault: every key must be 32 bytes');
  }
  const byId = new Map(keys.map(key => [keyIdOf(key), key]));
  const current = keys[0]!;
  const keyId = keyIdOf(current);
  const digestKey = createHmac('sha256', current).update('galaxy-pay saved-card digest').digest();
  const aad = (customerRef: string) => Buffer.from(`galaxy-pay saved card:${customerRef}`, 'utf8');
  return {
    keyId,
    encrypt(token, customerRef) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(aad(customerRef));
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', keyId, iv, tag, body]
        .map(part => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    decrypt(ciphertext, customerRef) {
      const match = FORMAT.exec(ciphertext);
      const key = match ? byId.get(match[1]!) : undefined;
      if (!match || !key)
        throw new Error('saved card cannot be decrypted with the configured keys');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(match[2]!, 'base64url'));
      decipher.setAAD(aad(customerRef));
      decipher.setAuthTag(Buffer.from(match[3]!, 'base64url'));
      const body = Buffer.from(match[4]!, 'base64url');
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    },
    digest(token) {
      return createHmac('sha256', digestKey).update(token, 'utf8').digest('hex');
    },
  };
}
