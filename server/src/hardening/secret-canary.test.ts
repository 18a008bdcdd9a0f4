/**
 * T29 (docs/reliability.md §5): a secret canary. A signer whose API key and salt are canaries is driven
 * down every error path (validation, an upstream 500 or HTML page, a thrown error carrying the salt, bad
 * IPNs, a failing store, 404, TRACE…) and through a payment with its return pages; then no answer and no log
 * line may carry a canary in any casing, nor a stack trace or a raw `data` query string. Each test drives a
 * signer of its own.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeCallback } from '@galaxy-pay/protocol';
import { captureLog } from '../testing/log-capture.js';
import { merchantPost as post, rawRequest, type RawRequestOptions } from '../testing/raw-http.js';
import {
  MERCHANT_ORIGIN,
  completeInSandbox,
  freshStore,
  gatewayCallbackFor,
  startStack,
  transactionIdOf,
  type Stack,
} from '../testing/test-support.js';

const CANARY_KEY = 'CANARY-KEY-7f3a9c';
const CANARY_SALT = 'CANARY-SALT-51d2e8';
/** What no answer and no log line may carry, in any casing. */
const CANARIES = [CANARY_KEY, CANARY_SALT];

interface Seen {
  what: string;
  status: number;
  head: string;
  body: string;
}

/** A request down an error path: what it is, its path, how it is sent, and to which signer. */
type ErrorPath = [what: string, path: string, options?: RawRequestOptions, base?: Stack];

/** What one drive down every error path saw: the answers, the log, and the signed data it sent. */
interface CanaryRun {
  created: number;
  statuses: Record<string, number>;
  thrownBody: string;
  ipnStatuses: number[];
  whileTheStoreFails: number;
  pages: number[];
  statusAfterPayment: string | undefined;
  seen: Seen[];
  logLines: string[];
  /** The signed `data` the return pages carried, raw and %-encoded. */
  dataStrings: string[];
}

/** Starts a canary signer (and one the gateway refuses), runs every error path, and stops them. */
async function driveEveryErrorPath(): Promise<CanaryRun> {
  const log = captureLog('debug');
  const seen: Seen[] = [];
  const dataStrings: string[] = [];
  let storeFails = false;
  const fresh = await freshStore('sqlite');
  // A store that can fail with the salt in the error message (a thrown error on the IPN path).
  const store = new Proxy(fresh.store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      const onIpnPath = property === 'getSessionByGatewayOrderId' || property === 'settleReport';
      if (!onIpnPath || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (storeFails) {
          return Promise.reject(new Error(`connect failed for ${CANARY_KEY} with ${CANARY_SALT}`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const signer = {
    apiKey: CANARY_KEY,
    salt: CANARY_SALT,
    logger: log.logger,
    resolveOrder: (orderRef: string) => {
      if (orderRef === 'THROW-1') {
        throw new Error(`pricing failed; salt=${CANARY_SALT} apiKey=${CANARY_KEY}`);
      }
      return undefined;
    },
  };
  const catalog = {
    'ORDER-1': { amount: 500_000, description: 'Cà phê sữa đá ×10' },
    'ORDER-500': { amount: 80_000, description: 'Trà đào sandbox:500|ok' },
    'ORDER-HTML': { amount: 90_000, description: 'Bánh flan sandbox:html-error-page' },
  };
  const stack = await startStack({
    sharedStore: store,
    sandbox: { apiKey: CANARY_KEY, salt: CANARY_SALT },
    signer,
    catalog,
  });
  // The gateway knows another salt: every signed request is refused with 401.
  const wrongSalt = await startStack({
    sandbox: { apiKey: CANARY_KEY, salt: 'the-gateway-has-another-salt' },
    signer,
    catalog,
  });

  async function hit(what: string, base: Stack, path: string, options: RawRequestOptions = {}) {
    const res = await rawRequest(`${base.signerUrl}${path}`, options);
    seen.push({ what, status: res.status, head: JSON.stringify(res.headers), body: res.body });
    return res;
  }
  try {
    const ok = await hit('create', stack, '/sessions', post('{"orderRef":"ORDER-1"}'));
    const created = JSON.parse(ok.body) as { sessionId: string; checkoutUrl: string };
    // Every error path: what it is, where, and how (the canary signer unless another is named).
    const errorPaths: ErrorPath[] = [
      ['unknown field', '/sessions', post('{"orderRef":"ORDER-1","amount":1}')],
      ['signing oracle', '/sessions', post('{"orderRef":"ORDER-1","signature":"x","apiKey":"y"}')],
      ['bad orderRef', '/sessions', post(`{"orderRef":"${'x'.repeat(60)}"}`)],
      ['malformed JSON', '/sessions', post('{"orderRef":')],
      ['text/plain', '/sessions', post('orderRef=ORDER-1', 'text/plain')],
      ['thrown error', '/sessions', post('{"orderRef":"THROW-1"}')],
      ['upstream 500', '/sessions', post('{"orderRef":"ORDER-500"}')],
      ['upstream HTML page', '/sessions', post('{"orderRef":"ORDER-HTML"}')],
      ['wrong salt at the gateway', '/sessions', post('{"orderRef":"ORDER-1"}'), wrongSalt],
      ['404', '/no/such/route'],
      ['no session', `/sessions/${'B'.repeat(22)}`],
      ['PUT', '/sessions', { method: 'PUT', headers: { origin: MERCHANT_ORIGIN } }],
      ['DELETE', '/ipn', { method: 'DELETE' }],
      ['TRACE', '/sessions', { method: 'TRACE' }],
      ['unknown method', '/sessions', { method: 'BREW' }],
      ['IPN malformed JSON', '/ipn', post('{"data":')],
    ];
    const statuses: Record<string, number> = {};
    for (const [what, path, options, base = stack] of errorPaths) {
      statuses[what] = (await hit(what, base, path, options)).status;
    }
    const thrownBody = seen.find(s => s.what === 'thrown error')!.body;

    // Bad IPN signatures: random, another message's, another salt's, over the decoded JSON, malformed.
    const session = await stack.store.getSession(created.sessionId);
    const good = encodeCallback(gatewayCallbackFor(session!), CANARY_SALT);
    const other = encodeCallback(
      gatewayCallbackFor({ ...session!, gatewayOrderId: 'f'.repeat(32), amount: 1 }),
      CANARY_SALT,
    );
    const decodedSignature = encodeCallback(
      { x: Buffer.from(good.data, 'base64').toString('utf8') },
      CANARY_SALT,
    ).signature;
    const ipnBodies = [
      { data: good.data, signature: randomBytes(32).toString('hex') },
      { data: good.data, signature: other.signature },
      encodeCallback(gatewayCallbackFor(session!), 'GO@2021'),
      { data: good.data, signature: decodedSignature },
      { data: good.data, signature: good.signature.slice(1) },
      { data: [good.data], signature: good.signature },
      { data: good.data, signature: good.signature, extra: 'field' },
    ];
    const ipnStatuses = [];
    for (const body of ipnBodies) {
      ipnStatuses.push((await hit('bad IPN', stack, '/ipn', post(JSON.stringify(body)))).status);
    }
    const form = new URLSearchParams({ data: good.data, signature: 'f'.repeat(64) }).toString();
    ipnStatuses.push(
      (await hit('bad IPN form', stack, '/ipn', post(form, 'application/x-www-form-urlencoded')))
        .status,
    );
    storeFails = true;
    const failing = await hit(
      'IPN while the store fails',
      stack,
      '/ipn',
      post(JSON.stringify(good)),
    );
    storeFails = false;

    // A real payment, then the return page with signed data in the query (valid, tampered, another order's).
    const { callback } = await completeInSandbox(
      stack,
      transactionIdOf(created.checkoutUrl),
      'success',
    );
    const location = new URL(callback!.location);
    const data = location.searchParams.get('data')!;
    dataStrings.push(data, encodeURIComponent(data));
    const returnPath = `${location.pathname}${location.search}`;
    const tampered = returnPath.replace('data=', 'data=AAAA');
    const foreign = `${location.pathname}?data=${encodeURIComponent(other.data)}&signature=${other.signature}`;
    dataStrings.push(other.data, encodeURIComponent(other.data));
    const pages = [
      await hit('return page', stack, returnPath),
      await hit('return page, tampered', stack, tampered),
      await hit('return page, another order', stack, foreign),
      await hit(
        'return page, form POST',
        stack,
        location.pathname,
        post(
          new URLSearchParams({ data, signature: callback!.envelope.signature }).toString(),
          'application/x-www-form-urlencoded',
        ),
      ),
    ];

    return {
      created: ok.status,
      statuses,
      thrownBody,
      ipnStatuses,
      whileTheStoreFails: failing.status,
      pages: pages.map(p => p.status),
      statusAfterPayment: (await stack.store.getSession(created.sessionId))?.status,
      seen,
      logLines: log.lines,
      dataStrings,
    };
  } finally {
    await stack.close();
    await wrongSalt.close();
    await fresh.store.close();
    await fresh.drop();
  }
}

describe('T29 secret canary', () => {
  it('T29 runs every error path with the expected generic answer', async () => {
    const run = await driveEveryErrorPath();

    assert.equal(run.created, 201, run.seen[0]?.body);
    assert.deepEqual(run.statuses, {
      'unknown field': 400,
      'signing oracle': 400,
      'bad orderRef': 400,
      'malformed JSON': 400,
      'text/plain': 415,
      'thrown error': 500,
      'upstream 500': 502,
      'upstream HTML page': 502,
      'wrong salt at the gateway': 502,
      '404': 404,
      'no session': 404,
      PUT: 404,
      DELETE: 404,
      TRACE: 404,
      'unknown method': 400,
      'IPN malformed JSON': 400,
    });
    assert.deepEqual(Object.keys(JSON.parse(run.thrownBody) as object), ['error']);
    assert.deepEqual(Object.keys((JSON.parse(run.thrownBody) as { error: object }).error), [
      'code',
      'message',
      'requestId',
    ]);
    assert.deepEqual(run.ipnStatuses, [401, 401, 401, 401, 400, 400, 400, 401]);
    assert.equal(run.whileTheStoreFails, 503);
    assert.deepEqual(run.pages, [200, 200, 200, 200]);
    assert.equal(run.statusAfterPayment, 'paid');
  });

  it('T29 no answer carries either canary, in any casing, nor a stack trace', async () => {
    const { seen } = await driveEveryErrorPath();

    assert.ok(seen.length >= 30);
    for (const { what, head, body } of seen) {
      const text = `${head}\n${body}`.toLowerCase();
      for (const canary of CANARIES) {
        assert.ok(!text.includes(canary.toLowerCase()), `${what} leaks ${canary}`);
      }
      assert.doesNotMatch(
        body,
        /\bat .+\(.+:\d+:\d+\)|node:internal|\.ts:\d+/,
        `${what} shows a stack`,
      );
    }
  });

  it('T29 no log line carries either canary in any casing, nor a raw data query string', async t => {
    const { seen, logLines, dataStrings } = await driveEveryErrorPath();
    t.diagnostic(`T29 scanned ${seen.length} answers and ${logLines.length} log lines`);

    assert.ok(logLines.length >= 5, 'the error paths were logged');
    assert.ok(logLines.some(line => line.includes('unhandled error')));
    assert.ok(logLines.some(line => line.includes('signed data of another order')));
    for (const line of logLines) {
      const lower = line.toLowerCase();
      for (const canary of CANARIES) {
        assert.ok(!lower.includes(canary.toLowerCase()), `log leaks ${canary}: ${line}`);
      }
      for (const data of dataStrings) {
        assert.ok(!line.includes(data.slice(0, 40)), `log carries raw data: ${line}`);
      }
    }
  });
});
