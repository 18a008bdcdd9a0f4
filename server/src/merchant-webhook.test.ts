import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookVerificationError,
  verifyWebhook,
  webhookHeaders,
} from './merchant-webhook.js';

const SECRET = 'merchant-webhook-secret-0123456789abcdef';
const NOW = Date.UTC(2026, 0, 15, 3, 0, 0);
const BODY = JSON.stringify({ id: 'sess:paid', event: 'paid', amount: 500_000 });

function signed(body = BODY, secret = SECRET, at = NOW) {
  return webhookHeaders(body, { id: 'sess_1:paid', secret, now: () => at });
}

function refuses(
  body: string,
  headers: Record<string, string | undefined>,
  reason: RegExp,
  opts: { secret?: string; now?: number; toleranceSeconds?: number } = {},
): void {
  assert.throws(
    () =>
      verifyWebhook(body, headers, {
        secret: opts.secret ?? SECRET,
        now: () => opts.now ?? NOW,
        toleranceSeconds: opts.toleranceSeconds,
      }),
    (error: unknown) => error instanceof WebhookVerificationError && reason.test(error.message),
  );
}

describe('merchant webhook signing (Standard Webhooks)', () => {
  describe('webhookHeaders', () => {
    it('sends the id, the timestamp in seconds and a v1 base64 HMAC-SHA256 over id.timestamp.body', () => {
      const headers = signed();

      assert.equal(headers['content-type'], 'application/json');
      assert.equal(headers['webhook-id'], 'sess_1:paid');
      assert.equal(headers['webhook-timestamp'], String(NOW / 1000));
      const expected = createHmac('sha256', SECRET)
        .update(`sess_1:paid.${NOW / 1000}.${BODY}`)
        .digest('base64');
      assert.equal(headers['webhook-signature'], `v1,${expected}`);
    });

    it('uses the base64-decoded key of a whsec_ secret', () => {
      const key = randomBytes(24);
      const headers = signed(BODY, `whsec_${key.toString('base64')}`);

      const expected = createHmac('sha256', key)
        .update(`sess_1:paid.${NOW / 1000}.${BODY}`)
        .digest('base64');
      assert.equal(headers['webhook-signature'], `v1,${expected}`);
    });
  });

  describe('verifyWebhook', () => {
    it('accepts what webhookHeaders produced (property: any body, any secret)', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 500 }),
          fc.string({ minLength: 1, maxLength: 64 }),
          fc.integer({ min: 0, max: 4_000_000_000 }),
          (body, secret, seconds) => {
            const at = seconds * 1000;
            const headers = webhookHeaders(body, { id: 'evt', secret, now: () => at });
            verifyWebhook(body, headers, { secret, now: () => at });
          },
        ),
        { numRuns: 200 },
      );
    });

    it('accepts a whsec_ secret round trip and refuses the same bytes taken as UTF-8 text', () => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const headers = signed(BODY, secret);

      verifyWebhook(BODY, headers, { secret, now: () => NOW });
      const key = secret.slice('whsec_'.length);
      refuses(BODY, headers, /no webhook-signature matches/, { secret: key });
    });

    it('accepts a header listing several signatures when one of them matches (key rotation)', () => {
      const headers = signed();
      const rotated = {
        ...headers,
        'webhook-signature': `v1,${randomBytes(32).toString('base64')} ${headers['webhook-signature']}`,
      };

      verifyWebhook(BODY, rotated, { secret: SECRET, now: () => NOW });
    });

    it('refuses a tampered body', () => {
      refuses(BODY.replace('500000', '500001'), signed(), /no webhook-signature matches/);
      refuses(`${BODY} `, signed(), /no webhook-signature matches/);
    });

    it('refuses a changed webhook-id', () => {
      refuses(BODY, { ...signed(), 'webhook-id': 'sess_2:paid' }, /no webhook-signature matches/);
    });

    it('refuses a changed webhook-timestamp even inside the tolerance', () => {
      refuses(
        BODY,
        { ...signed(), 'webhook-timestamp': String(NOW / 1000 + 1) },
        /no webhook-signature matches/,
      );
    });

    it('refuses another secret', () => {
      refuses(BODY, signed(), /no webhook-signature matches/, { secret: `${SECRET}x` });
    });

    it('refuses a signature of another version, a truncated one, or garbage', () => {
      const value = signed()['webhook-signature'].slice(3);

      refuses(BODY, { ...signed(), 'webhook-signature': `v2,${value}` }, /no webhook-signature/);
      refuses(
        BODY,
        { ...signed(), 'webhook-signature': `v1,${value.slice(0, 20)}` },
        /no webhook-signature/,
      );
      refuses(BODY, { ...signed(), 'webhook-signature': 'v1,' }, /no webhook-signature/);
      refuses(BODY, { ...signed(), 'webhook-signature': 'garbage' }, /no webhook-signature/);
    });

    it('refuses missing headers and a timestamp that is not whole seconds', () => {
      refuses(BODY, { ...signed(), 'webhook-id': undefined }, /missing webhook headers/);
      refuses(BODY, { ...signed(), 'webhook-signature': undefined }, /missing webhook headers/);
      refuses(BODY, { ...signed(), 'webhook-timestamp': undefined }, /missing webhook headers/);
      refuses(BODY, { ...signed(), 'webhook-timestamp': `${NOW}.5` }, /bad webhook-timestamp/);
      refuses(BODY, { ...signed(), 'webhook-timestamp': '-1' }, /bad webhook-timestamp/);
    });

    describe('tolerance, with an injected clock', () => {
      const tolerance = WEBHOOK_TOLERANCE_SECONDS;

      it('accepts a delivery exactly at the edge of the window, late or early', () => {
        const headers = signed();

        verifyWebhook(BODY, headers, { secret: SECRET, now: () => NOW + tolerance * 1000 });
        verifyWebhook(BODY, headers, { secret: SECRET, now: () => NOW - tolerance * 1000 });
      });

      it('refuses a delivery received too late (a replay)', () => {
        refuses(BODY, signed(), /outside the tolerance/, { now: NOW + (tolerance + 1) * 1000 });
      });

      it('refuses a delivery stamped in the future', () => {
        refuses(BODY, signed(), /outside the tolerance/, { now: NOW - (tolerance + 1) * 1000 });
      });

      it('honours a custom tolerance', () => {
        refuses(BODY, signed(), /outside the tolerance/, {
          now: NOW + 11_000,
          toleranceSeconds: 10,
        });
        verifyWebhook(BODY, signed(), {
          secret: SECRET,
          now: () => NOW + 10_000,
          toleranceSeconds: 10,
        });
      });
    });
  });
});
