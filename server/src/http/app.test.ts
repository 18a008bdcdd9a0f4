/**
 * `POST /ipn` is served by one intake reached two ways: straight from the standalone request listener
 * (`createApp().listener`, ahead of Express) and as the first route of a signer mounted in a merchant's
 * Express app. Both must answer every kind of IPN exactly alike.
 */

import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import express, { type RequestHandler } from 'express';
import { encodeCallback } from '@galaxy-pay/protocol';
import { createApp } from './app.js';
import { createSigner, type Signer, type SignerOptions } from '../signer.js';
import type { Store } from '../store/store.js';
import { captureLog } from '../testing/log-capture.js';
import {
  API_KEY,
  MERCHANT_ORIGIN,
  SALT,
  freshStore,
  gatewayCallbackFor,
  listenLater,
  openTestSession,
  startStack,
  type Stack,
} from '../testing/test-support.js';

/** Headers that differ between any two answers (clock, per-request id, connection handling). */
const VOLATILE = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

async function post(url: string, body: string, contentType: string): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !VOLATILE.has(name)));
  assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, `request id on ${url}`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text: the comparison shows it
  }
  // The request id is per answer; its presence is checked above.
  const error = (parsed as { error?: { requestId?: unknown } }).error;
  if (error) assert.equal(error.requestId, res.headers.get('x-request-id'));
  if (error) delete error.requestId;
  return { status: res.status, body: parsed, headers };
}

interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves what `build` makes on a fresh loopback port (built knowing its URL) until `close()`. */
async function serve(
  build: (url: string) => { listener: RequestListener; signer: Signer },
): Promise<Served> {
  const { server, url } = await listenLater();
  const { listener, signer } = build(url);
  server.on('request', listener);
  await signer.ready;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      await signer.close();
    },
  };
}

describe('POST /ipn, standalone listener and mounted router', () => {
  let fresh: Awaited<ReturnType<typeof freshStore>>;
  let store: Store;
  let standalone: Stack;
  let mounted: Served;

  /** Options of a signer on the shared sandbox and store, reachable at `publicUrl`. */
  function optionsAt(publicUrl: string, extra: Partial<SignerOptions> = {}): SignerOptions {
    return {
      apiKey: API_KEY,
      salt: SALT,
      gatewayBaseUrl: standalone.sandboxUrl,
      publicUrl,
      allowedOrigins: [MERCHANT_ORIGIN],
      store,
      catalog: {},
      ...extra,
    };
  }

  /** A merchant's Express app: `first` runs, then a signer mounted at /galaxy-pay. */
  function merchantApp(first: RequestHandler, extra: Partial<SignerOptions> = {}) {
    return (url: string) => {
      const signer = createSigner(optionsAt(`${url}/galaxy-pay`, extra));
      const app = express();
      app.use(first);
      app.use('/galaxy-pay', signer);
      return { listener: app, signer };
    };
  }

  before(async () => {
    fresh = await freshStore('sqlite');
    store = fresh.store;
    standalone = await startStack({ sharedStore: store });
    // Mounted before any body parser of the app's, as the README says: the signer reads its own bodies.
    mounted = await serve(merchantApp((_req, _res, next) => next()));
  });
  after(async () => {
    await mounted.close();
    await standalone.close();
    await store.close();
    await fresh.drop();
  });

  /** The same request sent to both; the answers must match. Returns the standalone one. */
  async function both(path: string, body: string, contentType = 'application/json') {
    const viaListener = await post(`${standalone.signerUrl}${path}`, body, contentType);
    const viaRouter = await post(`${mounted.url}/galaxy-pay${path}`, body, contentType);
    assert.deepEqual(viaRouter, viaListener, `${path} ${contentType} ${body.slice(0, 60)}`);
    return viaListener;
  }

  it('answers a verified IPN, its replay, a forged one and malformed bodies identically', async () => {
    const first = await openTestSession(standalone, 'ORDER-1');
    const envelope = JSON.stringify(encodeCallback(gatewayCallbackFor(first), SALT));

    // The first delivery goes to one of them only: it settles the shared session.
    const applied = await post(`${standalone.signerUrl}/ipn`, envelope, 'application/json');
    const replay = await both('/ipn', envelope);
    const forged = await both('/ipn', JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) }));
    const form = await both(
      '/ipn',
      new URLSearchParams(JSON.parse(envelope)).toString(),
      'application/x-www-form-urlencoded',
    );
    const wrongType = await both('/ipn', envelope, 'text/plain');
    const notJson = await both('/ipn', '{"data":');
    const tooBig = await both(
      '/ipn',
      JSON.stringify({ data: 'A'.repeat(40_000), signature: 'ab' }),
    );
    const extraField = await both('/ipn', JSON.stringify({ ...JSON.parse(envelope), more: 1 }));
    const trailingSlash = await both('/ipn/', envelope);
    const withQuery = await both('/ipn?source=gateway', envelope);

    assert.equal(applied.status, 200);
    assert.deepEqual(applied.body, { ipnStatus: '200', ipnDescription: 'now paid' });
    assert.equal((await store.getSession(first.id))?.status, 'paid');
    for (const repeat of [replay, form, trailingSlash, withQuery]) {
      assert.deepEqual(repeat.body, { ipnStatus: '409', ipnDescription: 'already paid' });
    }
    assert.deepEqual(
      [forged, wrongType, notJson, tooBig, extraField].map(a => a.status),
      [401, 415, 400, 413, 400],
    );
    assert.equal(applied.headers['cache-control'], 'no-store');
    assert.equal(applied.headers['content-type'], 'application/json; charset=utf-8');
    assert.match(applied.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
  });

  it('warns once when the host app parsed the IPN body first, and still verifies it', async () => {
    const { logger, lines } = captureLog('warn');
    // The mistake the README warns about: a global body parser ahead of the signer.
    const app = await serve(merchantApp(express.json(), { logger }));
    try {
      const session = await openTestSession(standalone, 'ORDER-2');
      const envelope = JSON.stringify(encodeCallback(gatewayCallbackFor(session), SALT));
      const first = await post(`${app.url}/galaxy-pay/ipn`, envelope, 'application/json');
      const second = await post(`${app.url}/galaxy-pay/ipn`, envelope, 'application/json');

      // The host's parser would inflate this and take 100 KB; the signer's refusals still hold.
      const gzipped = await fetch(`${app.url}/galaxy-pay/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(envelope),
      });
      const large = await post(
        `${app.url}/galaxy-pay/ipn`,
        JSON.stringify({ data: 'A'.repeat(40_000), signature: 'ab'.repeat(32) }),
        'application/json',
      );

      assert.deepEqual(first.body, { ipnStatus: '200', ipnDescription: 'now paid' });
      assert.deepEqual(second.body, { ipnStatus: '409', ipnDescription: 'already paid' });
      assert.equal(gzipped.status, 415);
      assert.equal(
        ((await gzipped.json()) as { error: { code: string } }).error.code,
        'unsupported_encoding',
      );
      assert.equal(large.status, 413);
      const warnings = lines.filter(line => line.includes('mount the signer before body parsers'));
      assert.equal(warnings.length, 1, lines.join(''));
    } finally {
      await app.close();
    }
  });

  it('hands POST <base>/ipn to the intake under a PUBLIC_URL with a path; outside it, JSON 404s', async () => {
    const app = await serve(url => createApp(optionsAt(`${url}/pay/`)));
    try {
      const forged = JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) });
      const inside = await post(`${app.url}/pay/ipn`, forged, 'application/json');
      // Outside the base path: the API's JSON 404 with its headers, never Express's HTML page.
      const outside = await post(`${app.url}/ipn`, forged, 'application/json');
      const elsewhere = await fetch(`${app.url}/%E0%A4%A`);

      assert.equal(inside.status, 401);
      assert.equal((inside.body as { error: { code: string } }).error.code, 'invalid_signature');
      assert.equal(outside.status, 404);
      assert.deepEqual(outside.body, { error: { code: 'not_found', message: 'no such route' } });
      assert.equal(outside.headers['cache-control'], 'no-store');
      assert.match(outside.headers['content-security-policy'] ?? '', /default-src 'none'/);
      assert.equal(elsewhere.status, 404);
      assert.equal(elsewhere.headers.get('content-type'), 'application/json; charset=utf-8');
      await elsewhere.arrayBuffer();
    } finally {
      await app.close();
    }
  });
});
