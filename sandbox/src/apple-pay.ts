/**
 * Apple Pay merchant validation, played offline [INFERRED]. Galaxy Pay's docs list an "Apple Pay Validation"
 * page (Appendix › Payment Hubs) whose content is not available, so the path (`Endpoint.ApplePayValidation`),
 * the fields and the reply are our reading (ledger K4–K6): the merchant's server forwards Apple's
 * `validationURL` and its page's domain, signed like any API call, and gets Apple's opaque merchant session
 * back. The sandbox never contacts Apple: it checks the URL is one of Apple's and answers a session-shaped
 * object.
 */

import { randomBytes } from 'node:crypto';
import { sha256Hex } from '@galaxy-pay/protocol';
import { ok, type Operation } from './reply.js';

/**
 * Apple's merchant-validation hosts (Apple Pay on the Web, "Setting Up Your Server"): `apple-pay-gateway`,
 * its `-cert` (sandbox), `-nc-pod*`/`-pr-pod*` and `cn-` variants, all under `apple.com`.
 */
export const APPLE_VALIDATION_HOST = /^(?:cn-)?apple-pay-gateway(?:-[a-z0-9]+)*\.apple\.com$/;

/** Whether `value` is an https URL on one of Apple's merchant-validation hosts. */
export function isAppleValidationUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.port && APPLE_VALIDATION_HOST.test(url.hostname);
  } catch {
    return false;
  }
}

/** Answers one validation request whose envelope and fields api.ts has already checked. */
export const validateApplePayMerchant: Operation = (ctx, { data }) => {
  if (!isAppleValidationUrl(data.validationURL)) {
    // Returned, not thrown as an ApiError: the message stays as it is, without the field appended.
    return {
      httpStatus: 400,
      responseCode: '400',
      responseMessage: "Bad Request: validationURL is not one of Apple Pay's validation URLs",
      field: 'requestData.validationURL',
    };
  }
  const now = ctx.options.now().getTime();
  const session = {
    epochTimestamp: now,
    expiresAt: now + 5 * 60_000,
    merchantSessionIdentifier: `SSH${randomBytes(16).toString('hex').toUpperCase()}`,
    nonce: randomBytes(4).toString('hex'),
    merchantIdentifier: sha256Hex(`merchant.${ctx.options.apiKey}`).toUpperCase(),
    domainName: String(data.domainName),
    displayName: typeof data.displayName === 'string' ? data.displayName : 'Galaxy Pay Sandbox',
    signature: randomBytes(64).toString('hex'),
  };
  return ok(ctx.options.applePaySession === 'wrapped' ? { merchantSession: session } : session);
};
