/**
 * T30 (docs/reliability.md §5): the headers of each kind of answer: the JSON API, the return page (framed by
 * the merchant origins only), the SSE stream. The merchant checkout page's side is in test/e2e.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Session } from '../store/store.js';
import {
  MERCHANT_ORIGIN,
  completeInSandbox,
  followEvents,
  openTestSession,
  useStack,
  widgetCall,
} from '../testing/test-support.js';

describe('T30 headers per response type', () => {
  const stack = useStack();
  let session: Session;

  before(async () => {
    session = await openTestSession(stack(), 'ORDER-2');
  });

  function assertApiHeaders(headers: Headers, what: string): void {
    assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(headers.get('cache-control'), 'no-store', what);
    assert.equal(headers.get('content-type'), 'application/json; charset=utf-8', what);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/, what);
    assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
    assert.equal(headers.get('x-powered-by'), null, what);
  }

  it('T30 JSON API answers (success, error, 404, IPN, health) are nosniff, no-store, UTF-8 JSON, CSP none', async () => {
    const read = await widgetCall(stack(), 'GET', `/sessions/${session.id}`);
    const invalid = await widgetCall(stack(), 'POST', '/sessions', {
      orderRef: 'ORDER-1',
      amount: 1,
    });
    const missing = await widgetCall(stack(), 'GET', '/no-such-route');
    const ipn = await fetch(`${stack().signerUrl}/ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) }),
    });
    const ready = await fetch(`${stack().signerUrl}/readyz`);

    assertApiHeaders(read.headers, 'GET /sessions/:id');
    assertApiHeaders(invalid.headers, 'POST /sessions 400');
    assertApiHeaders(missing.headers, '404');
    assertApiHeaders(ipn.headers, 'POST /ipn 401');
    assertApiHeaders(ready.headers, 'GET /readyz');
    assert.equal(read.headers.get('access-control-allow-origin'), MERCHANT_ORIGIN);
  });

  it('T30 the return page may be framed by the merchant origins only, keeps the opener and is never cached', async () => {
    const { callback } = await completeInSandbox(stack(), String(session.transactionId), 'success');
    const res = await fetch(callback!.location, { redirect: 'manual' });
    await res.text();

    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`frame-ancestors ${MERCHANT_ORIGIN}(;|$)`));
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(res.headers.get('x-frame-options'), null);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'unsafe-none');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  });

  it('T30 the return page of an unknown session is a 404 with the same framing headers', async () => {
    const res = await fetch(`${stack().signerUrl}/return/${'A'.repeat(22)}/result`);
    await res.text();

    assert.equal(res.status, 404);
    assert.match(
      res.headers.get('content-security-policy') ?? '',
      /frame-ancestors http:\/\/shop\.test/,
    );
    assert.equal(res.headers.get('x-frame-options'), null);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('T30 the SSE stream is text/event-stream in UTF-8, not cached, and starts with the status', async () => {
    const stream = await followEvents(`${stack().signerUrl}/sessions/${session.id}/events`);
    const text = await stream.waitFor(body => body.includes('\n\n'));
    stream.close();
    const { headers } = stream;

    assert.equal(headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.match(text, /^event: status\nid: [^\n]+\ndata: \{"sessionId"/);
  });
});
