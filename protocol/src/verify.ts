import { timingSafeEqual } from 'node:crypto';
import { signText } from './sign.js';
import type { CallbackPayload, PaymentLinkCallback, TransactionCallback } from './types.js';

/** Stable codes of `CallbackError`: what went wrong, in a form code can switch on. */
export const CallbackErrorCode = {
  /** `data` or `signature` missing, not one string (arrays: parameter pollution), or badly formatted. */
  Malformed: 'malformed_callback',
  /** The signature does not match `data` and the salt. */
  InvalidSignature: 'invalid_signature',
  /** `data` is larger than the verifier accepts; refused before hashing. */
  TooLarge: 'callback_too_large',
  /** Signed, but `data` is not strict base64 of UTF-8 text. */
  InvalidEncoding: 'invalid_encoding',
  /** Signed, but the decoded text is not JSON. */
  InvalidJson: 'invalid_json',
  /** Signed JSON that is not a callback of a known shape (or carries `__proto__`-style keys). */
  InvalidPayload: 'invalid_payload',
} as const;
export type CallbackErrorCode = (typeof CallbackErrorCode)[keyof typeof CallbackErrorCode];

/** The only error `verifyCallback` throws. `signed` tells whether the signature had been checked and matched. */
export class CallbackError extends Error {
  override readonly name = 'CallbackError';
  readonly code: CallbackErrorCode;
  /** True once the signature verified: the content came from the gateway, even if it is unusable. */
  readonly signed: boolean;

  constructor(code: CallbackErrorCode, message: string, signed = false) {
    super(message);
    this.code = code;
    this.signed = signed;
  }
}

const HEX_64 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Largest `data` accepted by default: Galaxy Pay callbacks are a few hundred bytes. */
export const DEFAULT_MAX_DATA_LENGTH = 32 * 1024;

/**
 * Whether `signature` is Galaxy Pay's signature of `text` (lowercase hex SHA-256 of text + salt).
 * Upper-case hex is lower-cased first (our pinned choice); any other format is simply not a match.
 * Constant-time: both sides are 32 bytes by the time they are compared, so `timingSafeEqual` cannot throw.
 */
export function signatureMatches(text: string, signature: unknown, salt: string): boolean {
  if (typeof signature !== 'string') return false;
  const given = signature.toLowerCase();
  if (!HEX_64.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(signText(text, salt), 'hex'));
}

/**
 * Checks a gateway response's `signature` header over the raw response text, before it is parsed.
 * The formula is not documented; `sha256(rawBody + salt)` is our reading [CONFIRM in UAT].
 */
export function verifyResponseSignature(
  rawBody: string,
  signature: string | null | undefined,
  salt: string,
): boolean {
  return signatureMatches(rawBody, signature, salt);
}

/** Options of `verifyCallback`. */
export interface VerifyCallbackOptions {
  /** Refuse `data` longer than this before hashing it. Default 32 KiB. */
  maxDataLength?: number;
}

/**
 * Verifies a result, cancel or IPN callback and returns its decoded payload.
 *
 * Order matters: the signature covers the base64 `data` text exactly as received, so it is checked first,
 * in constant time, and only then is `data` decoded, parsed and validated. Throws only `CallbackError`.
 */
export function verifyCallback(
  input: { data: unknown; signature: unknown },
  salt: string,
  options: VerifyCallbackOptions = {},
): CallbackPayload {
  const { data, signature } = readEnvelope(input);
  const maxDataLength = options.maxDataLength ?? DEFAULT_MAX_DATA_LENGTH;
  if (data.length > maxDataLength) {
    throw new CallbackError(
      CallbackErrorCode.TooLarge,
      `data is longer than ${maxDataLength} characters`,
    );
  }
  const given = signature.toLowerCase();
  if (!HEX_64.test(given)) {
    throw new CallbackError(
      CallbackErrorCode.Malformed,
      'signature must be 64 hexadecimal characters',
    );
  }
  if (!signatureMatches(data, given, salt)) {
    throw new CallbackError(
      CallbackErrorCode.InvalidSignature,
      'signature does not match data; was data re-encoded in transit, or signed with another salt?',
    );
  }
  return decodeCallbackData(data);
}

/**
 * Decodes callback `data` that has already been verified: strict base64, strict UTF-8, JSON without
 * prototype-polluting keys, and the shape of a transaction or payment-link callback.
 */
export function decodeCallbackData(data: string): CallbackPayload {
  if (data.length === 0 || !BASE64.test(data)) {
    throw new CallbackError(CallbackErrorCode.InvalidEncoding, 'data is not standard base64', true);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(data, 'base64'));
  } catch {
    throw new CallbackError(
      CallbackErrorCode.InvalidEncoding,
      'data does not decode to UTF-8 text',
      true,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CallbackError(CallbackErrorCode.InvalidJson, 'decoded data is not JSON', true);
  }
  const forbidden = forbiddenKeyIn(parsed);
  if (forbidden !== undefined) {
    throw new CallbackError(
      CallbackErrorCode.InvalidPayload,
      `decoded data contains the forbidden key "${forbidden}"`,
      true,
    );
  }
  return validatePayload(parsed);
}

/**
 * The first `__proto__`-style key anywhere in parsed JSON, or undefined. JSON.parse itself makes such keys
 * plain own properties; they are refused because code merging the payload later might not. A walk after
 * parsing, not a reviver: a reviver runs a call per value and keeps V8 off its fast JSON path.
 */
function forbiddenKeyIn(root: unknown): string | undefined {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return key;
      pending.push((value as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

function readEnvelope(input: unknown): { data: string; signature: string } {
  if (typeof input !== 'object' || input === null) {
    throw new CallbackError(CallbackErrorCode.Malformed, 'callback must carry data and signature');
  }
  const { data, signature } = input as { data?: unknown; signature?: unknown };
  // Arrays mean the parameter was repeated (`data=a&data=b`): refuse rather than pick one.
  if (typeof data !== 'string' || typeof signature !== 'string') {
    throw new CallbackError(
      CallbackErrorCode.Malformed,
      'data and signature must each be exactly one string',
    );
  }
  if (data.length === 0) throw new CallbackError(CallbackErrorCode.Malformed, 'data is empty');
  return { data, signature };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar the gateway sends as text or as a number. */
function isScalarText(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

const CODE = /^\d{1,3}$/;

function invalid(message: string): CallbackError {
  return new CallbackError(CallbackErrorCode.InvalidPayload, message, true);
}

function validatePayload(parsed: unknown): CallbackPayload {
  if (!isRecord(parsed)) throw invalid('decoded data is not a JSON object');
  const responseCode = parsed.responseCode;
  if (!isScalarText(responseCode) || !CODE.test(String(responseCode))) {
    throw invalid('responseCode must be a numeric code');
  }
  if (!isRecord(parsed.responseData)) throw invalid('responseData must be an object');
  const data = parsed.responseData;
  // The payment-link IPN spells it `requestId` (§8.4); every other callback `requestID`.
  if ('requestId' in parsed && !('requestID' in parsed)) {
    if (typeof parsed.requestId !== 'string') throw invalid('requestId must be a string');
    if (!isScalarText(data.orderNo)) throw invalid('responseData.orderNo is required');
    if (!isScalarText(data.orderAmount)) throw invalid('responseData.orderAmount is required');
    if (data.extraData !== undefined && !isRecord(data.extraData)) {
      throw invalid('responseData.extraData must be an object');
    }
    return parsed as unknown as PaymentLinkCallback;
  }
  if (typeof parsed.requestID !== 'string') throw invalid('requestID must be a string');
  for (const field of ['transactionID', 'orderID', 'orderAmount', 'orderCurrency'] as const) {
    if (!isScalarText(data[field]) || String(data[field]).length === 0) {
      throw invalid(`responseData.${field} is required`);
    }
  }
  if (data.transactionStatus !== undefined && !isScalarText(data.transactionStatus)) {
    throw invalid('responseData.transactionStatus must be a code');
  }
  if (data.tokenization !== undefined && !isRecord(data.tokenization)) {
    throw invalid('responseData.tokenization must be an object');
  }
  return parsed as unknown as TransactionCallback;
}
