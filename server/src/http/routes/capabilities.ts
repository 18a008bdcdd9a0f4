/**
 * Handlers of gateway capabilities that are pass-throughs, not payments (issue 12 §4, ledger K2–K6):
 *
 * - `GET /admin/customers/:customerRef/gateway-tokens`: Query Tokens (docs › Tokenization › Customers):
 *   the cards Galaxy Pay keeps for a customer, named by the `customerToken` Galaxy Pay's identity provider
 *   issued (sent in the `x-customer-token` header, never in the URL, never logged). Masked data only.
 * - `POST /apple-pay/validate-merchant`: Apple Pay merchant validation. The merchant page's
 *   `onvalidatemerchant` handler sends Apple's `validationURL`; the signer checks it is one of Apple's and
 *   forwards it, signed, with the page's domain, to Galaxy Pay at a configurable path (the docs page
 *   "Apple Pay Validation" exists but its content is not available: path and fields are [INFERRED]), then
 *   returns the opaque merchant session for `completeMerchantValidation`.
 */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { EndpointPath } from '@galaxy-pay/protocol';
import type { GatewayClient } from '../../gateway/client.js';
import { GatewayError } from '../../gateway/errors.js';
import type { Logger } from '../../logger.js';
import { CUSTOMER_REF } from '../../tokens/customer-handle.js';
import { HttpError } from '../errors.js';
import { parseBody } from '../validation.js';

/** What the gateway's failure means to our caller (the same mapping as payment links). */
function gatewayFailure(error: unknown): never {
  if (!(error instanceof GatewayError)) throw error;
  if (error.code === 'gateway_rejected') {
    throw new HttpError(
      422,
      'gateway_refused',
      `the gateway refused: ${error.responseCode ?? ''} ${error.responseMessage ?? ''}`.trim(),
    );
  }
  throw new HttpError(error.status, error.code, 'the gateway call failed; try again later');
}

const CUSTOMER_TOKEN = /^[\x21-\x7e]{1,2048}$/;

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' || typeof value === 'number'
    ? String(value).slice(0, max)
    : null;
}

/** Admin handler (mounted behind the bearer check): Query Tokens for one customer. */
export function gatewayTokens(deps: { gateway: GatewayClient }): RequestHandler {
  return async (req, res) => {
    const customerRef = String(req.params.customerRef);
    if (!CUSTOMER_REF.test(customerRef))
      throw new HttpError(400, 'invalid_field', 'bad customerRef');
    const customerToken = req.get('x-customer-token');
    if (customerToken === undefined || !CUSTOMER_TOKEN.test(customerToken)) {
      throw new HttpError(
        400,
        'customer_token_required',
        "send the customer's Galaxy Pay customerToken in the x-customer-token header",
      );
    }
    const reply = await deps.gateway.queryTokens({ customerToken }).catch(gatewayFailure);
    const data = (reply.responseData ?? {}) as unknown as Record<string, unknown>;
    const tokens = Array.isArray(data.tokens) ? (data.tokens as unknown[]) : [];
    // Only the documented, masked fields: a token value the gateway might add is never passed on.
    res.set('cache-control', 'no-store').json({
      customerRef,
      customerID: text(data.customerID, 50),
      customerName: text(data.customerName, 50),
      tokens: tokens
        .filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null)
        .map(t => ({
          tokenID: text(t.tokenID, 20),
          brand: text(t.accountBrand, 50),
          source: text(t.accountSource, 50),
          maskedNumber: text(t.accountNumber, 50),
          holderName: text(t.accountName, 50),
        })),
    });
  };
}

/**
 * Apple's merchant-validation hosts (Apple Pay on the Web, "Setting Up Your Server"): `apple-pay-gateway`,
 * its `-cert` (sandbox), `-nc-pod*`/`-pr-pod*` and `cn-` variants, all under `apple.com`. Anything else is
 * refused before the gateway is called: the URL is the browser's input.
 */
const APPLE_VALIDATION_HOST = /^(?:cn-)?apple-pay-gateway(?:-[a-z0-9]+)*\.apple\.com$/;

function isAppleValidationUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      url.protocol === 'https:' &&
      !url.port &&
      !url.username &&
      !url.password &&
      APPLE_VALIDATION_HOST.test(url.hostname)
    );
  } catch {
    return false;
  }
}

const validateBody = z.strictObject({
  validationURL: z.string().max(500),
  /** Shown on the Apple Pay sheet; Galaxy Pay's merchant registration decides otherwise. */
  displayName: z.string().min(1).max(64).optional(),
});

export interface ApplePayDeps {
  gateway: GatewayClient;
  logger: Logger;
  /** Galaxy Pay's validation path, e.g. `api/v1/applepay/validateMerchant`; unset: the route answers 404. */
  validationPath: string | undefined;
}

/** Widget-side handler (CORS and the origin guard apply): Apple Pay merchant validation. */
export function applePayValidation(deps: ApplePayDeps): RequestHandler {
  return async (req, res) => {
    if (!deps.validationPath) {
      throw new HttpError(
        404,
        'apple_pay_disabled',
        'Apple Pay merchant validation is not enabled on this signer (APPLE_PAY_VALIDATION_PATH)',
      );
    }
    const body = parseBody(validateBody, req.body);
    if (!isAppleValidationUrl(body.validationURL)) {
      throw new HttpError(
        400,
        'invalid_validation_url',
        "validationURL must be one of Apple Pay's merchant-validation URLs",
      );
    }
    // The domain Apple checks is the page's; the origin guard has already held it to the allowed list.
    const origin = req.get('origin');
    if (origin === undefined) {
      throw new HttpError(400, 'origin_required', 'call this route from the merchant page');
    }
    const domainName = new URL(origin).hostname;
    const reply = await deps.gateway
      .call(
        deps.validationPath as EndpointPath,
        {
          validationURL: body.validationURL,
          domainName,
          ...(body.displayName ? { displayName: body.displayName } : {}),
        } as never,
        // A new session per call, nothing changes hands: safe to retry.
        { idempotent: true },
      )
      .catch(gatewayFailure);
    const data = reply.responseData as unknown;
    const wrapped =
      typeof data === 'object' && data !== null && 'merchantSession' in data
        ? (data as { merchantSession: unknown }).merchantSession
        : data;
    if (typeof wrapped !== 'object' || wrapped === null || Array.isArray(wrapped)) {
      deps.logger.warn({}, 'Apple Pay validation reply carried no merchant session');
      throw new HttpError(502, 'upstream_error', 'the gateway sent no merchant session');
    }
    res.set('cache-control', 'no-store').json({ merchantSession: wrapped });
  };
}
