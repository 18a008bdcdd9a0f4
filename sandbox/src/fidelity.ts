/**
 * Where Galaxy Pay's evidence is silent or split, the sandbox plays each reading on request, so the signer can
 * be tested against all of them (docs/gateway-fidelity.md, rows R*, C* and M*):
 *
 * - how a reply is signed (the guides list a `signature` response header but give no formula; no official
 *   sample reads it);
 * - whether `transaction/checkout` honours the callback URLs it is sent (its table lists none);
 * - which `orderID` a refund, void or capture must carry (the playground and the docs example send a fresh
 *   one; the field is described as "Transaction ID at Merchant").
 */

import { sha256Hex, signText } from '@galaxy-pay/protocol';
import type { ManagementOrderIdMode, ResponseSignatureMode } from './modes.js';

/** The headers that carry a reply's signature in `mode`: none, or one name with its value. */
export function replySignatureHeaders(
  mode: ResponseSignatureMode,
  body: string,
  responseCode: string,
  salt: string,
): Record<string, string> {
  switch (mode) {
    case 'none':
      return {};
    case 'success-only':
      return responseCode === '200' ? { signature: signText(body, salt) } : {};
    case 'Signature':
      return { Signature: signText(body, salt) };
    case 'uppercase':
      return { signature: signText(body, salt).toUpperCase() };
    case 'legacy-flatten':
      return { signature: legacyFlattenSignature(body, salt) };
    case 'signature':
      return { signature: signText(body, salt) };
  }
}

/**
 * The v1/v2 (HDBank-hosted, 2022) signature: the object flattened (nested keys joined with `.`, `null`
 * dropped), keys sorted, values concatenated without separators, then `+ salt`, SHA-256, lowercase hex.
 * Applied to a reply body, it is the "different formula" a signer must not accept as ours.
 */
export function legacyFlattenSignature(body: string, salt: string): string {
  const flat = flatten(JSON.parse(body) as unknown);
  const keys = Object.keys(flat)
    .filter(key => key !== 'signature')
    .sort();
  return sha256Hex(keys.map(key => flat[key]).join('') + salt);
}

function flatten(value: unknown, prefix = '', out: Record<string, string> = {}) {
  if (value === null || typeof value !== 'object') return out;
  for (const [key, inner] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (inner !== null && typeof inner === 'object') flatten(inner, name, out);
    else if (inner !== null) out[name] = String(inner);
  }
  return out;
}

/** Why a management call's `orderID` is refused under `mode`, or undefined when it is accepted. */
export function managementOrderIdRefusal(
  mode: ManagementOrderIdMode,
  orderID: string,
  payment: { orderID: string; refundOrderIds: readonly string[] },
  usedByPayment: (orderID: string) => boolean,
): { httpStatus: 400 | 409; message: string } | undefined {
  if (mode === 'original' && orderID !== payment.orderID) {
    return {
      httpStatus: 400,
      message: `Bad Request: orderID must be the original transaction's orderID ${payment.orderID}`,
    };
  }
  if (mode === 'unique' && (orderID === payment.orderID || usedByPayment(orderID))) {
    return {
      httpStatus: 409,
      message: `Transaction Duplicate: orderID ${orderID} was already used`,
    };
  }
  if (orderID !== payment.orderID && payment.refundOrderIds.includes(orderID)) {
    return {
      httpStatus: 409,
      message: `Transaction Duplicate: refund ${orderID} was already made`,
    };
  }
  return undefined;
}
