/**
 * The signed webhook the standalone signer sends to the merchant's back end, in the Standard Webhooks shape
 * (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. Our own key, never the gateway salt (rule 2).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Default tolerance for the timestamp, in both directions. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The HMAC key: a `whsec_`-prefixed secret is base64 (Standard Webhooks); anything else is its UTF-8 bytes. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

function sign(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
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

/** Why a webhook was refused. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * Verifies a received webhook (for merchants' back ends and our tests): the timestamp must be within the
 * tolerance either way, and one of the space-separated `v1,` signatures must match in constant time.
 */
export function verifyWebhook(
  body: string,
  headers: Record<string, string | undefined>,
  opts: { secret: string; now: () => number; toleranceSeconds?: number },
): void {
  const id = headers['webhook-id'];
  const timestampText = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestampText || !signatures)
    throw new WebhookVerificationError('missing webhook headers');
  if (!/^\d{1,12}$/.test(timestampText))
    throw new WebhookVerificationError('bad webhook-timestamp');
  const timestamp = Number(timestampText);
  const tolerance = opts.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(Math.floor(opts.now() / 1000) - timestamp) > tolerance) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const expected = Buffer.from(sign(opts.secret, id, timestamp, body), 'base64');
  const matches = signatures.split(' ').some(entry => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no webhook-signature matches');
}
