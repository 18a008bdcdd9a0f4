import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  Endpoint,
  formatGatewayDateTime,
  serializeAndSign,
  signText,
  type CheckoutRequestData,
  type EndpointPath,
} from '@galaxy-pay/protocol';
import { createSandbox, type RequestRecord, type Sandbox } from '@galaxy-pay/sandbox';
import { createTestGatewayClient, type TestGatewayClient } from '../testing/gateway-test-client.js';
import { createGatewayClient } from './client.js';
import { GatewayError, type GatewayErrorCode } from './errors.js';
import type { GatewayClientOptions, GatewayLogger } from './options.js';

const API_KEY = 'CANARY-KEY-7f3a9c1e5b';
const SALT = 'GO@2021';
const WRONG_SALT = 'CANARY-SALT-5b2d8e4f';
const WRONG_KEY = 'CANARY-KEY-wrong-0d1e';
const SECRETS = [API_KEY, SALT, WRONG_SALT, WRONG_KEY];
/** A request or response signature: lowercase hex SHA-256. */
const SIGNATURE_LIKE = /[0-9a-f]{64}/;

interface LogEntry {
  level: 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/** Every log line written by any client in this file, for the final secret scan. */
const allLogs: LogEntry[] = [];
/** Every GatewayError seen in this file, for the final secret scan. */
const allErrors: GatewayError[] = [];

function recordingLogger(): GatewayLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const write = (level: LogEntry['level']) => (obj: Record<string, unknown>, msg: string) => {
    entries.push({ level, obj, msg });
    allLogs.push({ level, obj, msg });
  };
  return { entries, warn: write('warn'), error: write('error') };
}

let sandbox: Sandbox;
let baseUrl: string;

before(async () => {
  // Some clients here run on a fixed 2025 clock: the sandbox does not check requestDateTime (ledger Q5).
  sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, requestDateTimeToleranceMs: null });
  baseUrl = await sandbox.listen(0, '127.0.0.1');
});

after(async () => {
  await sandbox.close();
});

interface TestClient {
  client: TestGatewayClient;
  logs: LogEntry[];
  sleeps: number[];
}

/** A client aimed at the sandbox; backoff waits are recorded instead of slept. */
function clientFor(overrides: Partial<GatewayClientOptions> = {}): TestClient {
  const logger = recordingLogger();
  const sleeps: number[] = [];
  const client = createTestGatewayClient({
    baseUrl,
    apiKey: API_KEY,
    salt: SALT,
    pageOrigins: [new URL(baseUrl).origin],
    logger,
    random: () => 0.5,
    sleep: async ms => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, logs: logger.entries, sleeps };
}

let orderCounter = 0;

function checkoutData(
  orderDescription = 'Order for the gateway client tests',
  overrides: Partial<CheckoutRequestData> = {},
): CheckoutRequestData {
  orderCounter += 1;
  return {
    orderID: `GC-${process.pid}-${Date.now()}-${orderCounter}`,
    orderAmount: 100000,
    orderNetAmount: 100000,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
    orderCurrency: 'VND',
    orderDateTime: formatGatewayDateTime(new Date()),
    orderDescription,
    paymentMethod: 'DOMESTIC',
    language: 'vi',
    ...overrides,
  };
}

/** API requests the sandbox received whose raw body mentions `needle` (an orderID or transactionID). */
function requestsMentioning(needle: string, path?: EndpointPath): RequestRecord[] {
  return sandbox.ledger.requests.filter(
    r => r.rawBody.includes(needle) && (path === undefined || r.path === `/${path}`),
  );
}

function transactionOf(orderID: string): { transactionID: string } {
  const txn = [...sandbox.ledger.transactions.values()].find(t => t.orderID === orderID);
  assert.ok(txn, `the sandbox has a transaction for ${orderID}`);
  return txn;
}

function assertNoSecrets(value: unknown, what: string): void {
  const texts =
    value instanceof Error
      ? [value.message, JSON.stringify(value), inspect(value, { depth: 5 })]
      : [JSON.stringify(value)];
  for (const text of texts) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${what} contains a secret`);
    assert.ok(!SIGNATURE_LIKE.test(text), `${what} contains something like a signature`);
  }
}

/** Awaits a rejection, checks it is a GatewayError with `code` and free of secrets, and returns it. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: GatewayErrorCode,
): Promise<GatewayError> {
  const error: unknown = await promise.then(
    () => assert.fail(`expected a ${code} GatewayError, but the call succeeded`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assertNoSecrets(error, `the ${code} error`);
  allErrors.push(error);
  return error;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

interface FakeReply {
  status?: number;
  body: string;
  /** Default: a valid signature over `body`; `null` sends none. */
  signature?: string | null;
}

/**
 * A `fetch` standing in for the gateway, for replies the sandbox cannot produce (a missing responseCode, a
 * foreign requestID, an https base URL, an echoed credential). It signs with the real protocol code.
 */
function fakeGateway(
  reply: (request: { requestID: string; headers: Record<string, string> }) => FakeReply,
): typeof fetch {
  return async (_input, init) => {
    const headers = init?.headers as Record<string, string>;
    const { requestID } = JSON.parse(String(init?.body)) as { requestID: string };
    const answer = reply({ requestID, headers });
    const responseHeaders = new Headers({ 'content-type': 'application/json' });
    const signature =
      answer.signature === undefined ? signText(answer.body, SALT) : answer.signature;
    if (signature !== null) responseHeaders.set('signature', signature);
    return new Response(answer.body, { status: answer.status ?? 200, headers: responseHeaders });
  };
}

function envelope(requestID: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ requestID, responseDateTime: '20250102100405', ...fields });
}

/** Wraps the global fetch to count the reply bytes the client actually pulled through. */
function countingFetch(options: { dropContentLength: boolean }): {
  fetch: typeof fetch;
  bytesRead: () => number;
} {
  let bytes = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const headers = new Headers(response.headers);
    if (options.dropContentLength) headers.delete('content-length');
    return new Response(response.body?.pipeThrough(counter) ?? null, {
      status: response.status,
      headers,
    });
  };
  return { fetch: wrapped, bytesRead: () => bytes };
}

describe('createGatewayClient', () => {
  describe('on success', () => {
    it('resolves a checkout with its transaction and an endpoint on the allowed origin', async () => {
      const { client } = clientFor();
      const data = checkoutData();

      const reply = await client.checkout(data);

      assert.equal(reply.responseCode, '200');
      assert.match(reply.requestId, /^[0-9a-f]{32}$/);
      assert.equal(reply.responseData.transactionID, transactionOf(data.orderID).transactionID);
      assert.equal(new URL(reply.responseData.endpoint).origin, new URL(baseUrl).origin);
      assert.equal(JSON.parse(reply.rawBody).requestID, reply.requestId);
    });

    it('T03 sends exactly the bytes it signed, Vietnamese text and emoji included, with the API headers', async () => {
      const fixedNow = new Date('2025-01-02T03:04:05Z');
      const { client } = clientFor({ now: () => fixedNow });
      const data = checkoutData('Thanh toán đơn hàng 🛒 Phở bò 🍜');
      const requestId = 'c0ffee00c0ffee00c0ffee00c0ffee00';

      await client.checkout(data, { requestId });

      const [seen, ...others] = requestsMentioning(data.orderID, Endpoint.Checkout);
      assert.ok(seen);
      assert.equal(others.length, 0);
      const expected = serializeAndSign(
        { requestID: requestId, requestDateTime: '20250102100405', requestData: data },
        SALT,
      );
      assert.equal(seen.rawBody, expected.body);
      assert.ok(seen.rawBody.includes('Thanh toán đơn hàng 🛒'), 'UTF-8 text is sent unescaped');
      assert.equal(seen.headers.signature, expected.signature);
      assert.equal(seen.headers.signature, signText(seen.rawBody, SALT));
      assert.equal(seen.headers.apikey, API_KEY);
      assert.equal(seen.headers['content-type'], 'application/json');
      assert.equal(seen.headers.accept, 'application/json');
    });

    it('queries a transaction created by a checkout', async () => {
      const { client } = clientFor();
      const data = checkoutData();
      const created = await client.checkout(data);

      const reply = await client.query(created.responseData.transactionID);

      assert.equal(reply.responseData.transactionID, created.responseData.transactionID);
      assert.equal(reply.responseData.orderID, data.orderID);
      assert.equal(reply.responseData.transactionStatus, '102');
    });

    it('refunds a payment completed at the sandbox', async () => {
      const { client } = clientFor();
      const data = checkoutData();
      const { transactionID } = (await client.checkout(data)).responseData;
      const completed = await fetch(`${baseUrl}/__sandbox/transactions/${transactionID}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'success', card: '9704000000000018' }),
      });
      assert.equal(completed.status, 200);

      const reply = await client.refund({
        transactionID,
        orderID: data.orderID,
        orderAmount: 40000,
        orderCurrency: 'VND',
        orderDateTime: formatGatewayDateTime(new Date()),
        orderDescription: 'Hoàn tiền một phần',
      });

      assert.equal(reply.responseCode, '200');
      assert.equal(reply.responseData, undefined);
      const paid = await client.query(transactionID);
      assert.equal(paid.responseData.transactionStatus, '200');
      assert.equal(paid.responseData.refundedAmount, '40000');
    });

    it('checks the endpoint of a payWithQR reply too, and passes its qrCode on', async () => {
      const { client } = clientFor();

      const reply = await client.payWithQr({
        apiOperation: 'PAY',
        orderID: checkoutData().orderID,
        orderAmount: 50000,
        orderCurrency: 'VND',
        orderDateTime: formatGatewayDateTime(new Date()),
        orderDescription: 'QR order',
        paymentMethod: 'QRPAY',
        sourceType: 'QRPAY',
      });

      assert.equal(new URL(reply.responseData.endpoint).origin, new URL(baseUrl).origin);
      assert.equal(typeof reply.responseData.qrCode, 'string');
    });

    it('posts each convenience method to its documented path', async () => {
      const { client } = clientFor();
      const order = {
        transactionID: 'NO-SUCH-TRANSACTION',
        orderID: 'NO-SUCH-ORDER',
        orderAmount: 1000,
        orderCurrency: 'VND' as const,
        orderDateTime: formatGatewayDateTime(new Date()),
        orderDescription: 'path check',
      };
      const calls: Array<[EndpointPath, () => Promise<unknown>]> = [
        [
          Endpoint.Pay,
          () => client.pay({ ...order, apiOperation: 'PAY', paymentMethod: 'DOMESTIC' }),
        ],
        [Endpoint.PayWithOption, () => client.payWithOption({ ...order, apiOperation: 'PAY' })],
        [Endpoint.Refund, () => client.refund(order)],
        [Endpoint.Void, () => client.void(order)],
        [Endpoint.Capture, () => client.capture(order)],
        [
          Endpoint.CreatePaymentLink,
          () =>
            client.createPaymentLink({
              ...order,
              orderID: checkoutData().orderID,
              orderName: 'Link',
              expiryDuration: 1,
              paymentMethods: ['QRPAY'],
              paymentFields: ['email'],
            }),
        ],
        [
          Endpoint.CreateToken,
          () =>
            client.createToken({
              paymentMethod: 'INTERNATIONAL',
              cardNumber: '4012000033330026',
              cardHolderName: 'NGUYEN VAN A',
              cardExpireDate: '01/39',
              cardVerificationValue: '100',
            }),
        ],
        [Endpoint.DeleteToken, () => client.deleteToken({ token: 'NO-SUCH-TOKEN' })],
        [Endpoint.QueryTokens, () => client.queryTokens({ customerToken: 'customer-1' })],
      ];

      for (const [path, call] of calls) {
        await call().catch((error: unknown) => assert.ok(error instanceof GatewayError));
        assert.equal(sandbox.ledger.requests.at(-1)?.path, `/${path}`);
      }
    });
  });

  describe('T07 when the gateway answers after the deadline', () => {
    it('rejects a checkout with upstream_timeout within the budget, once, and the transaction still exists', async () => {
      const { client } = clientFor({ timeoutMs: 300 });
      const data = checkoutData('sandbox:delay:1500');
      const started = performance.now();

      const error = await rejectsWith(client.checkout(data), 'upstream_timeout');

      const elapsed = performance.now() - started;
      assert.ok(elapsed < 300 + 250, `rejected after ${Math.round(elapsed)} ms`);
      assert.equal(error.status, 504);
      assert.equal(error.mayHaveReachedGateway, true);
      assert.match(error.message, /checkout/);
      assert.equal(requestsMentioning(data.orderID, Endpoint.Checkout).length, 1);
      const { transactionID } = transactionOf(data.orderID);
      const found = await client.query(transactionID);
      assert.equal(found.responseData.orderID, data.orderID);
    });
  });

  describe('T08 when the gateway or the connection fails', () => {
    it('does not retry a checkout whose socket was reset', async () => {
      const { client, sleeps } = clientFor();
      const data = checkoutData('sandbox:reset');

      const error = await rejectsWith(client.checkout(data), 'upstream_error');

      assert.equal(error.status, 502);
      assert.equal(error.mayHaveReachedGateway, true);
      assert.equal(requestsMentioning(data.orderID, Endpoint.Checkout).length, 1);
      assert.deepEqual(sleeps, []);
    });

    it('does not retry a checkout answered with HTTP 500 (500|500|ok)', async () => {
      const { client } = clientFor();
      const data = checkoutData('sandbox:500|500|ok');

      const error = await rejectsWith(client.checkout(data), 'upstream_error');

      assert.equal(error.httpStatus, 500);
      assert.equal(requestsMentioning(data.orderID, Endpoint.Checkout).length, 1);
    });

    it('retries a query through 500|500|ok with full-jitter backoff and succeeds on the third request', async () => {
      const { client, sleeps } = clientFor({ baseDelayMs: 200 });
      const data = checkoutData('sandbox:500|500|ok@query');
      const { transactionID } = (await client.checkout(data)).responseData;

      const reply = await client.query(transactionID);

      assert.equal(reply.responseData.orderID, data.orderID);
      assert.equal(requestsMentioning(transactionID, Endpoint.Query).length, 3);
      // random() = 0.5: half of 200 × 2⁰, then half of 200 × 2¹.
      assert.deepEqual(sleeps, [100, 200]);
    });

    it('retries a query whose socket was reset', async () => {
      const { client } = clientFor();
      const { transactionID } = (await client.checkout(checkoutData('sandbox:reset|ok@query')))
        .responseData;

      await client.query(transactionID);

      assert.equal(requestsMentioning(transactionID, Endpoint.Query).length, 2);
    });

    it('gives up on a query after `retries` extra attempts', async () => {
      const { client, sleeps } = clientFor({ retries: 2 });
      const { transactionID } = (
        await client.checkout(checkoutData('sandbox:500|500|500|ok@query'))
      ).responseData;

      await rejectsWith(client.query(transactionID), 'upstream_error');

      assert.equal(requestsMentioning(transactionID, Endpoint.Query).length, 3);
      assert.equal(sleeps.length, 2);
    });

    it('rejects an HTML error page with upstream_error', async () => {
      const { client } = clientFor();

      const error = await rejectsWith(
        client.checkout(checkoutData('sandbox:html-error-page')),
        'upstream_error',
      );

      assert.equal(error.httpStatus, 502);
    });

    it('reports a wrong salt as gateway_auth_failed, alerts, and never retries, even a query', async () => {
      const { client, logs } = clientFor({ salt: WRONG_SALT });

      const checkout = await rejectsWith(client.checkout(checkoutData()), 'gateway_auth_failed');
      await rejectsWith(client.query('TXN-WRONG-SALT'), 'gateway_auth_failed');

      assert.equal(checkout.retryable, false);
      assert.equal(checkout.httpStatus, 401);
      assert.equal(requestsMentioning('TXN-WRONG-SALT', Endpoint.Query).length, 1);
      assert.ok(logs.some(l => l.level === 'error' && l.obj.event === 'gateway_auth_failed'));
    });

    it('reports a wrong API key as gateway_auth_failed without a retry', async () => {
      const { client } = clientFor({ apiKey: WRONG_KEY });
      const data = checkoutData();

      await rejectsWith(client.checkout(data), 'gateway_auth_failed');

      assert.equal(requestsMentioning(data.orderID).length, 1);
    });

    it('reports responseCode 409 as gateway_duplicate (409-duplicate)', async () => {
      const { client } = clientFor();

      const error = await rejectsWith(
        client.checkout(checkoutData('sandbox:409-duplicate')),
        'gateway_duplicate',
      );

      assert.equal(error.responseCode, '409');
      assert.equal(error.retryable, false);
    });

    it('reports a reused orderID as gateway_duplicate', async () => {
      const { client } = clientFor();
      const data = checkoutData();
      await client.checkout(data);

      await rejectsWith(client.checkout(data), 'gateway_duplicate');
    });

    it('reports a 400 field error as gateway_rejected carrying the code and the message', async () => {
      const { client } = clientFor();

      const error = await rejectsWith(
        client.checkout(checkoutData(undefined, { orderAmount: 99000 })),
        'gateway_rejected',
      );

      assert.equal(error.responseCode, '400');
      assert.equal(error.httpStatus, 400);
      assert.match(error.responseMessage ?? '', /orderAmount/);
      assert.doesNotMatch(error.message, /orderAmount/, 'the message never carries reply text');
    });

    it('rejects a reply without responseCode with upstream_error', async () => {
      const { client } = clientFor({
        fetch: fakeGateway(({ requestID }) => ({ body: envelope(requestID, { ok: true }) })),
      });

      await rejectsWith(client.query('TXN-1'), 'upstream_error');
    });

    it('rejects a signed reply that is not JSON with upstream_error', async () => {
      const { client } = clientFor({ fetch: fakeGateway(() => ({ body: 'OK, thanks' })) });

      await rejectsWith(client.query('TXN-1'), 'upstream_error');
    });

    it('reports a refused connection as upstream_error after the retries, as never sent', async () => {
      const port = await closedPort();
      let attempts = 0;
      const { client, sleeps } = clientFor({
        baseUrl: `http://127.0.0.1:${port}`,
        pageOrigins: [`http://127.0.0.1:${port}`],
        fetch: (input, init) => {
          attempts += 1;
          return fetch(input, init);
        },
      });

      const error = await rejectsWith(client.checkout(checkoutData()), 'upstream_error');

      assert.equal(error.mayHaveReachedGateway, false);
      assert.match(error.message, /ECONNREFUSED/);
      assert.equal(attempts, 3);
      assert.equal(sleeps.length, 2);
    });

    it('never follows a redirect', async () => {
      const redirector: Server = createServer((req, res) => {
        req.resume();
        res.writeHead(307, { location: `${baseUrl}/api/v1/transaction/checkout` }).end();
      });
      await new Promise<void>(resolve => redirector.listen(0, '127.0.0.1', resolve));
      const { port } = redirector.address() as AddressInfo;
      const { client } = clientFor({ baseUrl: `http://127.0.0.1:${port}` });
      const data = checkoutData();

      try {
        await rejectsWith(client.checkout(data), 'upstream_error');
      } finally {
        await new Promise<void>(resolve => redirector.close(() => resolve()));
      }

      assert.equal(requestsMentioning(data.orderID).length, 0);
    });

    it("rethrows the caller's abort reason and does not count it against the gateway", async () => {
      const { client } = clientFor({ breaker: { failureThreshold: 1 } });
      const controller = new AbortController();
      const reason = new Error('the shopper went away');
      setTimeout(() => controller.abort(reason), 50);

      await assert.rejects(
        client.checkout(checkoutData('sandbox:delay:1000'), { signal: controller.signal }),
        error => error === reason,
      );

      assert.equal(client.circuitState(), 'closed');
    });
  });

  describe('T09 when the reply cannot be trusted', () => {
    it('refuses a reply whose signature header does not verify, and alerts', async () => {
      const { client, logs } = clientFor();

      const error = await rejectsWith(
        client.checkout(checkoutData('sandbox:bad-response-signature')),
        'upstream_untrusted',
      );

      assert.equal(error.status, 502);
      const alert = logs.find(l => l.obj.event === 'gateway_untrusted_reply');
      assert.equal(alert?.level, 'error');
      assert.equal(alert?.obj.check, 'response_signature');
    });

    it("accepts a badly signed reply in 'log' mode but logs a warning", async () => {
      const { client, logs } = clientFor({ verifyResponseSignature: 'log' });

      const reply = await client.checkout(checkoutData('sandbox:bad-response-signature'));

      assert.equal(reply.responseCode, '200');
      const warning = logs.find(l => l.obj.event === 'gateway_untrusted_reply');
      assert.equal(warning?.level, 'warn');
      assert.equal(warning?.obj.mode, 'log');
    });

    it('refuses a reply without a signature header', async () => {
      const { client } = clientFor({
        fetch: fakeGateway(({ requestID }) => ({
          body: envelope(requestID, { responseCode: '200', responseMessage: 'Success' }),
          signature: null,
        })),
      });

      await rejectsWith(client.refund(refundData()), 'upstream_untrusted');
    });

    it('refuses a signed reply that echoes another requestID (a replayed reply)', async () => {
      const { client } = clientFor({
        fetch: fakeGateway(() => ({
          body: envelope('someone-elses-request', { responseCode: '200', responseMessage: 'OK' }),
        })),
      });

      await rejectsWith(client.refund(refundData()), 'upstream_untrusted');
    });

    it('refuses an endpoint on a foreign host and never hands it out (foreign-endpoint-host)', async () => {
      const { client, logs } = clientFor();
      const data = checkoutData('sandbox:foreign-endpoint-host');

      const error = await rejectsWith(client.checkout(data), 'upstream_untrusted');

      assert.ok(!JSON.stringify(error).includes('evil.example'));
      const alert = logs.find(l => l.obj.check === 'endpoint_origin');
      assert.equal(alert?.obj.endpointOrigin, 'https://evil.example');
      assert.equal(requestsMentioning(data.orderID).length, 1);
    });

    it('refuses an endpoint whose origin differs from an allowed one only by its port', async () => {
      const sandboxOrigin = new URL(baseUrl);
      const { client } = clientFor({ pageOrigins: [`http://${sandboxOrigin.hostname}:1`] });

      await rejectsWith(client.checkout(checkoutData()), 'upstream_untrusted');
    });

    it('refuses a plain-http endpoint when the gateway itself is https', async () => {
      const { client } = clientFor({
        baseUrl: 'https://gateway.test',
        pageOrigins: ['https://pay.test'],
        fetch: fakeGateway(({ requestID }) => ({
          body: envelope(requestID, {
            responseCode: '200',
            responseMessage: 'Success',
            responseData: { transactionID: 'T1', endpoint: 'http://pay.test/checkout/T1' },
          }),
        })),
      });

      await rejectsWith(client.checkout(checkoutData()), 'upstream_untrusted');
    });

    it('accepts an https endpoint on an allowed origin and returns it normalized', async () => {
      const { client } = clientFor({
        baseUrl: 'https://gateway.test',
        pageOrigins: ['https://PAY.test/'],
        fetch: fakeGateway(({ requestID }) => ({
          body: envelope(requestID, {
            responseCode: '00',
            responseMessage: 'Success',
            responseData: { transactionID: 'T1', endpoint: 'https://pay.test:443/checkout/T1' },
          }),
        })),
      });

      const reply = await client.checkout(checkoutData());

      assert.equal(reply.responseData.endpoint, 'https://pay.test/checkout/T1');
      assert.equal(reply.responseCode, '00');
    });
  });

  describe('T10 when the reply is slow or oversized', () => {
    it('aborts a reply dripped one byte at a time at the deadline (drip)', async () => {
      const timeoutMs = 400;
      const { client } = clientFor({ timeoutMs });
      const started = performance.now();

      await rejectsWith(client.checkout(checkoutData('sandbox:drip')), 'upstream_timeout');

      const elapsed = performance.now() - started;
      assert.ok(elapsed >= timeoutMs - 5, `gave up early, after ${Math.round(elapsed)} ms`);
      assert.ok(elapsed <= timeoutMs + 200, `gave up after ${Math.round(elapsed)} ms`);
    });

    it('refuses a 5 MB reply by its Content-Length without reading it (huge)', async () => {
      const counting = countingFetch({ dropContentLength: false });
      const { client } = clientFor({ fetch: counting.fetch });
      const started = performance.now();

      const error = await rejectsWith(
        client.checkout(checkoutData('sandbox:huge')),
        'upstream_error',
      );

      assert.ok(performance.now() - started < 2000);
      assert.match(error.message, /larger than 1048576 bytes/);
      assert.ok(counting.bytesRead() < 1024 * 1024, `read ${counting.bytesRead()} bytes`);
    });

    it('stops reading an undeclared 5 MB reply once it passes maxResponseBytes (huge)', async () => {
      const counting = countingFetch({ dropContentLength: true });
      const maxResponseBytes = 64 * 1024;
      const { client } = clientFor({ fetch: counting.fetch, maxResponseBytes });

      const error = await rejectsWith(
        client.checkout(checkoutData('sandbox:huge')),
        'upstream_error',
      );

      assert.match(error.message, /larger than 65536 bytes/);
      assert.ok(counting.bytesRead() > maxResponseBytes, 'the streamed path was exercised');
      assert.ok(counting.bytesRead() < 1024 * 1024, `read ${counting.bytesRead()} bytes`);
    });
  });

  describe('with the circuit breaker', () => {
    /** A client with a hand-driven clock. */
    function clientWithClock(overrides: Partial<GatewayClientOptions> = {}) {
      let clock = new Date('2025-01-02T03:04:05Z');
      const test = clientFor({
        now: () => clock,
        breaker: { failureThreshold: 3, openMs: 30_000 },
        ...overrides,
      });
      const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
      return { ...test, advance };
    }

    it('T08 opens after consecutive failures, fails fast without a request, then closes on a successful probe', async () => {
      // Given three checkouts answered with HTTP 500
      const { client, logs, advance } = clientWithClock();
      for (let i = 0; i < 3; i++) {
        await rejectsWith(client.checkout(checkoutData('sandbox:500')), 'upstream_error');
      }
      assert.equal(client.circuitState(), 'open');
      assert.ok(logs.some(l => l.level === 'error' && l.obj.to === 'open'));

      // When another call comes in, it fails fast and the sandbox sees nothing
      const seen = sandbox.ledger.requests.length;
      const open = await rejectsWith(client.checkout(checkoutData()), 'circuit_open');
      assert.equal(sandbox.ledger.requests.length, seen);
      assert.equal(open.status, 503);
      assert.equal(open.retryAfterSeconds, 30);
      assert.equal(open.mayHaveReachedGateway, false);

      // Then, once openMs has passed, one probe goes through while others still fail fast
      advance(30_000);
      assert.equal(client.circuitState(), 'half_open');
      const probe = client.checkout(checkoutData('sandbox:delay:100'));
      await rejectsWith(client.checkout(checkoutData()), 'circuit_open');
      await probe;
      assert.equal(client.circuitState(), 'closed');
      await client.checkout(checkoutData());
      assert.ok(logs.some(l => l.level === 'warn' && l.obj.to === 'closed'));
    });

    it('re-opens for another openMs when the probe fails', async () => {
      const { client, advance } = clientWithClock();
      for (let i = 0; i < 3; i++) {
        await rejectsWith(client.checkout(checkoutData('sandbox:500')), 'upstream_error');
      }
      advance(30_000);

      await rejectsWith(client.checkout(checkoutData('sandbox:500')), 'upstream_error');

      const open = await rejectsWith(client.checkout(checkoutData()), 'circuit_open');
      assert.equal(open.retryAfterSeconds, 30);
      advance(29_000);
      await rejectsWith(client.checkout(checkoutData()), 'circuit_open');
      advance(1_000);
      await client.checkout(checkoutData());
      assert.equal(client.circuitState(), 'closed');
    });

    it('does not count business rejections and duplicates as failures', async () => {
      const { client } = clientWithClock();

      for (let i = 0; i < 3; i++) {
        await rejectsWith(
          client.checkout(checkoutData(undefined, { orderAmount: 1 })),
          'gateway_rejected',
        );
        await rejectsWith(
          client.checkout(checkoutData('sandbox:409-duplicate')),
          'gateway_duplicate',
        );
      }

      assert.equal(client.circuitState(), 'closed');
    });

    it('counts auth failures, so a wrong key stops reaching the gateway', async () => {
      const { client } = clientWithClock({ apiKey: WRONG_KEY });
      for (let i = 0; i < 3; i++) {
        await rejectsWith(client.checkout(checkoutData()), 'gateway_auth_failed');
      }
      const seen = sandbox.ledger.requests.length;

      await rejectsWith(client.checkout(checkoutData()), 'circuit_open');

      assert.equal(sandbox.ledger.requests.length, seen);
    });

    it('stops retrying a query once the circuit opens under it', async () => {
      const { client } = clientWithClock({ breaker: { failureThreshold: 2, openMs: 30_000 } });
      const { transactionID } = (
        await client.checkout(checkoutData('sandbox:500|500|500|ok@query'))
      ).responseData;

      await rejectsWith(client.query(transactionID), 'circuit_open');

      assert.equal(requestsMentioning(transactionID, Endpoint.Query).length, 2);
    });
  });

  describe('T29 with secrets', () => {
    it('redacts credentials a gateway echoes and cleans and truncates its message', async () => {
      const { client } = clientFor({
        fetch: fakeGateway(({ requestID, headers }) => ({
          status: 400,
          body: envelope(requestID, {
            responseCode: '400',
            responseMessage: `Bad key ${headers.apikey} salt ${SALT}\u0000\u202e${'x'.repeat(300)}`,
          }),
        })),
      });

      const error = await rejectsWith(client.refund(refundData()), 'gateway_rejected');

      const message = error.responseMessage ?? '';
      assert.match(message, /^Bad key \[redacted\] salt \[redacted\] x+…$/);
      assert.equal(Array.from(message).length, 200);
    });

    it('refuses a configuration without a secret, naming the option but not echoing values', () => {
      assert.throws(
        () => createGatewayClient({ baseUrl, apiKey: API_KEY, salt: '', pageOrigins: [baseUrl] }),
        (error: Error) => error instanceof TypeError && /salt/.test(error.message),
      );
      assert.throws(
        () => createGatewayClient({ baseUrl, apiKey: API_KEY, salt: SALT, pageOrigins: [] }),
        (error: Error) => /pageOrigins/.test(error.message) && !error.message.includes(API_KEY),
      );
      assert.throws(
        () =>
          createGatewayClient({
            baseUrl: 'https://gateway.test',
            apiKey: API_KEY,
            salt: SALT,
            pageOrigins: ['http://pay.test'],
          }),
        /pageOrigins/,
      );
    });

    it('never put the API key, the salt or a signature into any error or log line above', () => {
      assert.ok(allErrors.length > 20, `only ${allErrors.length} errors were collected`);
      assert.ok(allLogs.length > 5, `only ${allLogs.length} log lines were collected`);
      for (const entry of allLogs) assertNoSecrets(entry, `the log line "${entry.msg}"`);
      for (const error of allErrors) assertNoSecrets(error, `the ${error.code} error`);
    });
  });
});

function refundData() {
  return {
    transactionID: 'T1',
    orderID: 'O1',
    orderAmount: 1000,
    orderCurrency: 'VND' as const,
    orderDateTime: '20250102100405',
    orderDescription: 'refund',
  };
}
