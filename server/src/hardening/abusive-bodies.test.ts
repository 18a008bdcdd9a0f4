/**
 * T27 (docs/reliability.md §5): oversized and abusive bodies are refused fast, never inflated, never hashed,
 * and a trickled upload is cut off at the whole-request deadline; event-loop lag and memory stay bounded
 * (reported as test diagnostics).
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  errorCode,
  merchantPost,
  rawRequest,
  slowRequest,
  type RawRequestOptions,
} from '../testing/raw-http.js';
import { useStandaloneSigner } from '../testing/signer-process.js';
import { MERCHANT_ORIGIN, listAllEvents, startStack, type Stack } from '../testing/test-support.js';

function nested(depth: number, open: string, close: string, inner = '0'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A JSON POST from the merchant origin, with extra headers. */
const json = (body: string, extra: Record<string, string> = {}) =>
  merchantPost(body, 'application/json', extra);

describe('T27 oversized and abusive bodies', () => {
  let stack: Stack;
  let lag: IntervalHistogram;
  const timings: Array<{ what: string; ms: number }> = [];

  // Built before the lag monitor starts: compressing 10 MB here would block this very event loop.
  let ipnBomb: Buffer;
  let heapBefore = 0;
  let sessionsBomb: Buffer;

  before(async () => {
    stack = await startStack();
    ipnBomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    sessionsBomb = gzipSync(
      Buffer.concat([
        Buffer.from('{"orderRef":"ORDER-1","pad":"'),
        Buffer.alloc(10 * 1024 * 1024, 0x20),
        Buffer.from('"}'),
      ]),
    );
    heapBefore = process.memoryUsage().heapUsed;
    lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
  });
  after(() => stack.close());

  const countEvents = async () => (await listAllEvents(stack.database!)).length;

  async function send(what: string, path: string, options: RawRequestOptions) {
    const res = await rawRequest(`${stack.signerUrl}${path}`, options);
    timings.push({ what, ms: res.ms });
    return res;
  }

  describe('POST /ipn', () => {
    it('T27 records a small forged IPN (the control: the event count does see IPNs)', async () => {
      const before = await countEvents();

      const res = await send(
        'forged IPN',
        '/ipn',
        json(JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) })),
      );

      assert.equal(res.status, 401);
      assert.equal(await countEvents(), before + 1);
    });

    it('T27 answers 413 to a body over 32 KB with a Content-Length, and never reads or hashes it', async () => {
      const before = await countEvents();
      const envelope = JSON.stringify({ data: 'A'.repeat(40 * 1024), signature: 'ab'.repeat(32) });

      const res = await send('IPN 40 KB', '/ipn', json(envelope));

      assert.equal(res.status, 413);
      assert.equal(errorCode(res.body), 'body_too_large');
      assert.equal(await countEvents(), before);
    });

    it('T27 answers 413 to a chunked body (no Content-Length) of 1 MB', async () => {
      const before = await countEvents();
      const envelope = JSON.stringify({
        data: 'A'.repeat(1024 * 1024),
        signature: 'ab'.repeat(32),
      });

      const res = await send('IPN 1 MB chunked', '/ipn', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        body: envelope,
      }).catch((error: NodeJS.ErrnoException) => ({ status: 0, body: error.code ?? '', ms: 0 }));

      // Either the 413 arrived, or the server cut the upload off (EPIPE/ECONNRESET) after answering it.
      assert.ok(res.status === 413 || /EPIPE|ECONNRESET/.test(res.body), `got ${res.status}`);
      assert.equal(await countEvents(), before);
    });

    it('T27 answers 415 to a gzip body (inflate: false), and to deflate, without storing anything', async () => {
      const before = await countEvents();
      const envelope = JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) });
      const bomb = ipnBomb;

      const gzip = await send('IPN gzip', '/ipn', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': bomb.length,
        },
        body: bomb,
      });
      const deflate = await send('IPN deflate', '/ipn', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
        body: envelope,
      });

      assert.equal(gzip.status, 415);
      assert.equal(errorCode(gzip.body), 'unsupported_encoding');
      assert.equal(deflate.status, 415);
      assert.equal(await countEvents(), before);
    });

    it('T27 answers 413 or 400, never 5xx, to 5,000 form parameters', async () => {
      const before = await countEvents();
      const form = Array.from({ length: 5000 }, (_, i) => `${i}=`).join('&');

      const res = await send('IPN 5,000 form parameters', '/ipn', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(form),
        },
        body: form,
      });

      assert.ok(res.status === 413 || res.status === 400, `got ${res.status}`);
      assert.equal(errorCode(res.body), 'too_many_parameters');
      assert.equal(await countEvents(), before);
    });

    it('T27 answers 400 to a JSON envelope with 3,000 keys or nested 10,000 deep', async () => {
      const keys = `{${Array.from({ length: 3000 }, (_, i) => `"k${i}":1`).join(',')}}`;

      const wide = await send('IPN 3,000 JSON keys', '/ipn', json(keys));
      const deep = await send('IPN JSON depth 10,000', '/ipn', json(nested(10_000, '[', ']')));
      const deepObject = await send(
        'IPN object depth 3,000',
        '/ipn',
        json(nested(3000, '{"a":', '}', '{}')),
      );

      assert.equal(wide.status, 400);
      assert.equal(deep.status, 400);
      assert.equal(deepObject.status, 400);
    });
  });

  describe('POST /sessions', () => {
    it('T27 answers 413 body_too_large to a body over 8 KB', async () => {
      const body = JSON.stringify({ orderRef: 'ORDER-1', locale: 'vi', pad: 'x'.repeat(9 * 1024) });

      const res = await send('sessions 9 KB', '/sessions', json(body));

      assert.equal(res.status, 413);
      assert.equal(errorCode(res.body), 'body_too_large');
    });

    it('T27 refuses a gzip bomb (10 MB of spaces in 10 KB) with 413 or 415, fast', async () => {
      const bomb = sessionsBomb;

      const res = await send('sessions gzip bomb', '/sessions', {
        method: 'POST',
        headers: {
          origin: MERCHANT_ORIGIN,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': bomb.length,
        },
        body: bomb,
      });

      assert.ok(res.status === 413 || res.status === 415, `got ${res.status} ${res.body}`);
      assert.ok(res.ms < 1000, `took ${res.ms} ms`);
    });

    it('T27 answers 413 to JSON nested 10,000 deep (it cannot fit in 8 KB) and 400 body_too_deep to what fits', async () => {
      const tooDeep = await send(
        'sessions JSON depth 10,000',
        '/sessions',
        json(nested(10_000, '[', ']')),
      );
      const arrays = await send(
        'sessions JSON depth 4,000',
        '/sessions',
        json(nested(4000, '[', ']')),
      );
      const objects = await send(
        'sessions object depth 1,300',
        '/sessions',
        json(`{"orderRef":${nested(1300, '{"a":', '}', '{}')}}`),
      );

      assert.equal(tooDeep.status, 413);
      assert.equal(arrays.status, 400);
      assert.equal(errorCode(arrays.body), 'body_too_deep');
      assert.equal(objects.status, 400);
      assert.equal(errorCode(objects.body), 'body_too_deep');
    });

    it('T27 bounds depth at 64 levels: 60 reaches validation, 70 is refused first', async () => {
      const shallow = await send(
        'sessions depth 60',
        '/sessions',
        json(`{"orderRef":"ORDER-1","x":${nested(59, '{"a":', '}', '{}')}}`),
      );
      const deep = await send(
        'sessions depth 70',
        '/sessions',
        json(`{"orderRef":"ORDER-1","x":${nested(69, '{"a":', '}', '{}')}}`),
      );

      assert.equal(errorCode(shallow.body), 'unknown_field');
      assert.equal(errorCode(deep.body), 'body_too_deep');
    });

    it('T27 answers 400, not 500, to deep JSON that also carries an Idempotency-Key', async () => {
      const arrays = await send(
        'sessions depth 4,000 + Idempotency-Key',
        '/sessions',
        json(nested(4000, '[', ']'), {
          'idempotency-key': `deep-${randomBytes(4).toString('hex')}`,
        }),
      );
      const objects = await send(
        'sessions object depth 1,300 + Idempotency-Key',
        '/sessions',
        json(`{"orderRef":${nested(1300, '{"a":', '}', '{}')}}`, {
          'idempotency-key': `deep-${randomBytes(4).toString('hex')}`,
        }),
      );

      assert.equal(arrays.status, 400, arrays.body);
      assert.equal(errorCode(arrays.body), 'body_too_deep');
      assert.equal(objects.status, 400, objects.body);
      assert.equal(errorCode(objects.body), 'body_too_deep');
    });
  });

  it('T27 keeps the event loop responsive and memory flat: p99 lag under 200 ms, every refusal under 1 s', t => {
    lag.disable();
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const p99 = lag.percentile(99) / 1e6;
    const max = lag.max / 1e6;
    const slowest = timings.reduce((a, b) => (b.ms > a.ms ? b : a), { what: 'none', ms: 0 });
    t.diagnostic(
      `T27 event-loop lag over ${timings.length} abusive requests: p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; slowest answer ${slowest.what} ${slowest.ms.toFixed(1)} ms; ` +
        `heap growth ${heapGrowthMb.toFixed(1)} MB`,
    );

    assert.ok(timings.length >= 12);
    assert.ok(p99 < 200, `p99 event-loop lag ${p99} ms`);
    assert.ok(slowest.ms < 1000, `${slowest.what} took ${slowest.ms} ms`);
    assert.ok(heapGrowthMb < 64, `heap grew by ${heapGrowthMb} MB`);
  });
});

describe('T27 a trickled upload, in the standalone process', () => {
  const standalone = useStandaloneSigner(
    { 'ORDER-1': { amount: 250_000, description: 'Cơm tấm' } },
    { ipnRetryDelaysMs: [50] },
  );

  it('T27 cuts off an IPN whose body trickles in past REQUEST_TIMEOUT_SECONDS, and stores nothing', async () => {
    const signer = await standalone.start({ env: { REQUEST_TIMEOUT_SECONDS: '1' } });
    try {
      const envelope = JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) });
      const started = Date.now();

      const ipn = slowRequest(`${signer.url}/ipn`, envelope);
      await ipn.started;
      const late = new Promise<'still waiting'>(resolve =>
        setTimeout(() => resolve('still waiting'), 5000).unref(),
      );
      const answer = await Promise.race([ipn.answer, late]);
      const ms = Date.now() - started;

      // Node answers 408 (or just closes the connection) once the request is late.
      assert.notEqual(answer, 'still waiting', 'the trickled request was never cut off');
      assert.ok(
        answer instanceof Error || (answer !== 'still waiting' && answer.status === 408),
        `got ${answer instanceof Error ? answer.message : JSON.stringify(answer)}`,
      );
      assert.ok(ms >= 900 && ms < 5000, `cut off after ${ms} ms`);
    } finally {
      signer.child.kill('SIGTERM');
      await signer.exited;
    }
    // Read whole, it would have been kept as a bad_signature attempt.
    const events = await listAllEvents({ url: standalone.databaseUrl });
    assert.deepEqual(
      events.filter(event => event.raw === 'eyJ9'),
      [],
    );
  });
});
