import { createHash, randomBytes } from 'node:crypto';
import type { CallbackEnvelope, GatewayRequest } from './types.js';

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Galaxy Pay's signature of a text: lowercase hex SHA-256 of `text + salt`.
 * Plain concatenation, not HMAC: that is what reproduces the documented vector V1.
 */
export function signText(text: string, salt: string): string {
  return sha256Hex(text + salt);
}

/**
 * Serializes a request once and signs exactly that text.
 * Send `body` as it is: handing the object to a client that serializes it again may change the bytes
 * (escaping, key order, number format) and break the signature.
 */
export function serializeAndSign(
  request: GatewayRequest,
  salt: string,
): { body: string; signature: string } {
  const body = JSON.stringify(request); // the only serialization
  return { body, signature: signText(body, salt) };
}

/**
 * Builds a callback as the gateway sends it (result, cancel, IPN): `data` is base64 of the JSON text and
 * `signature` covers that base64 text. The sandbox sends real callbacks with it and tests build inputs with it.
 */
export function encodeCallback(payload: unknown, salt: string): CallbackEnvelope {
  const data = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
  return { data, signature: signText(data, salt) };
}

/** A fresh `requestID`: 32 lowercase hex characters (a dash-less 128-bit random id, like the samples). */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}
