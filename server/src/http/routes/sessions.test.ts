import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RequestRecord } from '@galaxy-pay/sandbox';
import { createGatewayClient } from '../../gateway/client.js';
import { createLogger, silentLogger } from '../../logger.js';
import { sweep } from '../../payments/sweep.js';
import { ADMIN } from '../../testing/admin-test-support.js';
import { createSqliteStore } from '../../store/sqlite.js';
import type { Store } from '../../store/store.js';
import {
  API_KEY,
  MERCHANT_ORIGIN,
  SALT,
  completeInSandbox,
  eventually,
  freshStore,
  requestDataOf,
  sandboxRequests,
  setGatewayFaults,
  startStack,
  transactionIdOf,
  useStack as useStackOf,
  widgetCall,
  type Reply,
  type Stack,
  type StackOptions,
} from '../../testing/test-support.js';

type Json = Record<string, unknown>;

/** Credentials the gateway does not know. */
const OTHER_SALT = 'not-the-salt-2021';
const OTHER_API_KEY = 'not-the-api-key';
const CHECKOUT = '/api/v1/transaction/checkout';
const QUERY = '/api/v1/transaction/query';

/** Every signer response of this file, scanned for secrets at the end (T04). */
const seen: Array<{ what: string; headers: Headers; text: string }> = [];
/** What the signer sent to a sandbox: signed bodies, signatures, orderIDs, requestIDs (never in a response). */
const signedArtifacts = new Set<string>();

/** `widgetCall`, remembering the response for the final scan. */
async function call(...args: Parameters<typeof widgetCall>): Promise<Reply> {
  const reply = await widgetCall(...args);
  const [, method, path] = args;
  seen.push({ what: `${method} ${path}`, headers: reply.headers, text: reply.text });
  return reply;
}

/** A raw request (any method, body text and headers), remembered for the final scan. */
async function send(
  stack: Pick<Stack, 'signerUrl'>,
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${stack.signerUrl}${path}`, {
    method,
    headers: init.headers,
    body: init.body,
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON: the test reads `text`
  }
  seen.push({ what: `${method} ${path}`, headers: res.headers, text });
  return { status: res.status, json, headers: res.headers, text };
}

/** POSTs a raw JSON text from the merchant origin. */
function postJsonText(stack: Pick<Stack, 'signerUrl'>, body: string): Promise<Reply> {
  return send(stack, 'POST', '/sessions', {
    body,
    headers: { origin: MERCHANT_ORIGIN, 'content-type': 'application/json' },
  });
}

/** The generic error body with a stable code and the response's request id. */
function assertError(reply: Reply, status: number, code: string, label = ''): void {
  const about = `${label ? `${label}: ` : ''}${reply.text}`;
  assert.equal(reply.status, status, about);
  assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8', about);
  assert.deepEqual(Object.keys(reply.json), ['error'], about);
  const error = reply.json.error as Json;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'requestId'], about);
  assert.equal(error.code, code, about);
  assert.equal(typeof error.message, 'string', about);
  assert.equal(error.requestId, reply.headers.get('x-request-id'), about);
}

/** Checkout calls the sandbox received for the order with this (unique) description. */
async function checkoutsFor(stack: Stack, description: string): Promise<RequestRecord[]> {
  const all = await sandboxRequests(stack, CHECKOUT);
  return all.filter(r => requestDataOf(r).orderDescription === description);
}

/** Query calls the sandbox received about one transaction. */
async function queriesFor(stack: Stack, transactionId: string): Promise<RequestRecord[]> {
  const all = await sandboxRequests(stack, QUERY);
  return all.filter(r => requestDataOf(r).transactionID === transactionId);
}

/** Keeps what the signer signed and sent, so the final scan can look for it in every response. */
async function rememberSigned(stack: Stack): Promise<void> {
  for (const request of await sandboxRequests(stack)) {
    signedArtifacts.add(request.rawBody);
    const signature = request.headers.signature;
    if (typeof signature === 'string') signedArtifacts.add(signature);
    const envelope = JSON.parse(request.rawBody) as { requestID?: unknown; requestData?: Json };
    if (typeof envelope.requestID === 'string') signedArtifacts.add(envelope.requestID);
    const orderId = envelope.requestData?.orderID;
    if (typeof orderId === 'string') signedArtifacts.add(orderId);
  }
}

/** A stack for the enclosing describe whose signed requests the final scan looks for. */
function useStack(options: StackOptions = {}): () => Stack {
  return useStackOf(options, { beforeClose: rememberSigned });
}

async function registerOrder(stack: Stack, order: Json): Promise<Reply> {
  return send(stack, 'POST', '/admin/orders', {
    body: JSON.stringify(order),
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
  });
}

async function openSessionFor(stack: Stack, orderRef: string): Promise<Reply> {
  const created = await call(stack, 'POST', '/sessions', { orderRef });
  assert.equal(created.status, 201, created.text);
  return created;
}

function prototypeIsClean(): boolean {
  return (
    Object.keys(Object.prototype).length === 0 &&
    !('polluted' in {}) &&
    ({} as Json).constructor === Object
  );
}

/** A tiny Server-Sent Events reader: `next()` gives each event's parsed `data`, undefined at the end. */
async function openEvents(
  stack: Stack,
  sessionId: string,
  timeoutMs = 10_000,
): Promise<{ status: number; headers: Headers; next(): Promise<Json | undefined> }> {
  const res = await fetch(`${stack.signerUrl}/sessions/${sessionId}/events`, {
    headers: { origin: MERCHANT_ORIGIN, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.ok(res.body);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let ended = false;
  const next = async (): Promise<Json | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter(line => line.startsWith('data:'))
          .map(line => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) return JSON.parse(data) as Json;
        continue;
      }
      if (ended) return undefined;
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        seen.push({ what: `GET /sessions/${sessionId}/events`, headers: res.headers, text });
        continue;
      }
      const chunk = decoder.decode(value, { stream: true });
      buffer += chunk;
      text += chunk;
    }
  };
  return { status: res.status, headers: res.headers, next };
}

/** Orders of the main stack: each description is unique so the sandbox log can be filtered by it. */
const CATALOG = {
  'ORDER-1': { amount: 500_000, description: 'Cà phê sữa đá ×10' },
  'BOUND-1': { amount: 70_000, description: 'Order bound to one browser' },
  'REOPEN-1': { amount: 72_000, description: 'Order whose dialog was closed' },
  'REOPEN-2': {
    amount: 73_000,
    description: 'Order paid after its dialog was closed sandbox:no-ipn',
  },
  'BOUND-2': { amount: 71_000, description: 'Order opened by a keyless caller' },
  'T01-TAMPER': { amount: 500_000, description: 'Áo dài lụa (T01)' },
  'PROP-1': { amount: 10_000, description: 'Property order' },
  'T06-KEY': { amount: 250_000, description: 'Idempotent order' },
  'T06-OPEN': { amount: 260_000, description: 'Open session order' },
  'T06-RACE': { amount: 270_000, description: 'Double click order' },
  'T06-PAID': { amount: 280_000, description: 'Paid order' },
  'T06-502': { amount: 290_000, description: 'Gateway error order sandbox:html-error-page' },
  'RETURN-1': { amount: 90_000, description: 'Redirect mode order' },
  'VIEW-1': { amount: 91_000, description: 'Viewed order' },
  'SSE-1': { amount: 92_000, description: 'Streamed order' },
  'SSE-PAID': { amount: 93_000, description: 'Streamed paid order' },
  'CANCEL-PAID': { amount: 94_000, description: 'Paid then closed sandbox:no-ipn' },
  'CANCEL-OPEN': { amount: 95_000, description: 'Closed unpaid order' },
  'T05-NO-ORIGIN': { amount: 96_000, description: 'Server to server order' },
  // Its own order: the property test above may leave a keyless open session on ORDER-1.
  'T05-ORIGIN': { amount: 97_000, description: 'Cross-origin order' },
};

/** An order of 100,000 VND (unless `amount` says otherwise) with this description. */
function order(description: string, amount = 100_000) {
  return { amount, description };
}

/** Orders whose description carries a sandbox fault, for the stacks that face a failing gateway. */
const GATEWAY_FAULTS = {
  'SLOW-1': order('Slow order sandbox:delay:2000'),
  'LOST-1': order('Order with a lost reply'),
  'LOST-2': order('Order whose gateway stays silent sandbox:reset|reset|ok'),
  'LOST-3': order('Order settled in the background'),
  'FLAKY-1': order('Flaky order sandbox:500|ok'),
  'RESET-1': order('Reset order sandbox:reset'),
  'HTML-1': order('Proxy error order sandbox:html-error-page'),
  'DOWN-1': order('Down order 1 sandbox:500'),
  'DOWN-2': order('Down order 2 sandbox:500'),
  'UP-1': order('Healthy order'),
  'BADSIG-1': order('Bad signature sandbox:bad-response-signature'),
  'FOREIGN-1': order('Foreign page sandbox:foreign-endpoint-host'),
  'DRIP-1': order('Dripping reply sandbox:drip'),
  'HUGE-1': order('Huge reply sandbox:huge'),
  'FINE-1': order('Normal reply'),
  'STALE-1': order('Stale order'),
  'STALE-2': order('Recovered order sandbox:500|ok,no-ipn'),
  'STALE-3': order('Lapsed order'),
  'PAID-SILENT': order('Paid, IPN lost, query failing sandbox:no-ipn,500|500@query', 40_000),
};

describe('POST /sessions', () => {
  const stack = useStack({ catalog: CATALOG });

  describe('with a browser-supplied amount', () => {
    it('T01 responds 400 unknown_field and never calls the gateway', async () => {
      const before = (await sandboxRequests(stack())).length;

      const tampered = await call(stack(), 'POST', '/sessions', {
        orderRef: 'T01-TAMPER',
        amount: 1000,
      });

      assertError(tampered, 400, 'unknown_field');
      assert.equal((await sandboxRequests(stack())).length, before);
    });

    it('T01 sends the server price 500 000 to the gateway for a valid session of that order', async () => {
      const created = await call(stack(), 'POST', '/sessions', { orderRef: 'T01-TAMPER' });

      assert.equal(created.status, 201, created.text);
      const [sent, ...more] = await checkoutsFor(stack(), CATALOG['T01-TAMPER'].description);
      assert.ok(sent);
      assert.equal(more.length, 0);
      assert.match(sent.rawBody, /"orderAmount":500000[,}]/);
      assert.doesNotMatch(sent.rawBody, /:1000[,}]/);
      assert.equal(requestDataOf(sent).orderAmount, 500_000);
      assert.equal(requestDataOf(sent).orderNetAmount, 500_000);
    });
  });

  describe('with many long unknown field names', () => {
    it('T02 names the first few, truncated, instead of echoing them all', async () => {
      const body: Record<string, unknown> = { orderRef: 'T01-TAMPER' };
      for (let i = 0; i < 50; i++) body[`${'k'.repeat(100)}${i}`] = 1;

      const refused = await call(stack(), 'POST', '/sessions', body);

      assertError(refused, 400, 'unknown_field');
      const message = String((refused.json.error as { message: string }).message);
      assert.match(message, /and 47 more$/);
      assert.ok(message.length < 200, message);
    });
  });

  describe('with a body outside the schema', () => {
    const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const cases: Array<[string, string, string]> = [
      ['a missing orderRef', '{"locale":"vi"}', 'invalid_field'],
      ['an empty object', '{}', 'invalid_field'],
      ['an extra key', '{"orderRef":"ORDER-1","coupon":"FREE"}', 'unknown_field'],
      ['orderRef as a number', '{"orderRef":1001}', 'invalid_field'],
      ['orderRef as an array', '{"orderRef":["ORDER-1"]}', 'invalid_field'],
      ['orderRef as null', '{"orderRef":null}', 'invalid_field'],
      ['locale as a number', '{"orderRef":"ORDER-1","locale":1}', 'invalid_field'],
      ['paymentMethod as an object', '{"orderRef":"ORDER-1","paymentMethod":{}}', 'invalid_field'],
      ['returnUrl as a boolean', '{"orderRef":"ORDER-1","returnUrl":true}', 'invalid_field'],
      ['an orderRef of 51 characters', `{"orderRef":"${'A'.repeat(51)}"}`, 'invalid_field'],
      ['an empty orderRef', '{"orderRef":""}', 'invalid_field'],
      ['an orderRef with a slash', '{"orderRef":"ORDER/1"}', 'invalid_field'],
      ['an orderRef with a path', '{"orderRef":"../ORDER-1"}', 'invalid_field'],
      ['an orderRef with a space', '{"orderRef":"ORDER 1"}', 'invalid_field'],
      ['an orderRef with a newline', '{"orderRef":"ORDER-1\\n"}', 'invalid_field'],
      ['an orderRef with Vietnamese letters', '{"orderRef":"ĐƠN-1"}', 'invalid_field'],
      ['an orderRef with full-width digits', '{"orderRef":"ORDER-１"}', 'invalid_field'],
      ['an orderRef with a NUL', '{"orderRef":"ORDER-1\\u0000"}', 'invalid_field'],
      ['locale fr', '{"orderRef":"ORDER-1","locale":"fr"}', 'invalid_field'],
      ['locale VI in capitals', '{"orderRef":"ORDER-1","locale":"VI"}', 'invalid_field'],
      // HUB and BNPL are offered (issue 12 §4), but only with their sourceType.
      [
        'paymentMethod HUB without sourceType',
        '{"orderRef":"ORDER-1","paymentMethod":"HUB"}',
        'source_type_required',
      ],
      [
        'paymentMethod BNPL without sourceType',
        '{"orderRef":"ORDER-1","paymentMethod":"BNPL"}',
        'source_type_required',
      ],
      [
        'paymentMethod in lower case',
        '{"orderRef":"ORDER-1","paymentMethod":"domestic"}',
        'invalid_field',
      ],
      [
        'sourceType without paymentMethod',
        '{"orderRef":"ORDER-1","sourceType":"VISA"}',
        'invalid_field',
      ],
      [
        'sourceType of another method',
        '{"orderRef":"ORDER-1","paymentMethod":"DOMESTIC","sourceType":"VISA"}',
        'invalid_field',
      ],
      [
        'sourceType in lower case',
        '{"orderRef":"ORDER-1","paymentMethod":"INTERNATIONAL","sourceType":"visa"}',
        'invalid_field',
      ],
      ['a __proto__ key', '{"orderRef":"ORDER-1","__proto__":{"polluted":"yes"}}', 'unknown_field'],
      [
        'a constructor key',
        '{"orderRef":"ORDER-1","constructor":{"prototype":{"polluted":"yes"}}}',
        'unknown_field',
      ],
      ['a prototype key', '{"orderRef":"ORDER-1","prototype":{"polluted":"yes"}}', 'unknown_field'],
      [
        '__proto__ as the orderRef value',
        '{"orderRef":{"__proto__":{"polluted":"yes"}}}',
        'invalid_field',
      ],
      [
        'depth-50 nesting in a known field',
        `{"orderRef":"ORDER-1","locale":${deep(50)}}`,
        'invalid_field',
      ],
      [
        'depth-50 nesting in an unknown field',
        `{"orderRef":"ORDER-1","x":${deep(50)}}`,
        'unknown_field',
      ],
      ['an array body', '[{"orderRef":"ORDER-1"}]', 'invalid_field'],
      ['an empty array body', '[]', 'invalid_field'],
      ['a string body', '"ORDER-1"', 'malformed_json'],
      ['a number body', '1001', 'malformed_json'],
      ['a null body', 'null', 'malformed_json'],
      ['a boolean body', 'true', 'malformed_json'],
      ['truncated JSON', '{"orderRef":', 'malformed_json'],
      ['JSON with trailing garbage', '{"orderRef":"ORDER-1"}x', 'malformed_json'],
      ['single-quoted JSON', "{'orderRef':'ORDER-1'}", 'malformed_json'],
    ];

    it('T02 answers each bad input with 400 and its stable code, without calling the gateway', async () => {
      const before = (await sandboxRequests(stack())).length;

      for (const [name, body, code] of cases) {
        const reply = await postJsonText(stack(), body);
        assert.ok(reply.status < 500, `${name}: ${reply.status}`);
        assertError(reply, 400, code, name);
      }

      assert.equal((await sandboxRequests(stack())).length, before);
      assert.ok(prototypeIsClean());
    });

    it('T02 answers 404 order_not_found for orderRefs named like Object.prototype members', async () => {
      for (const orderRef of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'NOPE-1']) {
        const reply = await call(stack(), 'POST', '/sessions', { orderRef });

        assertError(reply, 404, 'order_not_found');
      }
      assert.ok(prototypeIsClean());
    });

    it('T02 never answers 5xx for arbitrary JSON bodies and leaves Object.prototype clean', async () => {
      const allowed = new Set([201, 200, 400, 404, 409, 415]);
      const pollution = fc.constantFrom(
        '{"__proto__":{"polluted":"yes"}}',
        '{"orderRef":"PROP-1","__proto__":{"polluted":"yes"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        '{"orderRef":"PROP-1","locale":{"__proto__":{"toString":"x"}}}',
        '[{"__proto__":{"polluted":"yes"}}]',
      );
      const shaped = fc
        .record(
          {
            orderRef: fc.oneof(
              fc.constantFrom('PROP-1', 'ORDER-1', 'NOPE-2', '__proto__', 'constructor'),
              fc.string({ maxLength: 60 }),
              fc.jsonValue({ maxDepth: 2 }),
            ),
            locale: fc.oneof(fc.constantFrom('vi', 'en', 'fr', ''), fc.jsonValue({ maxDepth: 1 })),
            paymentMethod: fc.constantFrom('DOMESTIC', 'INTERNATIONAL', 'WALLET', 'HUB', 'x'),
            sourceType: fc.constantFrom('VISA', 'MOMO', 'VIETCOMBANK', 'visa', ''),
            returnUrl: fc.oneof(
              fc.constantFrom('http://shop.test/done', 'https://evil.example/', 'javascript:1'),
              fc.string({ maxLength: 40 }),
            ),
            amount: fc.integer(),
          },
          { requiredKeys: [] },
        )
        .map(body => JSON.stringify(body));
      const anything = fc
        .anything({ maxDepth: 3 })
        .map(value => JSON.stringify(value) as string | undefined)
        .filter((text): text is string => typeof text === 'string');
      const bodies = fc
        .oneof(fc.json({ maxDepth: 4 }), anything, shaped, pollution)
        .filter(text => Buffer.byteLength(text) < 7000);

      await fc.assert(
        fc.asyncProperty(bodies, async body => {
          const reply = await postJsonText(stack(), body);

          assert.ok(allowed.has(reply.status), `${reply.status} for ${body}: ${reply.text}`);
          if (reply.status >= 400)
            assertError(reply, reply.status, String((reply.json.error as Json).code));
          assert.ok(prototypeIsClean(), `Object.prototype polluted by ${body}`);
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('for orders described in Vietnamese with emoji', () => {
    const nfc = 'Thanh toán đơn hàng #42: Cà phê sữa đá, bánh mì ☕️🇻🇳👨‍👩‍👧 — Đà Nẵng';

    async function sessionWithDescription(orderRef: string, description: string) {
      const registered = await registerOrder(stack(), { orderRef, amount: 123_000, description });
      assert.equal(registered.status, 201, registered.text);
      const created = await call(stack(), 'POST', '/sessions', { orderRef });
      assert.equal(created.status, 201, created.text);
      const sent = await checkoutsFor(stack(), description.normalize('NFC'));
      assert.equal(sent.length, 1);
      return sent[0]!;
    }

    it('T03 normalizes NFD input to NFC and signs the exact bytes the gateway verifies', async () => {
      const nfd = nfc.normalize('NFD');
      assert.notEqual(nfd, nfc);

      const sent = await sessionWithDescription('T03-NFD', nfd);

      assert.equal(sent.verdict.httpStatus, 200, sent.verdict.message);
      assert.equal(requestDataOf(sent).orderDescription, nfc);
      assert.ok(sent.rawBody.includes(nfc), 'the description travels as raw UTF-8, not re-encoded');
      assert.ok(!sent.rawBody.includes(nfd));
    });

    it('T03 accepts a 250-character NFC description even when its NFD form is longer', async () => {
      const description = 'Cà phê sữa đá '.repeat(18).slice(0, 250);
      assert.equal(description.length, 250);
      assert.ok(description.normalize('NFD').length > 250);

      const sent = await sessionWithDescription('T03-MAX', description.normalize('NFD'));

      assert.equal(sent.verdict.httpStatus, 200, sent.verdict.message);
      assert.equal(requestDataOf(sent).orderDescription, description);
    });

    it('T03 signs descriptions of 125 emoji (250 UTF-16 units) that the gateway verifies', async () => {
      const description = '🇻'.repeat(125);

      const sent = await sessionWithDescription('T03-EMOJI', description);

      assert.equal(sent.verdict.httpStatus, 200, sent.verdict.message);
      assert.equal(requestDataOf(sent).orderDescription, description);
    });

    it('T03 gets every generated Vietnamese or emoji description verified by the gateway', async () => {
      const alphabet = [
        ...'aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậđèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ĐƠN',
      ];
      const symbol = fc.oneof(
        fc.constantFrom(...alphabet),
        fc.constantFrom('☕️', '🇻🇳', '👨‍👩‍👧', '×', '—', '₫', '🍜'),
      );
      const description = fc
        .array(symbol, { minLength: 1, maxLength: 60 })
        .map(parts => parts.join('').trim())
        .filter(text => text.length > 0 && text.length <= 250);
      let run = 0;

      await fc.assert(
        fc.asyncProperty(description, fc.boolean(), async (text, decompose) => {
          run += 1;
          const orderRef = `T03-P${run}`;
          const input = decompose ? text.normalize('NFD') : text;

          const sent = await sessionWithDescription(orderRef, `${input} #${run}`);

          assert.equal(sent.verdict.httpStatus, 200, sent.verdict.message);
          assert.equal(requestDataOf(sent).orderDescription, `${text.normalize('NFC')} #${run}`);
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('with gateway fields from the browser', () => {
    const fields: Array<[string, unknown]> = [
      ['apiOperation', 'REFUND'],
      ['ipnURL', 'https://evil.example/ipn'],
      ['successURL', 'https://evil.example/ok'],
      ['cancelURL', 'https://evil.example/cancel'],
      ['cardNumber', '9704000000000018'],
      ['cardHolderName', 'NGUYEN VAN A'],
      ['token', 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6'],
      ['extraData', { blob: 'x'.repeat(200) }],
      ['orderID', 'deadbeefdeadbeefdeadbeefdeadbeef'],
    ];

    for (const [field, value] of fields) {
      it(`T04 refuses ${field} with 400 field_not_allowed and does not echo its value`, async () => {
        const before = (await sandboxRequests(stack())).length;

        const reply = await call(stack(), 'POST', '/sessions', {
          orderRef: 'ORDER-1',
          [field]: value,
        });

        assertError(reply, 400, 'field_not_allowed');
        assert.ok(!reply.text.includes(JSON.stringify(value).slice(1, 30)), reply.text);
        assert.equal((await sandboxRequests(stack())).length, before);
      });
    }
  });

  describe('from a browser on another site', () => {
    const validBody = JSON.stringify({ orderRef: 'ORDER-1' });

    it('T05 refuses a text/plain POST with 415 and never calls the gateway', async () => {
      const before = (await sandboxRequests(stack())).length;

      const reply = await send(stack(), 'POST', '/sessions', {
        body: validBody,
        headers: { origin: MERCHANT_ORIGIN, 'content-type': 'text/plain' },
      });

      assertError(reply, 415, 'unsupported_media_type');
      assert.equal((await sandboxRequests(stack())).length, before);
    });

    it('T05 refuses form-encoded and multipart POSTs with 415', async () => {
      const before = (await sandboxRequests(stack())).length;

      const form = await send(stack(), 'POST', '/sessions', {
        body: 'orderRef=ORDER-1',
        headers: { origin: MERCHANT_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      });
      const multipart = await send(stack(), 'POST', '/sessions', {
        body: '--b\r\nContent-Disposition: form-data; name="orderRef"\r\n\r\nORDER-1\r\n--b--\r\n',
        headers: { origin: MERCHANT_ORIGIN, 'content-type': 'multipart/form-data; boundary=b' },
      });
      const none = await send(stack(), 'POST', '/sessions', {
        body: validBody,
        headers: { origin: MERCHANT_ORIGIN },
      });

      assertError(form, 415, 'unsupported_media_type');
      assertError(multipart, 415, 'unsupported_media_type');
      assertError(none, 415, 'unsupported_media_type');
      assert.equal((await sandboxRequests(stack())).length, before);
    });

    it('T05 answers 403 origin_not_allowed without CORS headers for origins off the allow-list', async () => {
      const before = (await sandboxRequests(stack())).length;
      const origins = [
        'https://evil.example',
        'http://shop.test.evil.example',
        'https://shop.test',
        'http://shop.test:8080',
        'http://sub.shop.test',
        'null',
      ];

      for (const origin of origins) {
        const post = await send(stack(), 'POST', '/sessions', {
          body: validBody,
          headers: { origin, 'content-type': 'application/json' },
        });
        const read = await send(stack(), 'GET', '/sessions/AAAAAAAAAAAAAAAAAAAAAA', {
          headers: { origin },
        });

        assertError(post, 403, 'origin_not_allowed', origin);
        assertError(read, 403, 'origin_not_allowed', origin);
        for (const reply of [post, read]) {
          assert.equal(reply.headers.get('access-control-allow-origin'), null, origin);
          assert.equal(reply.headers.get('access-control-allow-credentials'), null, origin);
        }
      }

      assert.equal((await sandboxRequests(stack())).length, before);
    });

    it('T05 refuses Origin: null (sandboxed frames, file: pages) with 403', async () => {
      const reply = await send(stack(), 'POST', '/sessions', {
        body: validBody,
        headers: { origin: 'null', 'content-type': 'application/json' },
      });

      assertError(reply, 403, 'origin_not_allowed');
      assert.equal(reply.headers.get('access-control-allow-origin'), null);
    });

    it('T05 serves a request without Origin (non-browser clients; browsers always send Origin on a cross-origin POST)', async () => {
      const reply = await send(stack(), 'POST', '/sessions', {
        body: JSON.stringify({ orderRef: 'T05-NO-ORIGIN' }),
        headers: { 'content-type': 'application/json' },
      });

      assert.equal(reply.status, 201, reply.text);
      assert.equal(reply.headers.get('access-control-allow-origin'), null);
      const session = await stack().store.getSession(String(reply.json.sessionId));
      assert.equal(session?.merchantOrigin, null);
    });

    it('T05 answers a preflight from the allowed origin with 204 and exactly that origin', async () => {
      const reply = await send(stack(), 'OPTIONS', '/sessions', {
        headers: {
          origin: MERCHANT_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key',
        },
      });

      assert.equal(reply.status, 204);
      assert.equal(reply.headers.get('access-control-allow-origin'), 'http://shop.test');
      assert.equal(reply.headers.get('access-control-allow-credentials'), null);
      assert.match(reply.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(reply.headers.get('access-control-allow-headers') ?? '', /idempotency-key/);
      assert.match(reply.headers.get('vary') ?? '', /Origin/i);
    });

    it('T05 never answers a preflight from another origin with a CORS grant', async () => {
      for (const origin of ['https://evil.example', 'null', 'http://shop.test.evil.example']) {
        const reply = await send(stack(), 'OPTIONS', '/sessions', {
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });

        assertError(reply, 403, 'origin_not_allowed', origin);
        assert.equal(reply.headers.get('access-control-allow-origin'), null, origin);
        assert.equal(reply.headers.get('access-control-allow-methods'), null, origin);
      }
    });

    it('T05 grants exactly the merchant origin, never *, on an allowed POST', async () => {
      const reply = await call(stack(), 'POST', '/sessions', { orderRef: 'T05-ORIGIN' });

      assert.equal(reply.status, 201, reply.text);
      assert.equal(reply.headers.get('access-control-allow-origin'), 'http://shop.test');
      assert.match(reply.headers.get('vary') ?? '', /Origin/i);
    });
  });

  describe('with an Idempotency-Key', () => {
    it('T06 makes exactly one upstream checkout for 10 concurrent identical POSTs', async () => {
      const headers = { 'idempotency-key': 'double-click-0001' };

      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          call(stack(), 'POST', '/sessions', { orderRef: 'T06-KEY', locale: 'en' }, headers),
        ),
      );

      const original = replies.filter(
        r => r.status === 201 && !r.headers.has('idempotent-replayed'),
      );
      assert.equal(original.length, 1, replies.map(r => r.status).join(','));
      for (const reply of replies) {
        if (reply === original[0]) continue;
        if (reply.status === 409) {
          assertError(reply, 409, 'request_in_progress');
          assert.equal(reply.headers.get('retry-after'), '1');
        } else {
          assert.equal(reply.status, 201, reply.text);
          assert.equal(reply.headers.get('idempotent-replayed'), 'true');
          assert.equal(reply.text, original[0]!.text);
        }
      }
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-KEY'].description)).length, 1);
    });

    it('T06 replays the saved status and body to a retry after completion', async () => {
      const headers = { 'idempotency-key': 'double-click-0001' };
      const replayed = await eventually(async () => {
        const reply = await call(
          stack(),
          'POST',
          '/sessions',
          { orderRef: 'T06-KEY', locale: 'en' },
          headers,
        );
        return reply.status === 409 ? undefined : reply;
      });

      const again = await call(
        stack(),
        'POST',
        '/sessions',
        { locale: 'en', orderRef: 'T06-KEY' },
        headers,
      );

      assert.equal(again.status, 201, again.text);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(again.text, replayed.text);
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-KEY'].description)).length, 1);
    });

    it('T06 answers 422 idempotency_key_reused for the same key with another body', async () => {
      const reply = await call(
        stack(),
        'POST',
        '/sessions',
        { orderRef: 'T06-KEY', locale: 'vi' },
        { 'idempotency-key': 'double-click-0001' },
      );

      assertError(reply, 422, 'idempotency_key_reused');
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-KEY'].description)).length, 1);
    });

    it('T06 settles the key with an error answer too: replayed (4xx) or released (5xx), never stuck in flight', async () => {
      const headers = { 'idempotency-key': 'error-then-retry-0001' };
      const first = await call(
        stack(),
        'POST',
        '/sessions',
        { orderRef: 'NO-SUCH-ORDER' },
        headers,
      );
      const retry = await call(
        stack(),
        'POST',
        '/sessions',
        { orderRef: 'NO-SUCH-ORDER' },
        headers,
      );
      // The gateway refuses this one (sandbox fault): a 5xx releases the key, so the retry runs again.
      const gatewayHeaders = { 'idempotency-key': 'error-then-retry-0002' };
      const failed = await call(
        stack(),
        'POST',
        '/sessions',
        { orderRef: 'T06-502' },
        gatewayHeaders,
      );
      const again = await call(
        stack(),
        'POST',
        '/sessions',
        { orderRef: 'T06-502' },
        gatewayHeaders,
      );

      assertError(first, 404, 'order_not_found');
      assert.equal(retry.status, 404, retry.text);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.text, first.text);
      assert.ok(failed.status >= 500, failed.text);
      assert.equal(again.status, failed.status, again.text);
      assert.equal(again.headers.get('idempotent-replayed'), null);
    });

    it('T06 refuses a malformed Idempotency-Key with 400', async () => {
      for (const key of ['x'.repeat(256), 'key with spaces', 'cl\u00e9']) {
        const reply = await send(stack(), 'POST', '/sessions', {
          body: JSON.stringify({ orderRef: 'ORDER-1' }),
          headers: {
            origin: MERCHANT_ORIGIN,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
        });

        assertError(reply, 400, 'invalid_idempotency_key');
      }
    });
  });

  describe('for an order that already has a session', () => {
    it('T06 returns the open session again (200, same sessionId) without a second upstream call', async () => {
      const first = await openSessionFor(stack(), 'T06-OPEN');

      const second = await call(stack(), 'POST', '/sessions', { orderRef: 'T06-OPEN' });

      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.sessionId, first.json.sessionId);
      assert.equal(second.json.checkoutUrl, first.json.checkoutUrl);
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-OPEN'].description)).length, 1);
    });

    it('T06 opens one session and one upstream checkout for concurrent POSTs without a key', async () => {
      const replies = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(stack(), 'POST', '/sessions', { orderRef: 'T06-RACE' }),
        ),
      );

      const statuses = replies.map(r => r.status).sort((a, b) => a - b);
      assert.deepEqual(statuses, [200, 200, 200, 200, 201], replies.map(r => r.text).join('\n'));
      assert.equal(new Set(replies.map(r => r.json.sessionId)).size, 1);
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-RACE'].description)).length, 1);
    });

    it('T06 answers 409 order_already_paid once the order is paid', async () => {
      const created = await openSessionFor(stack(), 'T06-PAID');
      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success');
      await eventually(async () => {
        const session = await stack().store.getSession(String(created.json.sessionId));
        return session?.status === 'paid';
      });

      const again = await call(stack(), 'POST', '/sessions', { orderRef: 'T06-PAID' });

      assertError(again, 409, 'order_already_paid');
      assert.equal((await checkoutsFor(stack(), CATALOG['T06-PAID'].description)).length, 1);
    });
  });

  describe('with a returnUrl', () => {
    it('accepts a URL on the allowed merchant origin and stores it on the session', async () => {
      const returnUrl = 'http://shop.test/orders/RETURN-1/thanks?from=galaxy';

      const created = await call(stack(), 'POST', '/sessions', { orderRef: 'RETURN-1', returnUrl });

      assert.equal(created.status, 201, created.text);
      const session = await stack().store.getSession(String(created.json.sessionId));
      assert.equal(session?.returnUrl, returnUrl);
    });

    it('refuses URLs on any other origin with 400 return_url_not_allowed and no upstream call', async () => {
      const before = (await sandboxRequests(stack())).length;
      const urls = [
        'https://evil.example/thanks',
        'https://shop.test/thanks',
        'http://shop.test.evil.example/thanks',
        'http://shop.test@evil.example/thanks',
        'http://shop.test:8080/thanks',
        'javascript:alert(1)',
        'data:text/html,<script>alert(1)</script>',
      ];

      for (const returnUrl of urls) {
        const reply = await call(stack(), 'POST', '/sessions', { orderRef: 'ORDER-1', returnUrl });

        assertError(reply, 400, 'return_url_not_allowed', returnUrl);
      }
      const relative = await call(stack(), 'POST', '/sessions', {
        orderRef: 'ORDER-1',
        returnUrl: '/thanks',
      });
      assertError(relative, 400, 'invalid_field');
      assert.equal((await sandboxRequests(stack())).length, before);
    });
  });

  describe('after a restart of the signer', () => {
    it('T06 still replays an Idempotency-Key and returns the open session from the same database file', async () => {
      const fresh = await freshStore('sqlite');
      let reopened: Store | undefined;
      try {
        const key = { 'idempotency-key': 'restart-key-0001' };
        const first = await startStack({ sharedStore: fresh.store });
        const created = await call(first, 'POST', '/sessions', { orderRef: 'ORDER-1' }, key);
        await rememberSigned(first);
        await first.close();
        await fresh.store.close();
        reopened = createSqliteStore(fresh.url);
        await reopened.migrate();
        const second = await startStack({ sharedStore: reopened });
        try {
          const replay = await call(second, 'POST', '/sessions', { orderRef: 'ORDER-1' }, key);
          const open = await call(second, 'POST', '/sessions', { orderRef: 'ORDER-1' });

          assert.equal(created.status, 201, created.text);
          assert.equal(replay.status, 201, replay.text);
          assert.equal(replay.headers.get('idempotent-replayed'), 'true');
          assert.equal(replay.text, created.text);
          assert.equal(open.status, 200, open.text);
          assert.equal(open.json.sessionId, created.json.sessionId);
          assert.equal((await sandboxRequests(second)).length, 0);
        } finally {
          await rememberSigned(second);
          await second.close();
        }
      } finally {
        await reopened?.close();
        await fresh.drop();
      }
    });
  });

  /** What the background sweep needs, from a test stack (the same parts the signer gives it). */
  function sweepDeps(stack: Stack) {
    return {
      store: stack.store,
      gateway: createGatewayClient({
        apiKey: API_KEY,
        salt: SALT,
        baseUrl: stack.sandboxUrl,
        pageOrigins: [stack.sandboxUrl],
      }),
      logger: silentLogger,
      now: () => new Date(),
      flow: 'checkout' as const,
      publicUrl: stack.signerUrl,
      sessionTtlMs: 1_800_000,
    };
  }

  describe('when the gateway does not answer in time', () => {
    const slow = useStack({
      signer: { gateway: { timeoutMs: 500 } },
      catalog: GATEWAY_FAULTS,
    });

    it('T07 answers 504 upstream_timeout within the budget and keeps the session pending_unknown', async () => {
      const started = Date.now();

      const reply = await call(slow(), 'POST', '/sessions', { orderRef: 'SLOW-1' });

      const elapsed = Date.now() - started;
      assertError(reply, 504, 'upstream_timeout');
      assert.ok(elapsed >= 450 && elapsed < 1000, `${elapsed} ms`);
      assert.ok(Number(reply.headers.get('retry-after')) >= 1);
      const session = await slow().store.findOpenSession('SLOW-1', new Date());
      assert.ok(session);
      assert.equal(session.status, 'pending_unknown');
      assert.equal(session.checkoutUrl, null);
      const [sent, ...more] = await sandboxRequests(slow(), CHECKOUT);
      assert.ok(sent);
      assert.equal(more.length, 0);
      assert.equal((JSON.parse(sent.rawBody) as Json).requestID, session.requestId);
      assert.equal(requestDataOf(sent).orderID, session.gatewayOrderId);
    });

    it('T07 asks again with the same signed request; a 409 Duplicate releases the order and a new session opens at once', async () => {
      const before = await slow().store.findOpenSession('SLOW-1', new Date());
      assert.ok(before);

      const retry = await call(slow(), 'POST', '/sessions', { orderRef: 'SLOW-1' });

      // The new session's own checkout is slow too (the fault rides in the description): 504 again.
      assertError(retry, 504, 'upstream_timeout');
      const sent = await sandboxRequests(slow(), CHECKOUT);
      assert.equal(sent.length, 3);
      assert.equal(requestDataOf(sent[1]!).orderID, before.gatewayOrderId);
      assert.equal((JSON.parse(sent[1]!.rawBody) as Json).requestID, before.requestId);
      assert.equal(sent[1]!.verdict.responseCode, '409');
      assert.notEqual(requestDataOf(sent[2]!).orderID, before.gatewayOrderId);
      const released = await slow().store.getSession(before.id);
      assert.equal(released?.status, 'failed');
      assert.equal(released?.code, 'checkout_lost');
      const transactions = (await (
        await fetch(`${slow().sandboxUrl}/__sandbox/transactions`)
      ).json()) as Array<{ orderID: string }>;
      assert.equal(transactions.filter(t => t.orderID === before.gatewayOrderId).length, 1);
    });
  });

  describe('when one checkout reply is lost (issue 11 §3)', () => {
    const lost = useStack({
      signer: { gateway: { timeoutMs: 300, retries: 0 } },
      catalog: GATEWAY_FAULTS,
    });
    const faults = (list: string) => setGatewayFaults(lost(), list);

    it('lets the shopper pay on the next click once the gateway answers: the lost transaction is released, a new one opens', async () => {
      await faults('delay:1500');
      const timedOut = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-1' });
      assertError(timedOut, 504, 'upstream_timeout');
      assert.equal(timedOut.headers.get('retry-after'), '2');
      const inDoubt = await lost().store.findOpenSession('LOST-1', new Date());
      assert.equal(inDoubt?.status, 'pending_unknown');
      await faults('');

      const next = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-1' });

      assert.equal(next.status, 201, next.text);
      assert.match(String(next.json.checkoutUrl), /\/checkout\/\d{25}$/);
      assert.notEqual(next.json.sessionId, inDoubt!.id);
      const old = await lost().store.getSession(inDoubt!.id);
      assert.equal(old?.status, 'failed');
      assert.equal(old?.code, 'checkout_lost');
      await completeInSandbox(lost(), transactionIdOf(next.json.checkoutUrl), 'success');
      await eventually(async () =>
        (await lost().store.getSession(String(next.json.sessionId)))?.status === 'paid'
          ? true
          : undefined,
      );
    });

    it('keeps the session in doubt, and says "try again in a moment", while the gateway still does not answer', async () => {
      const first = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-2' });
      const second = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-2' });
      const inDoubt = await lost().store.findOpenSession('LOST-2', new Date());
      const third = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-2' });

      assertError(first, 502, 'upstream_error');
      assertError(second, 503, 'gateway_unavailable');
      assert.equal(second.headers.get('retry-after'), '2');
      assert.equal(inDoubt?.status, 'pending_unknown');
      assert.equal(inDoubt?.checkFailures, 1);
      assert.ok(inDoubt?.nextCheckAt, 'the sweep backs off');
      // The gateway answers at last: the same request gets the transaction (it never registered before).
      assert.equal(third.status, 200, third.text);
      assert.equal(third.json.sessionId, inDoubt?.id);
      assert.match(String(third.json.checkoutUrl), /\/checkout\/\d{25}$/);
    });

    it('is settled by the background pass too: the same request again, then released', async () => {
      await faults('delay:1500');
      const first = await call(lost(), 'POST', '/sessions', { orderRef: 'LOST-3' });
      await faults('');
      assertError(first, 504, 'upstream_timeout');
      const inDoubt = await lost().store.findOpenSession('LOST-3', new Date());
      assert.ok(inDoubt);

      await sweep(sweepDeps(lost()), -1);

      const after = await lost().store.getSession(inDoubt.id);
      assert.equal(after?.status, 'failed');
      assert.equal(after?.code, 'checkout_lost');
    });
  });

  describe('when the gateway fails', () => {
    const failing = useStack({
      catalog: GATEWAY_FAULTS,
    });

    it('T08 answers 502 upstream_error to a 5xx and does not retry the checkout', async () => {
      const reply = await call(failing(), 'POST', '/sessions', { orderRef: 'FLAKY-1' });

      assertError(reply, 502, 'upstream_error');
      assert.ok(Number(reply.headers.get('retry-after')) >= 1);
      const sent = await checkoutsFor(failing(), 'Flaky order sandbox:500|ok');
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.verdict.httpStatus, 500);
    });

    it('T08 recovers on the next POST with the same orderID, and later POSTs reuse that session', async () => {
      const [failed] = await checkoutsFor(failing(), 'Flaky order sandbox:500|ok');
      assert.ok(failed);

      const recovered = await call(failing(), 'POST', '/sessions', { orderRef: 'FLAKY-1' });
      const reused = await call(failing(), 'POST', '/sessions', { orderRef: 'FLAKY-1' });

      assert.equal(recovered.status, 200, recovered.text);
      assert.match(String(recovered.json.checkoutUrl), /\/checkout\/\d{25}$/);
      const sent = await checkoutsFor(failing(), 'Flaky order sandbox:500|ok');
      assert.equal(sent.length, 2);
      assert.equal(requestDataOf(sent[1]!).orderID, requestDataOf(failed).orderID);
      assert.equal(reused.status, 200, reused.text);
      assert.equal(reused.json.sessionId, recovered.json.sessionId);
      assert.equal(reused.json.checkoutUrl, recovered.json.checkoutUrl);
    });

    it('T08 answers 502 upstream_error to a socket reset and does not retry', async () => {
      const reply = await call(failing(), 'POST', '/sessions', { orderRef: 'RESET-1' });

      assertError(reply, 502, 'upstream_error');
      assert.equal((await checkoutsFor(failing(), 'Reset order sandbox:reset')).length, 1);
      const session = await failing().store.findOpenSession('RESET-1', new Date());
      assert.equal(session?.status, 'pending_unknown');
    });

    it('T08 answers 502 upstream_error to an HTML error page without echoing it', async () => {
      const reply = await call(failing(), 'POST', '/sessions', { orderRef: 'HTML-1' });

      assertError(reply, 502, 'upstream_error');
      assert.doesNotMatch(reply.text, /nginx|<html|Bad Gateway/i);
      assert.equal(
        (await checkoutsFor(failing(), 'Proxy error order sandbox:html-error-page')).length,
        1,
      );
    });
  });

  for (const [which, override] of [
    ['salt', { salt: OTHER_SALT }],
    ['API key', { apiKey: OTHER_API_KEY }],
  ] as const) {
    describe(`with the wrong gateway ${which}`, () => {
      const lines: string[] = [];
      const wrong = useStack({
        signer: {
          ...override,
          logger: createLogger({ destination: { write: (line: string) => void lines.push(line) } }),
        },
      });

      it('T08 answers 502 upstream_error, does not retry, and raises a credentials alert', async () => {
        const reply = await call(wrong(), 'POST', '/sessions', { orderRef: 'ORDER-1' });

        assertError(reply, 502, 'upstream_error');
        const sent = await sandboxRequests(wrong(), CHECKOUT);
        assert.equal(sent.length, 1);
        assert.equal(sent[0]!.verdict.httpStatus, 401);
        const alerts = lines.map(line => JSON.parse(line) as Json).filter(l => l.level === 50);
        assert.ok(
          alerts.some(a => /GALAXY_PAY_API_KEY/.test(String(a.msg))),
          lines.join('\n'),
        );
        for (const secret of [SALT, API_KEY, OTHER_SALT, OTHER_API_KEY]) {
          assert.ok(!lines.join('\n').includes(secret), 'a secret reached the logs');
        }
      });
    });
  }

  describe('when the gateway keeps failing', () => {
    const breaking = useStack({
      signer: { gateway: { breaker: { failureThreshold: 2, openMs: 60_000 } } },
      catalog: GATEWAY_FAULTS,
    });

    it('T08 opens the breaker after two failures: the third POST gets 503 gateway_unavailable and never reaches the gateway', async () => {
      const first = await call(breaking(), 'POST', '/sessions', { orderRef: 'DOWN-1' });
      const second = await call(breaking(), 'POST', '/sessions', { orderRef: 'DOWN-2' });

      const third = await call(breaking(), 'POST', '/sessions', { orderRef: 'UP-1' });

      assertError(first, 502, 'upstream_error');
      assertError(second, 502, 'upstream_error');
      assertError(third, 503, 'gateway_unavailable');
      const retryAfter = Number(third.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
      assert.equal((await sandboxRequests(breaking(), CHECKOUT)).length, 2);
    });
  });

  describe('when the gateway reply cannot be trusted', () => {
    const tampered = useStack({
      catalog: GATEWAY_FAULTS,
    });

    for (const orderRef of ['BADSIG-1', 'FOREIGN-1']) {
      it(`T09 answers 502 upstream_untrusted for ${orderRef} and never hands out the URL`, async () => {
        const reply = await call(tampered(), 'POST', '/sessions', { orderRef });

        assertError(reply, 502, 'upstream_untrusted');
        assert.doesNotMatch(reply.text, /checkoutUrl|evil\.example|\/checkout\//);
        // An untrusted reply is no answer: the gateway may hold the transaction, so the session is in
        // doubt (asked again with the same request next time), not failed on a guess.
        const session = await tampered().store.findOpenSession(orderRef, new Date());
        assert.equal(session?.status, 'pending_unknown');
        assert.equal(session?.checkoutUrl, null);
      });
    }
  });

  describe('when the gateway reply is slow or huge', () => {
    const heavy = useStack({
      signer: { gateway: { timeoutMs: 500 } },
      catalog: GATEWAY_FAULTS,
    });

    for (const { name, orderRef, status, code } of [
      {
        name: 'gives up on a dripping reply at the deadline with 504',
        orderRef: 'DRIP-1',
        status: 504,
        code: 'upstream_timeout',
      },
      {
        name: 'refuses a 5 MB reply with 502 without waiting for the deadline',
        orderRef: 'HUGE-1',
        status: 502,
        code: 'upstream_error',
      },
    ]) {
      it(`T10 ${name}`, async () => {
        const started = Date.now();

        const reply = await call(heavy(), 'POST', '/sessions', { orderRef });

        const elapsed = Date.now() - started;
        assertError(reply, status, code);
        assert.ok(elapsed < 1000, `${elapsed} ms`);
      });
    }

    it('T10 stays healthy: a normal POST afterwards opens a session', async () => {
      const health = await send(heavy(), 'GET', '/healthz');

      const reply = await call(heavy(), 'POST', '/sessions', { orderRef: 'FINE-1' });

      assert.equal(health.status, 200);
      assert.equal(reply.status, 201, reply.text);
    });
  });
});

describe('GET /sessions/:id', () => {
  const stack = useStack({ catalog: CATALOG });

  describe('for an unknown or malformed id', () => {
    it('answers 404 session_not_found', async () => {
      const ids = [
        'AAAAAAAAAAAAAAAAAAAAAA',
        'short',
        'A'.repeat(23),
        '%00AAAAAAAAAAAAAAAAAAAAA',
        'AAAAAAAAAAAAAAAAAAAAA%20',
        '__proto__',
        'constructor',
      ];

      for (const id of ids) {
        const reply = await call(stack(), 'GET', `/sessions/${id}`);

        assertError(reply, 404, 'session_not_found');
      }
    });
  });

  describe('for an open session', () => {
    it('shows the verified status and never the nonce', async () => {
      const created = await openSessionFor(stack(), 'VIEW-1');
      assert.equal(typeof created.json.nonce, 'string');

      const view = await call(stack(), 'GET', `/sessions/${String(created.json.sessionId)}`);

      assert.equal(view.status, 200, view.text);
      assert.equal(view.json.status, 'pending');
      assert.equal(view.json.amount, 91_000);
      assert.equal(view.json.currency, 'VND');
      assert.ok(!('nonce' in view.json));
      assert.ok(!view.text.includes(String(created.json.nonce)));
    });
  });

  describe('for a pending session older than the query interval', () => {
    let offsetMs = 0;
    const clocked = useStack({
      signer: { now: () => new Date(Date.now() + offsetMs) },
      // The signer's clock runs ahead here: its requestDateTime would be refused as stale (408).
      sandbox: { requestDateTimeToleranceMs: null },
      catalog: GATEWAY_FAULTS,
    });

    it('asks the gateway at most once per interval, however often it is read', async () => {
      const created = await openSessionFor(clocked(), 'STALE-1');
      const id = String(created.json.sessionId);
      const transactionId = transactionIdOf(created.json.checkoutUrl);
      const readMany = (n: number) =>
        Promise.all(Array.from({ length: n }, () => call(clocked(), 'GET', `/sessions/${id}`)));

      const fresh = await readMany(3);
      const queriesWhenFresh = (await queriesFor(clocked(), transactionId)).length;
      offsetMs += 6_000;
      const stale = await readMany(5);
      await readMany(3);
      const queriesInFirstInterval = (await queriesFor(clocked(), transactionId)).length;
      offsetMs += 6_000;
      await readMany(5);
      const queriesInSecondInterval = (await queriesFor(clocked(), transactionId)).length;

      for (const reply of [...fresh, ...stale]) assert.equal(reply.json.status, 'pending');
      assert.equal(queriesWhenFresh, 0);
      assert.equal(queriesInFirstInterval, 1);
      assert.equal(queriesInSecondInterval, 2);
    });

    it('also asks the gateway about a pending_unknown session once its checkout URL is known', async () => {
      const failed = await call(clocked(), 'POST', '/sessions', { orderRef: 'STALE-2' });
      const recovered = await call(clocked(), 'POST', '/sessions', { orderRef: 'STALE-2' });
      assert.equal(failed.status, 502, failed.text);
      assert.equal(recovered.status, 200, recovered.text);
      const id = String(recovered.json.sessionId);
      const transactionId = transactionIdOf(recovered.json.checkoutUrl);
      await completeInSandbox(clocked(), transactionId, 'success', { wait: false });
      offsetMs += 6_000;

      const read = await call(clocked(), 'GET', `/sessions/${id}`);

      assert.equal(read.json.status, 'paid', read.text);
      assert.equal((await queriesFor(clocked(), transactionId)).length, 1);
    });

    it('expires a lapsed session on read once the gateway answers that it is not paid', async () => {
      const created = await openSessionFor(clocked(), 'STALE-3');
      const id = String(created.json.sessionId);
      offsetMs += 31 * 60_000;

      const read = await call(clocked(), 'GET', `/sessions/${id}`);

      assert.equal(read.json.status, 'expired', read.text);
      assert.equal(
        (await queriesFor(clocked(), transactionIdOf(created.json.checkoutUrl))).length,
        1,
      );
    });
  });
});

describe('GET /sessions/:id/events', () => {
  const stack = useStack({ catalog: CATALOG });

  describe('for a pending session that gets paid', () => {
    it('sends the current status first, then paid, then ends the stream', async () => {
      const created = await openSessionFor(stack(), 'SSE-1');
      const stream = await openEvents(stack(), String(created.json.sessionId));

      const first = await stream.next();
      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success');
      const rest: Json[] = [];
      for (let event = await stream.next(); event; event = await stream.next()) rest.push(event);

      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(stream.headers.get('access-control-allow-origin'), MERCHANT_ORIGIN);
      assert.ok(first);
      assert.equal(first.status, 'pending');
      assert.equal(first.sessionId, created.json.sessionId);
      assert.equal(rest.at(-1)?.status, 'paid');
      for (const event of [first, ...rest]) assert.ok(!('nonce' in event));
    });
  });

  describe('for a session that is already paid', () => {
    it('sends paid once and ends the stream at once', async () => {
      const created = await openSessionFor(stack(), 'SSE-PAID');
      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success');
      const id = String(created.json.sessionId);
      await eventually(async () => (await stack().store.getSession(id))?.status === 'paid');

      const stream = await openEvents(stack(), id);

      assert.equal((await stream.next())?.status, 'paid');
      assert.equal(await stream.next(), undefined);
    });
  });

  describe('for a session paid while the stream is being opened', () => {
    it('still delivers paid and ends the stream', async () => {
      const fresh = await freshStore('sqlite');
      let beforeRead: (() => Promise<void>) | undefined;
      // The IPN lands after the route has read the session but before it has subscribed to changes.
      const store: Store = {
        ...fresh.store,
        getSession: async id => {
          const session = await fresh.store.getSession(id);
          const hook = beforeRead;
          beforeRead = undefined;
          await hook?.();
          return session;
        },
      };
      const racing = await startStack({
        sharedStore: store,
        catalog: { 'SSE-RACE': { amount: 97_000, description: 'Racing stream order' } },
      });
      try {
        const created = await openSessionFor(racing, 'SSE-RACE');
        const id = String(created.json.sessionId);
        beforeRead = async () => {
          await completeInSandbox(racing, transactionIdOf(created.json.checkoutUrl), 'success');
          await eventually(async () => (await fresh.store.getSession(id))?.status === 'paid');
        };

        const stream = await openEvents(racing, id, 3_000);
        const events: Json[] = [];
        for (let event = await stream.next(); event; event = await stream.next())
          events.push(event);

        assert.equal(beforeRead, undefined, 'the hook ran');
        assert.deepEqual(
          events.map(e => e.status),
          ['pending', 'paid'],
        );
      } finally {
        await rememberSigned(racing);
        await racing.close();
        await fresh.store.close();
        await fresh.drop();
      }
    });
  });

  describe('for an unknown session', () => {
    it('answers 404 session_not_found instead of a stream', async () => {
      const reply = await call(stack(), 'GET', '/sessions/AAAAAAAAAAAAAAAAAAAAAA/events');

      assertError(reply, 404, 'session_not_found');
    });
  });
});

describe('POST /sessions/:id/cancel', () => {
  const stack = useStack({ catalog: CATALOG });

  describe('when the payment was in fact completed at the gateway', () => {
    it('asks the gateway first and answers paid', async () => {
      const created = await openSessionFor(stack(), 'CANCEL-PAID');
      const id = String(created.json.sessionId);
      const transactionId = transactionIdOf(created.json.checkoutUrl);
      await completeInSandbox(stack(), transactionId, 'success', { wait: false });
      assert.equal((await stack().store.getSession(id))?.status, 'pending');

      const reply = await call(stack(), 'POST', `/sessions/${id}/cancel`, {});

      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'paid');
      assert.equal(reply.json.cancelReason, null);
      assert.equal((await queriesFor(stack(), transactionId)).length, 1);
      assert.equal((await stack().store.getSession(id))?.status, 'paid');
      const ipn = (await (
        await fetch(`${stack().sandboxUrl}/__sandbox/ipn?transactionID=${transactionId}`)
      ).json()) as unknown[];
      assert.equal(ipn.length, 0, 'the no-ipn order must have been settled by the query');
    });

    it('keeps a paid session paid when it is cancelled again', async () => {
      const session = await stack().store.findPaidSession('CANCEL-PAID');
      assert.ok(session);
      const queriesBefore = (await queriesFor(stack(), session.transactionId!)).length;

      const reply = await call(stack(), 'POST', `/sessions/${session.id}/cancel`, {
        reason: 'user',
      });

      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'paid');
      assert.equal((await stack().store.getSession(session.id))?.status, 'paid');
      assert.equal((await queriesFor(stack(), session.transactionId!)).length, queriesBefore);
    });
  });

  describe('when the payment is not complete', () => {
    it('asks the gateway, then answers cancelled with cancelReason closed', async () => {
      const created = await openSessionFor(stack(), 'CANCEL-OPEN');
      const id = String(created.json.sessionId);

      const reply = await call(stack(), 'POST', `/sessions/${id}/cancel`, {});

      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'cancelled');
      assert.equal(reply.json.cancelReason, 'closed');
      assert.ok(!('nonce' in reply.json));
      assert.equal(
        (await queriesFor(stack(), transactionIdOf(created.json.checkoutUrl))).length,
        1,
      );
      assert.equal((await stack().store.getSession(id))?.status, 'cancelled');
    });
  });

  describe('when the gateway does not answer the query (issue 11 §1)', () => {
    const faulty = useStack({
      signer: { gateway: { timeoutMs: 500, retries: 0 } },
      catalog: GATEWAY_FAULTS,
    });

    it('never cancels on a silence: 503 gateway_unavailable, the order opens no second session, the next answer says paid', async () => {
      const created = await openSessionFor(faulty(), 'PAID-SILENT');
      const id = String(created.json.sessionId);
      const transactionId = transactionIdOf(created.json.checkoutUrl);
      await completeInSandbox(faulty(), transactionId, 'success', { wait: false });

      const unanswered = await call(faulty(), 'POST', `/sessions/${id}/cancel`, {});
      const stranger = await call(faulty(), 'POST', '/sessions', {
        orderRef: 'PAID-SILENT',
        clientKey: 'another-browser-key-01',
      });
      const ownerAgain = await call(faulty(), 'POST', '/sessions', { orderRef: 'PAID-SILENT' });
      const secondTry = await call(faulty(), 'POST', `/sessions/${id}/cancel`, {});
      const answered = await call(faulty(), 'POST', `/sessions/${id}/cancel`, {});

      assertError(unanswered, 503, 'gateway_unavailable');
      assert.ok(Number(unanswered.headers.get('retry-after')) >= 1);
      assertError(stranger, 409, 'order_has_open_session');
      assert.equal(ownerAgain.status, 200, ownerAgain.text);
      assert.equal(ownerAgain.json.sessionId, id);
      assertError(secondTry, 503, 'gateway_unavailable');
      assert.equal(answered.status, 200, answered.text);
      assert.equal(answered.json.status, 'paid');
      const checkouts = await checkoutsFor(
        faulty(),
        'Paid, IPN lost, query failing sandbox:no-ipn,500|500@query',
      );
      assert.equal(checkouts.length, 1, 'one gateway transaction for the order');
    });
  });

  describe('after the shopper closed the dialog while the page could still be paid (issue 11 §1)', () => {
    it('gives the same browser the same page back, refuses a stranger, and opens a new one once the gateway ends the old', async () => {
      const created = await openSessionFor(stack(), 'REOPEN-1');
      const id = String(created.json.sessionId);
      const cancelled = await call(stack(), 'POST', `/sessions/${id}/cancel`, {});

      const stranger = await call(stack(), 'POST', '/sessions', {
        orderRef: 'REOPEN-1',
        clientKey: 'someone-elses-key-0002',
      });
      const again = await call(stack(), 'POST', '/sessions', { orderRef: 'REOPEN-1' });
      await call(stack(), 'POST', `/sessions/${id}/cancel`, {});
      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'cancel');
      const fresh = await call(stack(), 'POST', '/sessions', { orderRef: 'REOPEN-1' });

      assert.equal(cancelled.json.status, 'cancelled');
      assertError(stranger, 409, 'order_has_open_session');
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.sessionId, id);
      assert.equal(again.json.checkoutUrl, created.json.checkoutUrl);
      assert.equal(again.json.status, 'pending');
      assert.equal(fresh.status, 201, fresh.text);
      assert.notEqual(fresh.json.sessionId, id);
      assert.equal((await checkoutsFor(stack(), CATALOG['REOPEN-1'].description)).length, 2);
    });

    it('answers order_already_paid when the closed page was paid after all, without a new transaction', async () => {
      const created = await openSessionFor(stack(), 'REOPEN-2');
      const id = String(created.json.sessionId);
      await call(stack(), 'POST', `/sessions/${id}/cancel`, {});
      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success', {
        wait: false,
      });

      const again = await call(stack(), 'POST', '/sessions', { orderRef: 'REOPEN-2' });

      assertError(again, 409, 'order_already_paid');
      const session = await stack().store.getSession(id);
      assert.deepEqual([session?.status, session?.lateSuccess], ['paid', true]);
      assert.equal((await checkoutsFor(stack(), CATALOG['REOPEN-2'].description)).length, 1);
    });
  });

  describe('from a caller that is not the browser that opened the session (issue 11 §4)', () => {
    it('hands the open session only to its browser, and lets only it cancel', async () => {
      const created = await openSessionFor(stack(), 'BOUND-1');
      const id = String(created.json.sessionId);

      const anonymous = await call(stack(), 'POST', '/sessions', {
        orderRef: 'BOUND-1',
        clientKey: undefined,
      });
      const other = await call(stack(), 'POST', '/sessions', {
        orderRef: 'BOUND-1',
        clientKey: 'someone-elses-key-0001',
      });
      const cancelNoKey = await call(stack(), 'POST', `/sessions/${id}/cancel`, {
        clientKey: undefined,
      });
      const cancelOther = await call(stack(), 'POST', `/sessions/${id}/cancel`, {
        clientKey: 'someone-elses-key-0001',
      });
      const stillOpen = await stack().store.getSession(id);
      const owner = await call(stack(), 'POST', '/sessions', { orderRef: 'BOUND-1' });
      const cancelOwner = await call(stack(), 'POST', `/sessions/${id}/cancel`, {});

      for (const refused of [anonymous, other]) {
        assertError(refused, 409, 'order_has_open_session');
        assert.ok(!refused.text.includes(id), 'no session id for a stranger');
        assert.ok(!refused.text.includes(String(created.json.nonce)), 'no nonce for a stranger');
        assert.doesNotMatch(refused.text, /checkout/);
      }
      assertError(cancelNoKey, 403, 'not_session_owner');
      assertError(cancelOther, 403, 'not_session_owner');
      assert.equal(stillOpen?.status, 'pending');
      assert.equal(owner.status, 200, owner.text);
      assert.equal(owner.json.sessionId, id);
      assert.equal(owner.json.nonce, created.json.nonce);
      assert.equal(cancelOwner.json.status, 'cancelled');
    });

    it('mints a key for a caller that brought none, returned once with the new session', async () => {
      const created = await call(stack(), 'POST', '/sessions', {
        orderRef: 'BOUND-2',
        clientKey: undefined,
      });
      assert.equal(created.status, 201, created.text);
      const key = String(created.json.clientKey);
      assert.match(key, /^[A-Za-z0-9_-]{22}$/);

      const again = await call(stack(), 'POST', '/sessions', {
        orderRef: 'BOUND-2',
        clientKey: key,
      });

      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.sessionId, created.json.sessionId);
      assert.ok(!('clientKey' in again.json));
    });
  });

  describe('for an unknown session or a non-JSON request', () => {
    it('answers 404 session_not_found, and 415 to a body-less POST', async () => {
      const unknown = await call(stack(), 'POST', '/sessions/AAAAAAAAAAAAAAAAAAAAAA/cancel', {});
      const bodyless = await send(stack(), 'POST', '/sessions/AAAAAAAAAAAAAAAAAAAAAA/cancel', {
        headers: { origin: MERCHANT_ORIGIN },
      });

      assertError(unknown, 404, 'session_not_found');
      assertError(bodyless, 415, 'unsupported_media_type');
    });
  });
});

describe('every widget route', () => {
  describe('across every response of this file', () => {
    it('T04 never returns the API key, the salt, a signature or the signed request data', () => {
      const secrets = [API_KEY, SALT, OTHER_SALT, OTHER_API_KEY, ...signedArtifacts];
      assert.ok(seen.length > 300, `only ${seen.length} responses seen`);
      assert.ok(signedArtifacts.size > 50, `only ${signedArtifacts.size} signed artifacts seen`);

      for (const response of seen) {
        const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`);
        const everything = `${headers.join('\n')}\n${response.text}`;
        for (const secret of secrets) {
          assert.ok(!everything.includes(secret), `${response.what} leaks a secret or signed data`);
        }
        assert.ok(!response.headers.has('signature'), response.what);
        assert.ok(!response.headers.has('apikey'), response.what);
        if (/json/.test(response.headers.get('content-type') ?? '')) {
          assert.doesNotMatch(response.text, /signature/i, response.what);
        }
      }
    });
  });
});
