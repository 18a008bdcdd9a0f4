import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook, WebhookVerificationError as StandardVerificationError } from 'standardwebhooks';
import {
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookVerificationError,
  verifyWebhook,
  webhookHeaders,
  type WebhookVerificationErrorCode,
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
  opts: {
    secret?: string;
    now?: number;
    toleranceSeconds?: number;
    code?: WebhookVerificationErrorCode;
  } = {},
): void {
  assert.throws(
    () =>
      verifyWebhook(body, headers, {
        secret: opts.secret ?? SECRET,
        now: () => opts.now ?? NOW,
        toleranceSeconds: opts.toleranceSeconds,
      }),
    (error: unknown) =>
      error instanceof WebhookVerificationError &&
      reason.test(error.message) &&
      (opts.code === undefined || error.code === opts.code),
  );
}

/** The headers Node parses from a real request carrying `headers` (what Express hands a route as req.headers). */
async function receivedHeaders(headers: Record<string, string>): Promise<IncomingHttpHeaders> {
  let received: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    received = req.headers;
    res.end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: BODY });
  } finally {
    await new Promise(resolve => server.close(resolve));
  }
  return received;
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
    it('accepts what webhookHeaders produced and returns its event (property: any JSON body, any secret)', () => {
      fc.assert(
        fc.property(
          fc.json({ maxDepth: 3 }),
          fc.string({ minLength: 1, maxLength: 64 }),
          fc.integer({ min: 0, max: 4_000_000_000 }),
          (body, secret, seconds) => {
            const at = seconds * 1000;
            const headers = webhookHeaders(body, { id: 'evt', secret, now: () => at });
            assert.deepEqual(
              verifyWebhook(body, headers, { secret, now: () => at }),
              JSON.parse(body),
            );
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

  describe('verifyWebhook as a receiver calls it', () => {
    it('takes req.headers as Node/Express give them and returns the verified event', async () => {
      const headers = await receivedHeaders(signed());

      const event = verifyWebhook(BODY, headers, { secret: SECRET, now: () => NOW });

      assert.deepEqual(event, JSON.parse(BODY));
    });

    it('takes a raw Buffer body (express.raw) and a Fetch Headers object', () => {
      const event = verifyWebhook(Buffer.from(BODY), new Headers(signed()), {
        secret: SECRET,
        now: () => NOW,
      });

      assert.equal(event.event, 'paid');
    });

    it('reads header names in any case from a plain object', () => {
      const upper = Object.fromEntries(
        Object.entries(signed()).map(([name, value]) => [name.toUpperCase(), value]),
      );

      assert.equal(verifyWebhook(BODY, upper, { secret: SECRET, now: () => NOW }).amount, 500_000);
    });

    it('uses the real clock when none is given', () => {
      const headers = webhookHeaders(BODY, { id: 'evt', secret: SECRET, now: Date.now });

      assert.equal(verifyWebhook(BODY, headers, { secret: SECRET }).event, 'paid');
    });

    it('gives each refusal a stable code', () => {
      refuses(BODY, { ...signed(), 'webhook-id': undefined }, /missing/, {
        code: 'missing_header',
      });
      refuses(BODY, { ...signed(), 'webhook-timestamp': 'x' }, /timestamp/, {
        code: 'invalid_timestamp',
      });
      refuses(BODY, signed(), /tolerance/, {
        now: NOW + (WEBHOOK_TOLERANCE_SECONDS + 1) * 1000,
        code: 'timestamp_out_of_tolerance',
      });
      refuses(BODY, signed(), /no webhook-signature/, {
        secret: `${SECRET}x`,
        code: 'invalid_signature',
      });
      refuses('not json', signed('not json'), /not JSON/, { code: 'invalid_body' });
    });

    it('refuses a header given twice and a body a JSON parser already consumed', () => {
      const headers = { ...signed(), 'webhook-id': ['sess_1:paid', 'sess_1:paid'] };

      assert.throws(() => verifyWebhook(BODY, headers, { secret: SECRET, now: () => NOW }), {
        code: 'missing_header',
      });
      assert.throws(
        () =>
          verifyWebhook(JSON.parse(BODY) as string, signed(), { secret: SECRET, now: () => NOW }),
        (error: unknown) =>
          error instanceof WebhookVerificationError &&
          error.code === 'invalid_body' &&
          /raw request body/.test(error.message),
      );
    });
  });

  describe('interoperability with the standardwebhooks library', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const body = JSON.stringify({ id: 'sess_9:paid', event: 'paid', orderRef: 'Đơn-9', amount: 1 });

    it('standardwebhooks verifies what webhookHeaders signs (whsec_ secret)', () => {
      const headers = webhookHeaders(body, { id: 'sess_9:paid', secret, now: Date.now });

      assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    });

    it('standardwebhooks verifies what webhookHeaders signs (a plain-text secret, as raw bytes)', () => {
      const headers = webhookHeaders(body, { id: 'sess_9:paid', secret: SECRET, now: Date.now });

      const wh = new Webhook(Buffer.from(SECRET, 'utf8'), { format: 'raw' });
      assert.deepEqual(wh.verify(body, headers), JSON.parse(body));
    });

    it('verifyWebhook verifies what standardwebhooks signs, and both refuse a tampered body', () => {
      const wh = new Webhook(secret);
      const at = new Date();
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': wh.sign('msg_1', at, body),
      };

      assert.deepEqual(verifyWebhook(body, headers, { secret }), JSON.parse(body));
      const tampered = body.replace('"amount":1', '"amount":2');
      assert.throws(() => verifyWebhook(tampered, headers, { secret }), {
        code: 'invalid_signature',
      });
      assert.throws(() => wh.verify(tampered, headers), StandardVerificationError);
    });
  });
});
