/**
 * T28 (docs/reliability.md §5): rate limits on the widget routes, per IP and not reset by a spoofed
 * X-Forwarded-For; IPNs are never limited per IP (their ceiling has its own tests in http/routes/ipn.test.ts).
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeCallback } from '@galaxy-pay/protocol';
import { captureLog } from '../testing/log-capture.js';
import { startStack, useStack, widgetCall, type StackOptions } from '../testing/test-support.js';

/** The limits under test: 5 session creations and 10 reads a minute per IP. */
function limited(signer: StackOptions['signer'] = {}): StackOptions {
  return { signer: { rateLimits: { create: 5, read: 10 }, ...signer } };
}

describe('T28 rate limits', () => {
  const log = captureLog('warn');
  const stack = useStack(limited({ logger: log.logger }));

  it('T28 answers 429 rate_limited with RateLimit and Retry-After once the create limit is used up', async () => {
    const answers = [];
    for (let i = 0; i < 7; i++)
      answers.push(await widgetCall(stack(), 'POST', '/sessions', { orderRef: 'ORDER-1' }));

    assert.deepEqual(
      answers.map(a => a.status),
      [201, 200, 200, 200, 200, 429, 429],
    );
    assert.equal(answers[0]!.headers.get('ratelimit'), '"5-in-1min"; r=4; t=60');
    assert.match(
      answers[0]!.headers.get('ratelimit-policy') ?? '',
      /^"5-in-1min"; q=5; w=60; pk=:[A-Za-z0-9+/=]+:$/,
    );
    const limited = answers[5]!;
    assert.equal(
      limited.json.error && (limited.json.error as { code: string }).code,
      'rate_limited',
    );
    assert.match(limited.headers.get('ratelimit') ?? '', /^"5-in-1min"; r=0; t=\d+$/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60,
      `Retry-After ${retryAfter}`,
    );
    assert.match(limited.headers.get('access-control-expose-headers') ?? '', /retry-after/);
    assert.equal(limited.headers.get('cache-control'), 'no-store');
  });

  it('T28 keeps the bucket when X-Forwarded-For is spoofed (trust proxy 0)', async () => {
    const answers = await Promise.all(
      ['203.0.113.7', '198.51.100.23', '10.0.0.1, 203.0.113.9'].map(ip =>
        widgetCall(
          stack(),
          'POST',
          '/sessions',
          { orderRef: 'ORDER-1' },
          { 'x-forwarded-for': ip, 'x-real-ip': ip },
        ),
      ),
    );

    assert.deepEqual(
      answers.map(a => a.status),
      [429, 429, 429],
    );
  });

  it('T28 prints nothing when the first request a limiter sees carries X-Forwarded-For', async () => {
    const fresh = captureLog('warn');
    const other = await startStack(limited({ logger: fresh.logger }));
    const printed: unknown[] = [];
    const { error, warn } = console;
    console.error = (...args: unknown[]) => void printed.push(args);
    console.warn = (...args: unknown[]) => void printed.push(args);
    try {
      // The very first request a limiter sees runs its configuration checks.
      await widgetCall(
        other,
        'POST',
        '/sessions',
        { orderRef: 'ORDER-2' },
        {
          'x-forwarded-for': '203.0.113.7',
        },
      );
    } finally {
      console.error = error;
      console.warn = warn;
      await other.close();
    }

    assert.deepEqual(printed, []);
    assert.deepEqual(fresh.lines, []);
  });

  it('T28 limits reads separately: 10 GETs pass, the 11th is 429', async () => {
    const session = await stack().store.findOpenSession('ORDER-1', new Date());
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await widgetCall(stack(), 'GET', `/sessions/${session!.id}`)).status);
    }

    assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
  });

  it('T28 never answers 429 to an IPN burst (100 forged IPNs at once)', async () => {
    const forged = Array.from({ length: 100 }, () =>
      fetch(`${stack().signerUrl}/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          encodeCallback(
            { responseData: { orderID: randomBytes(8).toString('hex') } },
            'wrong salt',
          ),
        ),
      }).then(res => res.status),
    );

    const statuses = await Promise.all(forged);

    assert.ok(!statuses.includes(429), `statuses: ${statuses.join(',')}`);
    assert.ok(
      statuses.every(s => s === 401 || s === 503),
      `statuses: ${statuses.join(',')}`,
    );
    assert.ok(statuses.filter(s => s === 401).length >= 36);
  });
});
