/**
 * The signed webhook the standalone signer sends to the merchant's back end, in the Standard Webhooks shape
 * (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. Our own key, never the gateway salt (rule 2).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { PaymentNotice } from './notices.js';

/** Default tolerance for the timestamp, in both directions. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The HMAC key: a `whsec_`-prefixed secret is base64 (Standard Webhooks); anything else is its UTF-8 bytes. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

function sign(secret: string, id: string, timestamp: number, body: string | Uint8Array): string {
  // The raw bytes as they are: a Buffer body is never decoded and re-encoded before it is checked.
  return createHmac('sha256', keyOf(secret))
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest('base64');
}

/** The headers for one delivery of `body`. `id` stays the same across retries so receivers can dedupe. */
export function webhookHeaders(
  body: string,
  opts: { id: string; secret: string; now: () => number },
): Record<string, string> {
  const timestamp = Math.floor(opts.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': opts.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${sign(opts.secret, opts.id, timestamp, body)}`,
  };
}

/** Why {@link verifyWebhook} refused a delivery; stable across releases, for code that branches on it. */
export type WebhookVerificationErrorCode =
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent (or given twice). */
  | 'missing_header'
  /** `webhook-timestamp` is not whole Unix seconds. */
  | 'invalid_timestamp'
  /** The timestamp is further from now than the tolerance (a replay, or a wrong clock). */
  | 'timestamp_out_of_tolerance'
  /** No `v1` signature matches: another secret, or the body, id or timestamp changed in transit. */
  | 'invalid_signature'
  /** The body is not the raw text (a parsed object), or it verified but is not JSON. */
  | 'invalid_body';

/** Why a webhook was refused: `code` is stable, `message` says what to fix. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Received headers as a framework hands them over: Node's and Express's `req.headers` (`IncomingHttpHeaders`),
 * a Fetch `Headers` (Next.js route handlers, Hono…), or a plain object.
 */
export type WebhookHeaders =
  IncomingHttpHeaders | Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** One header's single value, whatever the container and the name's case. */
function header(headers: WebhookHeaders, name: string): string | undefined {
  let value: string | readonly string[] | null | undefined;
  if (typeof (headers as Headers).get === 'function') {
    value = (headers as Headers).get(name);
  } else {
    const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
    value = record[name];
    if (value === undefined) {
      const key = Object.keys(record).find(candidate => candidate.toLowerCase() === name);
      if (key !== undefined) value = record[key];
    }
  }
  if (Array.isArray(value)) return value.length === 1 ? (value[0] as string) : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Verifies a received webhook and returns its event, like Stripe's `constructEvent`: the timestamp must be
 * within the tolerance either way, and one of the space-separated `v1,` signatures must match in constant
 * time; only then is the body parsed. Pass the raw body (`express.raw({ type: 'application/json' })` or
 * `express.text(…)`, `await request.text()`): the signature covers its exact bytes, so a body re-serialized
 * by a JSON parser may not verify. Throws {@link WebhookVerificationError} with a stable `code`.
 *
 * ```ts
 * app.post('/webhooks/galaxy-pay', express.raw({ type: 'application/json' }), async (req, res) => {
 *   const event = verifyWebhook(req.body, req.headers, { secret: process.env.MERCHANT_WEBHOOK_SECRET! });
 *   if (event.event === 'paid') await fulfil(event.orderRef); // idempotent: dedupe on event.id
 *   res.sendStatus(204);
 * });
 * ```
 */
export function verifyWebhook(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  opts: { secret: string; now?: () => number; toleranceSeconds?: number },
): PaymentNotice {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new WebhookVerificationError(
      'invalid_body',
      'pass the raw request body (a string or a Buffer, e.g. from express.raw({ type: "application/json" })), ' +
        'not a parsed object: the signature covers its exact bytes',
    );
  }
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError(
      'missing_header',
      'missing webhook headers: webhook-id, webhook-timestamp and webhook-signature are each needed once',
    );
  }
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError(
      'invalid_timestamp',
      'bad webhook-timestamp: not Unix seconds',
    );
  }
  const timestamp = Number(timestampText);
  const tolerance = opts.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const now = opts.now ?? Date.now;
  if (Math.abs(Math.floor(now() / 1000) - timestamp) > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_out_of_tolerance',
      `webhook-timestamp is outside the tolerance (${tolerance} s either way): a replay, or a clock to fix`,
    );
  }
  const expected = Buffer.from(sign(opts.secret, id, timestamp, body), 'base64');
  const matches = signatures.split(' ').some(entry => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) {
    throw new WebhookVerificationError(
      'invalid_signature',
      'no webhook-signature matches: check the secret, and pass the body exactly as received',
    );
  }
  try {
    return JSON.parse(
      typeof body === 'string' ? body : Buffer.from(body).toString('utf8'),
    ) as PaymentNotice;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the webhook body verified but is not JSON');
  }
}
