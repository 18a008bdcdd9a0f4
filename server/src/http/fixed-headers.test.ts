import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { fixedHeaders } from './fixed-headers.js';

/** The headers one GET gets from an app running `headers` before a JSON answer. */
async function headersFrom(headers: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.get('/', headers, (_req, res) => {
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise(resolve => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.arrayBuffer();
    const seen = Object.fromEntries(res.headers);
    delete seen.date;
    return seen;
  } finally {
    server.close();
  }
}

describe('fixedHeaders', () => {
  const configs = {
    'helmet defaults': {},
    'the API configuration': {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
    },
    'framing allowed for a merchant, popups kept': {
      crossOriginOpenerPolicy: { policy: 'unsafe-none' as const },
      frameguard: false as const,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ['https://shop.example'] },
      },
    },
  };
  for (const [name, config] of Object.entries(configs)) {
    it(`sets exactly what helmet sets (${name}), X-Powered-By removed`, async () => {
      const expected = await headersFrom(helmet(config));
      const actual = await headersFrom(fixedHeaders(helmet(config)));
      assert.deepEqual(actual, expected);
      assert.equal(actual['x-powered-by'], undefined);
      assert.ok(Object.keys(actual).includes('content-security-policy'));
    });
  }

  it('adds the extra headers after helmet', async () => {
    const actual = await headersFrom(fixedHeaders(helmet(), { 'cache-control': 'no-store' }));
    assert.equal(actual['cache-control'], 'no-store');
    assert.equal(actual['x-content-type-options'], 'nosniff');
  });

  it('refuses a middleware that does not answer synchronously', () => {
    const later: RequestHandler = (_req, _res, next) => void setImmediate(next);
    assert.throws(() => fixedHeaders(later), /did not finish synchronously/);
  });
});
