/**
 * §6 "Never a 500 for bad input", generated: arbitrary methods, paths, headers, bodies and broken framing
 * thrown at every route of the real signer (real sandbox, real SQLite store) over raw loopback sockets.
 *
 * Each answer must be one of:
 * - the app's: an `x-request-id`, never a 5xx (a 503 only with Retry-After), and any 4xx in the generic
 *   JSON error shape `{ error: { code, message, requestId } }` with the header's id (the HTML return pages
 *   excepted);
 * - Node's HTTP parser's, for framing no app ever sees (unknown method, broken header, too long): a bare
 *   400/413/414/431 without a body;
 * - none at all, only where the request itself never completed (a Content-Length the body never reaches,
 *   CONNECT).
 * No answer carries a secret, the process never crashes, and `/healthz` still answers afterwards.
 *
 * Bounded (FUZZ_RUNS, default 400 requests) and seedable: FUZZ_SEED=<n> replays a run; the seed is printed.
 */

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  API_KEY,
  MERCHANT_ORIGIN,
  SALT,
  openTestSession,
  startStack,
  type Stack,
} from '../testing/test-support.js';
import { ADMIN } from '../testing/admin-test-support.js';
import { captureLog } from '../testing/log-capture.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** A request whose body the server is still waiting for is given up after this long. */
const INCOMPLETE_WAIT_MS = 150;
const ANSWER_TIMEOUT_MS = 15_000;

// --- the generated request ---------------------------------------------------------------------------

type Framing =
  | 'exact' // Content-Length matches the body
  | 'chunked' // Transfer-Encoding: chunked
  | 'short' // Content-Length smaller than the body (the rest is a second, garbage request)
  | 'long' // Content-Length larger than the body: the upload never completes
  | 'invalid' // a Content-Length that is not a number
  | 'both' // Content-Length and Transfer-Encoding together (request smuggling shape)
  | 'broken-header'; // a header line without a colon

interface Generated {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
  framing: Framing;
}

/** Bytes of a path segment: ordinary, hostile, %-garbage, unicode (raw UTF-8 or encoded), very long. */
function segment(realIds: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...realIds, 'ABCDEFGHIJKLMNOPQRSTUV', 'ORDER-1', 'tok_1', 'x'),
    },
    fc.constantFrom(
      '%E0%A4%A',
      '%',
      '%%',
      '%zz',
      '%ff',
      '%00',
      '%C0%AF',
      '%2e%2e',
      '%2F',
      '..',
      '.',
      '',
      '%u0041',
      '%E2%82',
    ),
    fc.string({ unit: 'grapheme', maxLength: 12 }).map(s => encodeURIComponent(s)),
    fc.string({ unit: fc.constantFrom('%', 'a', 'F', '0', 'E', '9', 'z'), maxLength: 12 }),
    fc.integer({ min: 200, max: 20_000 }).map(n => 'a'.repeat(n)),
  );
}

const ROUTES = [
  '/sessions',
  '/sessions/:s',
  '/sessions/:s/events',
  '/sessions/:s/cancel',
  '/sessions/:s/qr.svg',
  '/ipn',
  '/ipn?:s',
  '/return/:s/result',
  '/return/:s/cancel',
  '/return/:s/:s',
  '/admin/orders',
  '/admin/orders/:s',
  '/admin/orders/:s/query',
  '/admin/orders/:s/refund',
  '/admin/orders/:s/void',
  '/admin/orders/:s/capture',
  '/admin/reconcile',
  '/admin/operations',
  '/admin/customer-handles',
  '/admin/customers/:s/cards',
  '/admin/customers/:s/cards/:s',
  '/admin/customers/:s/gateway-tokens',
  '/admin/fast-pay',
  '/admin/links',
  '/admin/links/:s',
  '/admin/:s',
  '/customer/tokens',
  '/customer/tokens/:s/delete',
  '/apple-pay/validate-merchant',
  '/healthz',
  '/readyz',
  '/:s',
  '/:s/:s/:s',
];

function pathArb(realIds: string[]): fc.Arbitrary<string> {
  const seg = segment(realIds);
  const query = fc.oneof(
    fc.constant(''),
    fc
      .array(
        fc.tuple(
          fc.constantFrom('limit', 'status', 'handle', 'data', 'signature', 'a[b]', 'x', '%zz'),
          fc.oneof(seg, fc.constantFrom('1', '-1', '1e9', 'NaN', '[]', 'pending', '%')),
        ),
        { maxLength: 3 },
      )
      .map(pairs => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : '')),
  );
  const rarely = (odd: string[]) =>
    fc.oneof({ weight: 6, arbitrary: fc.constant('') }, fc.constantFrom(...odd));
  const prefix = rarely(['/.', '//', '/..', '/%2e']);
  const suffix = rarely(['/', '/.', '/..', '//', '#x', ';x']);
  const routed = fc
    .tuple(
      prefix,
      fc.constantFrom(...ROUTES),
      fc.array(seg, { minLength: 3, maxLength: 3 }),
      suffix,
      query,
    )
    .map(([before, route, segments, after, q]) => {
      let i = 0;
      return before + route.replace(/:s/g, () => segments[i++]!) + after + q;
    });
  return fc.oneof(
    { weight: 9, arbitrary: routed },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom('*', 'http://127.0.0.1/sessions', 'sessions', '/%', '/\u00ff'),
        // Raw UTF-8 in the request line: Node's parser refuses it before the app (a bare 400).
        fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
          .map(s => `/sessions/${s.replace(/[\s/?#]/g, '')}`),
      ),
    },
  );
}

/** Header values: ordinary, hostile, latin-1 obs-text; never CR/LF (that is the broken framing case). */
const headerText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }).map(s => s.replace(/[\r\n]/g, '')) },
  // obs-text (latin-1), which Node's parser lets through to the app
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map(c => String.fromCharCode(c === 0x7f ? 0x80 : c)),
    maxLength: 20,
  }),
  // control characters, which it refuses
  fc.string({ unit: 'binary', maxLength: 20 }).map(s => s.replace(/[\r\n\u0100-\uffff]/g, '')),
  fc.integer({ min: 300, max: 3000 }).map(n => 'h'.repeat(n)),
);

/**
 * Mostly what a real caller sends (or nothing), sometimes something hostile: one bad header at a time gets
 * past the earlier guards and reaches the code behind them.
 */
function mostly(
  usual: Array<string | undefined>,
  hostile: fc.Arbitrary<string>,
): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: hostile },
  );
}

const headersArb = fc.record({
  'content-type': mostly(
    ['application/json', 'application/json', 'application/json; charset=utf-8', undefined],
    fc.oneof(
      fc.constantFrom(
        'application/json; charset=utf-16',
        'application/json; charset=bogus',
        'application/json;;;=',
        'APPLICATION/JSON',
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
        '*/*',
        'application/',
      ),
      headerText,
    ),
  ),
  'content-encoding': mostly(
    [undefined, undefined, undefined, 'identity'],
    fc.oneof(
      fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'GZIP', 'gzip, identity', 'x'),
      headerText,
    ),
  ),
  origin: mostly(
    [MERCHANT_ORIGIN, MERCHANT_ORIGIN, undefined],
    fc.oneof(fc.constantFrom('null', 'http://evil.test', ''), headerText),
  ),
  authorization: mostly(
    [`Bearer ${ADMIN}`, `Bearer ${ADMIN}`, undefined],
    fc.oneof(fc.constantFrom('Bearer ', 'Bearer wrong', 'Basic YTpi', 'Bearer'), headerText),
  ),
  'idempotency-key': mostly([undefined, undefined, 'fuzz-key-1'], fc.oneof(fc.uuid(), headerText)),
  'x-operator': mostly(['alice', 'alice', undefined], fc.oneof(fc.constant(''), headerText)),
  'x-customer-handle': mostly([undefined], headerText),
  'x-forwarded-for': mostly([undefined], headerText),
  accept: mostly([undefined], fc.constantFrom('text/event-stream', 'text/html', '*/*')),
  'access-control-request-method': mostly([undefined], fc.constantFrom('POST', 'GET', 'DELETE')),
  extra: fc.option(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), headerText), {
    nil: undefined,
    freq: 2,
  }),
});

const jsonBody = fc.oneof(
  fc.constantFrom(
    { orderRef: 'ORDER-1' },
    { orderRef: 'ORDER-2', locale: 'en' },
    { orderRef: 'FZ-1', amount: 10_000, description: 'fuzz' },
    { data: 'eyJ9', signature: 'ab'.repeat(32) },
    { customerHandle: 'h' },
    {},
  ),
  fc.json({ maxDepth: 4 }).map(text => JSON.parse(text) as unknown),
  // The routes' own field names with hostile values: past JSON parsing, into validation and beyond.
  {
    weight: 3,
    arbitrary: fc.dictionary(
      fc.constantFrom(
        ...['orderRef', 'locale', 'paymentMethod', 'sourceType', 'returnUrl', 'amount'],
        ...['description', 'currency', 'netAmount', 'reason', 'olderThanSeconds', 'customerRef'],
        ...['ttlSeconds', 'tokenId', 'name', 'expiryDuration', 'expiryUnit', 'methods'],
        ...['customerHandle', 'data', 'signature', 'token', '__proto__', 'constructor'],
      ),
      fc.oneof(
        fc.constantFrom(
          ...['ORDER-1', 'ORDER-2', 'vi', 'en', 'DAY', 'VND', 'ATM_CARD', 'QR', 'refund'],
          ...[
            'http://shop.test/done',
            'javascript:alert(1)',
            '//evil.test',
            'ABCDEFGHIJKLMNOPQRSTUV',
          ],
          ...[1, 10_000, 0, -1, 2 ** 53, 1e308, 0.5, -0, 1e-7],
        ),
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.constantFrom('QR', 'ATM_CARD', 'x', 1), { maxLength: 3 }),
        fc.object({ maxDepth: 2 }),
      ),
      { maxKeys: 6 },
    ),
  },
);

const bodyArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  jsonBody.map(value => Buffer.from(JSON.stringify(value))),
  fc.uint8Array({ maxLength: 300 }).map(bytes => Buffer.from(bytes)),
  fc
    .tuple(jsonBody, fc.constantFrom(gzipSync, deflateSync, brotliCompressSync), fc.boolean())
    .map(([value, compress, truncate]) => {
      const packed = compress(Buffer.from(JSON.stringify(value)));
      return truncate ? packed.subarray(0, Math.max(1, packed.length >> 1)) : packed;
    }),
  fc.constantFrom(
    Buffer.from('data=eyJ9&signature=ab'),
    Buffer.from(
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    ),
    Buffer.from(`{"pad":"${'x'.repeat(40 * 1024)}"}`),
    Buffer.from('{"__proto__":{"x":1},"constructor":{"prototype":{}}}'),
    Buffer.from('\ufeff{"orderRef":"ORDER-1"}'),
  ),
);

function requestArb(realIds: string[]): fc.Arbitrary<Generated> {
  return fc
    .record({
      method: fc.oneof(
        {
          weight: 16,
          arbitrary: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'HEAD', 'OPTIONS'),
        },
        {
          weight: 3,
          arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'CONNECT'),
        },
        { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z]{1,10}$/) },
      ),
      path: pathArb(realIds),
      headers: headersArb,
      body: bodyArb,
      framing: fc.oneof(
        { weight: 10, arbitrary: fc.constant<Framing>('exact') },
        {
          weight: 3,
          arbitrary: fc.constantFrom<Framing>(
            'chunked',
            'short',
            'long',
            'invalid',
            'both',
            'broken-header',
          ),
        },
      ),
    })
    .map(({ method, path, headers, body, framing }) => {
      const list: Array<[string, string]> = [];
      const { extra, ...named } = headers;
      for (const [name, value] of Object.entries(named))
        if (value !== undefined) list.push([name, value]);
      if (extra) list.push(extra);
      return { method, path, headers: list, body, framing };
    });
}

// --- one request over a raw socket ---------------------------------------------------------------------

interface Answer {
  /** Undefined when the connection closed (or was given up) without a status line. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
}

function encode(request: Generated): Buffer {
  const lines = ['host: 127.0.0.1', 'connection: close'];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const { body } = request;
  switch (request.framing) {
    case 'exact':
      lines.push(`content-length: ${body.length}`);
      break;
    case 'chunked':
    case 'both':
      lines.push('transfer-encoding: chunked');
      if (request.framing === 'both') lines.push(`content-length: ${body.length}`);
      break;
    case 'short':
      lines.push(`content-length: ${Math.max(0, body.length - 3)}`);
      break;
    case 'long':
      lines.push(`content-length: ${body.length + 50}`);
      break;
    case 'invalid':
      lines.push(`content-length: ${['abc', '-1', '1, 2', '0x10', ' '][body.length % 5]}`);
      break;
    case 'broken-header':
      lines.push('this line has no colon', `content-length: ${body.length}`);
      break;
  }
  // The request line in UTF-8 (raw unicode paths), header values byte for byte (latin-1).
  const head = Buffer.concat([
    Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n`, 'utf8'),
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
  ]);
  if (request.framing === 'chunked' || request.framing === 'both') {
    const chunks = body.length
      ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]
      : [];
    return Buffer.concat([head, ...chunks, Buffer.from('0\r\n\r\n')]);
  }
  return Buffer.concat([head, body]);
}

/** Parses what came back: status line, headers, and a body (Content-Length, chunked, or up to close). */
function parse(raw: Buffer, method: string): Answer | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
  else if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      if (eol < 0) break;
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status, headers, body };
}

function send(port: number, request: Generated): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      clearTimeout(timeout);
      socket.destroy();
      try {
        resolve(
          parse(Buffer.concat(chunks), request.method) ?? { headers: {}, body: Buffer.alloc(0) },
        );
      } catch (error) {
        reject(error as Error);
      }
    };
    const socket = connect(port, '127.0.0.1', () => socket.write(encode(request)));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A stream (SSE) or a HEAD answer: the head is enough.
      const head = parse(Buffer.concat(chunks), request.method);
      if (
        head &&
        (request.method === 'HEAD' || /event-stream/.test(head.headers['content-type'] ?? ''))
      )
        finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    // An upload that can never complete: give up on it (half-close, as a client that walks away).
    const giveUp = setTimeout(() => {
      if (request.framing === 'long' || request.method === 'CONNECT') socket.end();
    }, INCOMPLETE_WAIT_MS);
    const timeout = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
  });
}

// --- the checks ---------------------------------------------------------------------------------------

const SECRETS = [API_KEY, SALT, ADMIN];
const NODE_PARSER_STATUSES = [400, 413, 414, 431];

function check(request: Generated, answer: Answer): void {
  const what = `${request.method} ${request.path.slice(0, 120)} [${request.framing}] → ${answer.status}`;
  const text = answer.body.toString('utf8');
  const everything = JSON.stringify(answer.headers) + text;
  for (const secret of SECRETS) assert.ok(!everything.includes(secret), `${what}: a secret leaked`);

  if (answer.status === undefined) {
    // No answer is only right when the request never completed (or was never an HTTP request we serve).
    assert.ok(
      request.framing === 'long' || request.method === 'CONNECT',
      `${what}: the connection closed without an answer`,
    );
    return;
  }
  if (answer.headers['x-request-id'] === undefined) {
    // Node's own parser refused the bytes before any app code ran: a bare 4xx, no body.
    assert.ok(NODE_PARSER_STATUSES.includes(answer.status), `${what}: no request id`);
    assert.equal(answer.body.length, 0, `${what}: a parser refusal with a body`);
    return;
  }
  assert.ok(
    answer.status < 500 || (answer.status === 503 && answer.headers['retry-after'] !== undefined),
    `${what}: ${text.slice(0, 300)}`,
  );
  if (answer.status < 400 || request.method === 'HEAD') return;
  const htmlPage =
    request.path.includes('/return/') && /^text\/html/.test(answer.headers['content-type'] ?? '');
  if (htmlPage) return;
  assert.equal(
    answer.headers['content-type'],
    'application/json; charset=utf-8',
    `${what}: content-type ${answer.headers['content-type']}`,
  );
  const body = JSON.parse(text) as {
    error?: { code?: unknown; message?: unknown; requestId?: unknown };
  };
  assert.ok(body.error, `${what}: not the error shape: ${text.slice(0, 200)}`);
  assert.match(String(body.error.code), /^[a-z][a-z0-9_]*$/, `${what}: code ${body.error.code}`);
  assert.equal(typeof body.error.message, 'string', `${what}: ${text.slice(0, 200)}`);
  // A replayed answer (Idempotency-Key) is the first one, byte for byte: its own request id.
  const replayed = answer.headers['idempotent-replayed'] === 'true';
  assert.ok(
    replayed
      ? typeof body.error.requestId === 'string'
      : body.error.requestId === answer.headers['x-request-id'],
    `${what}: requestId ${body.error.requestId} vs x-request-id ${answer.headers['x-request-id']}`,
  );
}

/** A request in a line or two: long values cut, the body by length and first bytes. */
function summarize(request: Generated): string {
  const cut = (text: string, n = 80) =>
    text.length > n ? `${text.slice(0, n)}…(${text.length})` : text;
  const headers = request.headers.map(
    ([name, value]) => `${name}: ${JSON.stringify(cut(value, 40))}`,
  );
  return (
    `${cut(request.method, 20)} ${JSON.stringify(cut(request.path))} [${request.framing}] ` +
    `{${headers.join(', ')}} body ${request.body.length} B ${JSON.stringify(cut(request.body.toString('latin1'), 60))}`
  );
}

// --- the run ------------------------------------------------------------------------------------------

describe('§6 generated bad input against every route (fast-check, real HTTP)', () => {
  let stack: Stack;
  let port: number;
  const realIds: string[] = [];
  const { logger, lines: logLines } = captureLog('warn');

  before(async () => {
    stack = await startStack({
      signer: { logger },
    });
    port = Number(new URL(stack.signerUrl).port);
    realIds.push((await openTestSession(stack, 'ORDER-2')).id);
  });
  after(() => stack.close());

  it(`§6 ${RUNS} generated requests: never a 5xx, always the error shape, no crash`, async t => {
    t.diagnostic(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const statuses = new Map<string, number>();
    const details = await fc.check(
      fc.asyncProperty(requestArb(realIds), async request => {
        const answer = await send(port, request);
        const code = /"code":"([a-z0-9_]+)"/.exec(answer.body.toString('utf8'))?.[1];
        const by = answer.headers['x-request-id'] === undefined ? ' (node)' : '';
        const key = `${answer.status ?? 'none'}${code ? ` ${code}` : by}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        check(request, answer);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    if (details.failed) {
      // Short: the shrunk request, summarized (a 20 KB path or body would bury the reason).
      const request = details.counterexample?.[0];
      assert.fail(
        `seed ${SEED} (replay: FUZZ_SEED=${SEED}), path ${details.counterexamplePath}, ` +
          `after ${details.numRuns} runs, shrunk ${details.numShrinks} times\n` +
          `request: ${request ? summarize(request) : '?'}\n` +
          `failure: ${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance).slice(0, 600)}`,
      );
    }
    t.diagnostic(
      `answers by status: ${[...statuses]
        .sort()
        .map(([status, n]) => `${status}×${n}`)
        .join(' ')}`,
    );

    // Still alive and well, and nothing reached the generic 500 path.
    const health = await fetch(`${stack.signerUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual((await health.json()) as unknown, { status: 'ok' });
    assert.deepEqual(
      logLines.filter(line => line.includes('unhandled error')),
      [],
    );
  });
});
