/**
 * docs/reliability.md §6: bad input is the sender's fault, never a 500. Compressed bodies on every JSON
 * route, bad %-encoding in every path parameter, an upload cut short: each gets the generic error shape and
 * the API headers, and nothing reaches the log as an unhandled error.
 */

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { ADMIN } from '../testing/admin-test-support.js';
import { captureLog } from '../testing/log-capture.js';
import { rawRequest, type RawResponse } from '../testing/raw-http.js';
import {
  MERCHANT_ORIGIN,
  eventually,
  openTestSession,
  startStack,
  type Stack,
} from '../testing/test-support.js';

/** The headers of a request that every route would take: from the merchant origin, as the back office. */
const TRUSTED = {
  origin: MERCHANT_ORIGIN,
  authorization: `Bearer ${ADMIN}`,
  'x-operator': 'alice',
};

describe('§6 never a 500 for bad input', () => {
  let stack: Stack;
  const log = captureLog('debug');

  before(async () => {
    stack = await startStack({ signer: { logger: log.logger } });
  });
  after(() => stack.close());

  const unhandled = () => log.lines.filter(line => line.includes('unhandled error'));

  /** The generic error shape, with the same request id in the body and the header, and the API headers. */
  function assertError(res: RawResponse, status: number, code: string, what: string): void {
    assert.equal(res.status, status, `${what}: ${res.status} ${res.body}`);
    const body = JSON.parse(res.body) as {
      error: { code: string; message: string; requestId: string };
    };
    assert.equal(body.error.code, code, what);
    assert.equal(typeof body.error.message, 'string', what);
    assert.equal(body.error.requestId, res.headers['x-request-id'], what);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', what);
    assert.equal(res.headers['cache-control'], 'no-store', what);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/, what);
  }

  const garbage = Buffer.from('this is not a compressed stream at all \x00\xff\x1f\x8b');
  const valid = (body: unknown) => Buffer.from(JSON.stringify(body));
  const encodings: Array<[string, (body: Buffer) => Buffer]> = [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZip', gzipSync],
  ];

  it('§6 answers 415 unsupported_encoding, never 500, to a compressed body (broken or valid) on every JSON route', async () => {
    const session = await openTestSession(stack, 'ORDER-2');
    const routes: Array<{ path: string; body: unknown; headers?: Record<string, string> }> = [
      { path: '/sessions', body: { orderRef: 'ORDER-1' } },
      { path: `/sessions/${session.id}/cancel`, body: {} },
      { path: '/admin/orders', body: { orderRef: 'GZ-1', amount: 10_000, description: 'gz' } },
      { path: '/admin/reconcile', body: {} },
      { path: '/customer/tokens/tok_1/delete', body: { customerHandle: 'h' } },
    ];
    for (const route of routes) {
      for (const [encoding, compress] of encodings) {
        for (const [kind, body] of [
          ['broken', garbage],
          ['truncated', compress(valid(route.body)).subarray(0, 12)],
          ['valid', compress(valid(route.body))],
        ] as const) {
          const res = await rawRequest(`${stack.signerUrl}${route.path}`, {
            method: 'POST',
            headers: {
              ...TRUSTED,
              'content-type': 'application/json',
              'content-encoding': encoding,
              'content-length': body.length,
            },
            body,
          });
          assertError(res, 415, 'unsupported_encoding', `${kind} ${encoding} ${route.path}`);
        }
      }
    }

    // Nothing changed: the session is still open, the order was never registered, no session for ORDER-1.
    assert.equal((await stack.store.getSession(session.id))?.status, session.status);
    assert.equal(await stack.store.getOrder('GZ-1'), null);
    assert.equal(await stack.store.findOpenSession('ORDER-1', new Date()), null);
    assert.deepEqual(unhandled(), []);
  });

  it('§6 answers 400 malformed_path, never 500, to bad %-encoding in any path parameter', async () => {
    const bad = ['%E0%A4%A', '%zz', '%', '%ff', 'a%2', '%C0%AF'];
    const templates = [
      ['GET', '/sessions/:x'],
      ['GET', '/sessions/:x/events'],
      ['GET', '/sessions/:x/qr.svg'],
      ['POST', '/sessions/:x/cancel'],
      ['GET', '/return/:x/result'],
      ['POST', '/return/:x/cancel'],
      ['GET', '/return/ABCDEFGHIJKLMNOPQRSTUV/:x'],
      ['POST', '/customer/tokens/:x/delete'],
      ['GET', '/admin/orders/:x'],
      ['POST', '/admin/orders/:x/refund'],
      ['GET', '/admin/customers/:x/cards'],
      ['DELETE', '/admin/customers/ref/cards/:x'],
      ['GET', '/admin/links/:x'],
    ];
    for (const [method, template] of templates) {
      for (const segment of bad) {
        const path = template!.replace(':x', segment);
        const res = await rawRequest(`${stack.signerUrl}${path}`, {
          method,
          headers: { ...TRUSTED, 'content-type': 'application/json', 'content-length': 2 },
          body: '{}',
        });
        assertError(res, 400, 'malformed_path', `${method} ${path}`);
      }
    }
    assert.deepEqual(unhandled(), []);
  });

  it("§6 an upload cut short (Content-Length larger than what arrives) is the sender's fault, never a 500", async () => {
    for (const path of ['/sessions', '/admin/orders', '/customer/tokens/tok_1/delete', '/ipn']) {
      const before = log.lines.length;
      const received = stack.traffic().received;
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(stack.signerUrl).port), '127.0.0.1', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: ${MERCHANT_ORIGIN}\r\n` +
              `authorization: Bearer ${ADMIN}\r\nx-operator: alice\r\n` +
              'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"orderRef":',
          );
          // The client gives up once the signer is handling the request: half-close, so the server sees
          // the upload end early.
          eventually(() => stack.traffic().received > received).then(() => socket.end(), reject);
        });
        socket.on('data', () => undefined);
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        setTimeout(() => reject(new Error(`${path}: no close`)), 5000).unref();
      });
      // The server's error path has answered the request: it must not have been an unhandled error.
      await eventually(() => stack.traffic().unanswered === 0);
      assert.deepEqual(
        log.lines.slice(before).filter(line => line.includes('unhandled error')),
        [],
        path,
      );
    }
    const health = await fetch(`${stack.signerUrl}/healthz`);
    assert.equal(health.status, 200);
  });
});
