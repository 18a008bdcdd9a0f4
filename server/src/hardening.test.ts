/**
 * HTTP hardening and operations (docs/reliability.md §5, catalogue T23, T24, T27–T31) and the two-process
 * PostgreSQL set-up (docs/architecture.md §6). Figures (event-loop lag, crash counts) are reported as test diagnostics.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createSandbox, type IpnAttempt, type Sandbox } from '@galaxy-pay/sandbox';
import { encodeCallback } from '@galaxy-pay/protocol';
import { createLogger, silentLogger } from './logger.js';
import { settle, type GatewayReport } from './payments/settlement.js';
import { createPostgresStore } from './store/postgres.js';
import { createSqliteStore } from './store/sqlite.js';
import type { OutboxEvent, Session, SessionStatus, Store } from './store/store.js';
import {
  API_KEY,
  MERCHANT_ORIGIN,
  PG_URL,
  SALT,
  completeInSandbox,
  eventually,
  freshStore,
  gatewayCallbackFor,
  listAllEvents,
  listenLater,
  openTestSession,
  seedSession,
  startStack,
  transactionIdOf,
  widgetCall,
  type Stack,
} from './testing/test-support.js';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Helpers

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/**
 * One request over a fresh socket (no pooling), for what fetch cannot send: gzip bodies, chunked uploads,
 * TRACE and unknown methods, a chosen loopback source address.
 */
function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string | number>;
    body?: string | Buffer;
    localAddress?: string;
  } = {},
): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        localAddress: options.localAddress,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is written: that is the point.
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The JSON error code of a response body, if any. */
function errorCode(body: string): unknown {
  try {
    return (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    return undefined;
  }
}

function nested(depth: number, open: string, close: string, inner = '0'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A pino destination that keeps every line. */
function captureStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { stream, lines };
}

/** An open SSE stream: `waitFor` reads until the text received so far satisfies `done`. */
async function openEvents(url: string): Promise<{
  headers: Headers;
  waitFor(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { origin: MERCHANT_ORIGIN }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    headers: res.headers,
    async waitFor(done, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(text)) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<'timeout'>(resolve => (timer = setTimeout(() => resolve('timeout'), left))),
        ]);
        clearTimeout(timer);
        if (chunk === 'timeout' || chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      return text;
    },
    close: () => controller.abort(),
  };
}

async function ipnAttempts(sandboxUrl: string): Promise<IpnAttempt[]> {
  return (await (await fetch(`${sandboxUrl}/__sandbox/ipn`)).json()) as IpnAttempt[];
}

// --- the standalone process -------------------------------------------------------------------------------

interface SignerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A free loopback port (listen on 0, read it, close). */
async function freePort(): Promise<number> {
  const { server, url } = await listenLater();
  await new Promise<void>(resolve => server.close(() => resolve()));
  return Number(new URL(url).port);
}

/** Starts `src/main.ts` as the standalone signer; its output is kept, never printed. */
function spawnSigner(env: Record<string, string>): SignerProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, url: `http://127.0.0.1:${env.PORT}`, output: () => output, exited };
}

/** Resolves once `/readyz` answers 200; fails with the process output if it exits first. */
async function waitReady(signer: SignerProcess, timeoutMs = 20_000): Promise<void> {
  let exited = false;
  void signer.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the signer exited during start-up:\n${signer.output()}`);
    const ok = await fetch(`${signer.url}/readyz`).then(
      res => res.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`the signer was not ready within ${timeoutMs} ms:\n${signer.output()}`);
}

/**
 * A JSON POST sent in two parts: headers and the first bytes at once (`started`), the rest on `finish()`.
 * `answer` is the response, or the connection error.
 */
function slowRequest(
  url: string,
  body: string,
): { started: Promise<void>; finish(): void; answer: Promise<RawResponse | Error> } {
  const req = httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const answer = new Promise<RawResponse | Error>(resolve => {
    req.on('error', resolve);
    req.on('response', res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: 0 }),
      );
      res.on('error', resolve);
    });
  });
  const started = new Promise<void>(resolve => req.write(body.slice(0, 16), () => resolve()));
  return { started, finish: () => req.end(body.slice(16)), answer };
}

/** A temporary directory with a catalog file, removed in `after`. */
function workDir(catalog: Record<string, { amount: number; description: string }>) {
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-hardening-'));
  const catalogFile = join(dir, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  return {
    dir,
    catalogFile,
    databaseUrl: `file:${join(dir, 'signer.db')}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function signerEnv(options: {
  port: number;
  sandboxUrl: string;
  databaseUrl: string;
  catalogFile: string;
}): Record<string, string> {
  return {
    PORT: String(options.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${options.port}`,
    GALAXY_PAY_BASE_URL: options.sandboxUrl,
    GALAXY_PAY_API_KEY: API_KEY,
    GALAXY_PAY_SALT: SALT,
    DATABASE_URL: options.databaseUrl,
    ALLOWED_ORIGINS: MERCHANT_ORIGIN,
    CATALOG_FILE: options.catalogFile,
  };
}

/** POST /sessions as the widget, from a chosen loopback address (the create limit is per IP). */
async function createSessionFrom(
  signerUrl: string,
  orderRef: string,
  localAddress = '127.0.0.1',
): Promise<RawResponse & { json: Record<string, unknown> }> {
  const body = JSON.stringify({ orderRef });
  const res = await rawRequest(`${signerUrl}/sessions`, {
    method: 'POST',
    headers: {
      origin: MERCHANT_ORIGIN,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    },
    body,
    localAddress,
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    // not JSON: the assertion shows the body
  }
  return { ...res, json };
}

// ---------------------------------------------------------------------------------------------------------

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

  async function send(what: string, path: string, options: Parameters<typeof rawRequest>[1]) {
    const res = await rawRequest(`${stack.signerUrl}${path}`, options);
    timings.push({ what, ms: res.ms });
    return res;
  }

  function json(body: string, extra: Record<string, string> = {}) {
    return {
      method: 'POST',
      headers: {
        origin: MERCHANT_ORIGIN,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...extra,
      },
      body,
    };
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

// ---------------------------------------------------------------------------------------------------------

describe('§6 never a 500 for bad input', () => {
  let stack: Stack;
  const log = captureStream();
  const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123';

  before(async () => {
    stack = await startStack({
      signer: { logger: createLogger({ level: 'debug', destination: log.stream }) },
    });
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
              origin: MERCHANT_ORIGIN,
              authorization: `Bearer ${ADMIN_TOKEN}`,
              'x-operator': 'alice',
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
          headers: {
            origin: MERCHANT_ORIGIN,
            authorization: `Bearer ${ADMIN_TOKEN}`,
            'x-operator': 'alice',
            'content-type': 'application/json',
            'content-length': 2,
          },
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
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(stack.signerUrl).port), '127.0.0.1', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: ${MERCHANT_ORIGIN}\r\n` +
              `authorization: Bearer ${ADMIN_TOKEN}\r\nx-operator: alice\r\n` +
              'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"orderRef":',
          );
          // The client gives up: half-close, so the server sees the upload end early.
          setTimeout(() => socket.end(), 50);
        });
        socket.on('data', () => undefined);
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        setTimeout(() => reject(new Error(`${path}: no close`)), 5000).unref();
      });
      // The server's error path ran (or not) by now: it must not have been an unhandled error.
      await sleep(50);
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

// ---------------------------------------------------------------------------------------------------------

describe('T28 rate limits', () => {
  let stack: Stack;
  const log = captureStream();

  before(async () => {
    stack = await startStack({
      signer: {
        rateLimits: { create: 5, read: 10 },
        logger: createLogger({ level: 'warn', destination: log.stream }),
      },
    });
  });
  after(() => stack.close());

  it('T28 answers 429 rate_limited with RateLimit and Retry-After once the create limit is used up', async () => {
    const answers = [];
    for (let i = 0; i < 7; i++)
      answers.push(await widgetCall(stack, 'POST', '/sessions', { orderRef: 'ORDER-1' }));

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
          stack,
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
    const fresh = captureStream();
    const other = await startStack({
      signer: {
        rateLimits: { create: 5, read: 10 },
        logger: createLogger({ level: 'warn', destination: fresh.stream }),
      },
    });
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
    const session = await stack.store.findOpenSession('ORDER-1', new Date());
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await widgetCall(stack, 'GET', `/sessions/${session!.id}`)).status);
    }

    assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
  });

  it('T28 never answers 429 to an IPN burst (100 forged IPNs at once)', async () => {
    const forged = Array.from({ length: 100 }, () =>
      fetch(`${stack.signerUrl}/ipn`, {
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

// ---------------------------------------------------------------------------------------------------------

describe('T30 headers per response type', () => {
  let stack: Stack;
  let session: { id: string; transactionId: string };

  before(async () => {
    stack = await startStack();
    const created = await widgetCall(stack, 'POST', '/sessions', { orderRef: 'ORDER-2' });
    session = {
      id: String(created.json.sessionId),
      transactionId: transactionIdOf(created.json.checkoutUrl),
    };
  });
  after(() => stack.close());

  function assertApiHeaders(headers: Headers, what: string): void {
    assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(headers.get('cache-control'), 'no-store', what);
    assert.equal(headers.get('content-type'), 'application/json; charset=utf-8', what);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/, what);
    assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
    assert.equal(headers.get('x-powered-by'), null, what);
  }

  it('T30 JSON API answers (success, error, 404, IPN, health) are nosniff, no-store, UTF-8 JSON, CSP none', async () => {
    const read = await widgetCall(stack, 'GET', `/sessions/${session.id}`);
    const invalid = await widgetCall(stack, 'POST', '/sessions', {
      orderRef: 'ORDER-1',
      amount: 1,
    });
    const missing = await widgetCall(stack, 'GET', '/no-such-route');
    const ipn = await fetch(`${stack.signerUrl}/ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) }),
    });
    const ready = await fetch(`${stack.signerUrl}/readyz`);

    assertApiHeaders(read.headers, 'GET /sessions/:id');
    assertApiHeaders(invalid.headers, 'POST /sessions 400');
    assertApiHeaders(missing.headers, '404');
    assertApiHeaders(ipn.headers, 'POST /ipn 401');
    assertApiHeaders(ready.headers, 'GET /readyz');
    assert.equal(read.headers.get('access-control-allow-origin'), MERCHANT_ORIGIN);
  });

  it('T30 the return page may be framed by the merchant origins only, keeps the opener and is never cached', async () => {
    const { callback } = await completeInSandbox(stack, session.transactionId, 'success');
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
    const res = await fetch(`${stack.signerUrl}/return/${'A'.repeat(22)}/result`);
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
    const stream = await openEvents(`${stack.signerUrl}/sessions/${session.id}/events`);
    const text = await stream.waitFor(body => body.includes('\n\n'));
    stream.close();
    const { headers } = stream;

    assert.equal(headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.match(text, /^event: status\nid: [^\n]+\ndata: \{"sessionId"/);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('T29 secret canary', () => {
  const CANARY_KEY = 'CANARY-KEY-7f3a9c';
  const CANARY_SALT = 'CANARY-SALT-51d2e8';
  const log = captureStream();
  const logger = createLogger({ level: 'debug', destination: log.stream });
  const seen: Array<{ what: string; status: number; head: string; body: string }> = [];
  const dataStrings: string[] = [];
  let stack: Stack;
  let wrongSalt: Stack;
  let storeFails = false;
  let fresh: Awaited<ReturnType<typeof freshStore>>;

  before(async () => {
    fresh = await freshStore('sqlite');
    // A store that can fail with the salt in the error message (a thrown error on the IPN path).
    const store = new Proxy(fresh.store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'getSessionByGatewayOrderId' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (storeFails) {
            return Promise.reject(
              new Error(`connect failed for ${CANARY_KEY} with ${CANARY_SALT}`),
            );
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const signer = {
      apiKey: CANARY_KEY,
      salt: CANARY_SALT,
      logger,
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
    stack = await startStack({
      sharedStore: store,
      sandbox: { apiKey: CANARY_KEY, salt: CANARY_SALT },
      signer,
      catalog,
    });
    // The gateway knows another salt: every signed request is refused with 401.
    wrongSalt = await startStack({
      sandbox: { apiKey: CANARY_KEY, salt: 'the-gateway-has-another-salt' },
      signer,
      catalog,
    });
  });
  after(async () => {
    await stack.close();
    await wrongSalt.close();
    await fresh.store.close();
    await fresh.drop();
  });

  async function hit(
    what: string,
    base: Stack,
    path: string,
    options: Parameters<typeof rawRequest>[1] = {},
  ): Promise<RawResponse> {
    const res = await rawRequest(`${base.signerUrl}${path}`, options);
    seen.push({ what, status: res.status, head: JSON.stringify(res.headers), body: res.body });
    return res;
  }

  function post(body: string, contentType = 'application/json') {
    return {
      method: 'POST',
      headers: {
        origin: MERCHANT_ORIGIN,
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
      },
      body,
    };
  }

  it('T29 runs every error path with the expected generic answer', async () => {
    const ok = await hit('create', stack, '/sessions', post('{"orderRef":"ORDER-1"}'));
    const created = JSON.parse(ok.body) as { sessionId: string; checkoutUrl: string };
    const statuses = {
      unknownField: (
        await hit('unknown field', stack, '/sessions', post('{"orderRef":"ORDER-1","amount":1}'))
      ).status,
      forbiddenField: (
        await hit(
          'signing oracle',
          stack,
          '/sessions',
          post('{"orderRef":"ORDER-1","signature":"x","apiKey":"y"}'),
        )
      ).status,
      badRef: (
        await hit('bad orderRef', stack, '/sessions', post(`{"orderRef":"${'x'.repeat(60)}"}`))
      ).status,
      malformed: (await hit('malformed JSON', stack, '/sessions', post('{"orderRef":'))).status,
      textPlain: (
        await hit('text/plain', stack, '/sessions', post('orderRef=ORDER-1', 'text/plain'))
      ).status,
      thrown: (await hit('thrown error', stack, '/sessions', post('{"orderRef":"THROW-1"}')))
        .status,
      upstream500: (await hit('upstream 500', stack, '/sessions', post('{"orderRef":"ORDER-500"}')))
        .status,
      upstreamHtml: (
        await hit('upstream HTML page', stack, '/sessions', post('{"orderRef":"ORDER-HTML"}'))
      ).status,
      gateway401: (
        await hit(
          'wrong salt at the gateway',
          wrongSalt,
          '/sessions',
          post('{"orderRef":"ORDER-1"}'),
        )
      ).status,
      notFound: (await hit('404', stack, '/no/such/route')).status,
      noSession: (await hit('no session', stack, `/sessions/${'B'.repeat(22)}`)).status,
      put: (
        await hit('PUT', stack, '/sessions', {
          method: 'PUT',
          headers: { origin: MERCHANT_ORIGIN },
        })
      ).status,
      del: (await hit('DELETE', stack, '/ipn', { method: 'DELETE' })).status,
      trace: (await hit('TRACE', stack, '/sessions', { method: 'TRACE' })).status,
      unknownMethod: (await hit('unknown method', stack, '/sessions', { method: 'BREW' })).status,
      ipnMalformedJson: (await hit('IPN malformed JSON', stack, '/ipn', post('{"data":'))).status,
    };

    assert.equal(ok.status, 201, ok.body);
    assert.deepEqual(statuses, {
      unknownField: 400,
      forbiddenField: 400,
      badRef: 400,
      malformed: 400,
      textPlain: 415,
      thrown: 500,
      upstream500: 502,
      upstreamHtml: 502,
      gateway401: 502,
      notFound: 404,
      noSession: 404,
      put: 404,
      del: 404,
      trace: 404,
      unknownMethod: 400,
      ipnMalformedJson: 400,
    });
    const thrown = seen.find(s => s.what === 'thrown error')!;
    assert.deepEqual(Object.keys(JSON.parse(thrown.body) as object), ['error']);
    assert.deepEqual(Object.keys((JSON.parse(thrown.body) as { error: object }).error), [
      'code',
      'message',
      'requestId',
    ]);

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

    assert.deepEqual(ipnStatuses, [401, 401, 401, 401, 400, 400, 400, 401]);
    assert.equal(failing.status, 503);

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

    assert.deepEqual(
      pages.map(p => p.status),
      [200, 200, 200, 200],
    );
    assert.equal((await stack.store.getSession(created.sessionId))!.status, 'paid');
  });

  it('T29 no answer carries either canary, in any casing, nor a stack trace', () => {
    assert.ok(seen.length >= 30);
    for (const { what, head, body } of seen) {
      const text = `${head}\n${body}`.toLowerCase();
      for (const canary of [CANARY_KEY, CANARY_SALT]) {
        assert.ok(!text.includes(canary.toLowerCase()), `${what} leaks ${canary}`);
      }
      assert.doesNotMatch(
        body,
        /\bat .+\(.+:\d+:\d+\)|node:internal|\.ts:\d+/,
        `${what} shows a stack`,
      );
    }
  });

  it('T29 no log line carries either canary in any casing, nor a raw data query string', t => {
    t.diagnostic(`T29 scanned ${seen.length} answers and ${log.lines.length} log lines`);

    assert.ok(log.lines.length >= 5, 'the error paths were logged');
    assert.ok(log.lines.some(line => line.includes('unhandled error')));
    assert.ok(log.lines.some(line => line.includes('signed data of another order')));
    for (const line of log.lines) {
      const lower = line.toLowerCase();
      for (const canary of [CANARY_KEY, CANARY_SALT]) {
        assert.ok(!lower.includes(canary.toLowerCase()), `log leaks ${canary}: ${line}`);
      }
      for (const data of dataStrings) {
        assert.ok(!line.includes(data.slice(0, 40)), `log carries raw data: ${line}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('T31 graceful shutdown', () => {
  describe('in process', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(() => stack.close());

    it('T31 fails readiness first on drain(), while liveness and IPNs keep working', async () => {
      const before = await fetch(`${stack.signerUrl}/readyz`);
      const created = await widgetCall(stack, 'POST', '/sessions', { orderRef: 'ORDER-1' });
      const session = await stack.store.getSession(String(created.json.sessionId));

      stack.signer.drain();
      const during = await fetch(`${stack.signerUrl}/readyz`);
      const live = await fetch(`${stack.signerUrl}/healthz`);
      const ipn = await fetch(`${stack.signerUrl}/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(encodeCallback(gatewayCallbackFor(session!), SALT)),
      });

      assert.equal(before.status, 200);
      assert.equal(during.status, 503);
      assert.deepEqual(await during.json(), { status: 'draining' });
      assert.equal(live.status, 200);
      assert.equal(ipn.status, 200);
      assert.deepEqual(((await ipn.json()) as { ipnStatus: string }).ipnStatus, '200');
    });
  });

  describe('the standalone process', () => {
    let sandbox: Sandbox;
    let sandboxUrl: string;
    const work = workDir({
      'ORDER-IPN': { amount: 250_000, description: 'Cơm tấm sandbox:no-ipn' },
      'ORDER-SLOW': { amount: 330_000, description: 'Phở bò sandbox:delay:700' },
    });

    before(async () => {
      sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, ipnRetryDelaysMs: [50] });
      sandboxUrl = await sandbox.listen(0, '127.0.0.1');
    });
    after(async () => {
      await sandbox.close();
      work.remove();
    });

    it('T27 cuts off an IPN whose body trickles in past REQUEST_TIMEOUT_SECONDS, and stores nothing', async () => {
      const port = await freePort();
      const signer = spawnSigner({
        ...signerEnv({ port, sandboxUrl, ...work }),
        REQUEST_TIMEOUT_SECONDS: '1',
      });
      try {
        await waitReady(signer);
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
      const events = await listAllEvents({ url: work.databaseUrl });
      assert.deepEqual(
        events.filter(event => event.raw === 'eyJ9'),
        [],
      );
    });

    it('T31 on SIGTERM finishes the in-flight IPN and session creation, commits them, and exits 0 before the deadline', async t => {
      const port = await freePort();
      const signer = spawnSigner(signerEnv({ port, sandboxUrl, ...work }));
      await waitReady(signer);
      const created = await createSessionFrom(signer.url, 'ORDER-IPN');
      assert.equal(created.status, 201, created.body);
      const { callback } = await completeInSandbox(
        { sandboxUrl },
        transactionIdOf(created.json.checkoutUrl),
        'success',
      );
      const envelope = JSON.stringify(callback!.envelope);

      // Given an IPN whose headers and first bytes have arrived, and a session creation waiting on the gateway
      const ipn = slowRequest(`${signer.url}/ipn`, envelope);
      await ipn.started;
      const creating = createSessionFrom(signer.url, 'ORDER-SLOW').catch((error: Error) => error);
      await sleep(200);

      // When SIGTERM arrives, and only then the rest of the IPN body
      const signalled = Date.now();
      signer.child.kill('SIGTERM');
      await sleep(150);
      ipn.finish();
      const [ipnAnswer, slow, exit] = await Promise.all([ipn.answer, creating, signer.exited]);
      const exitMs = Date.now() - signalled;
      t.diagnostic(
        `T31 exit ${exit.code} after ${exitMs} ms; IPN ${ipnAnswer instanceof Error ? ipnAnswer.message : ipnAnswer.status}; ` +
          `session creation ${slow instanceof Error ? slow.message : slow.status}`,
      );

      // Then: exit 0 before the 10 s deadline, and every 2xx stands for committed work
      assert.equal(exit.code, 0, signer.output());
      assert.ok(exitMs < 10_000, `exited after ${exitMs} ms`);
      const store = createSqliteStore(work.databaseUrl);
      try {
        assert.ok(
          !(ipnAnswer instanceof Error),
          `the in-flight IPN got no answer: ${String(ipnAnswer)}`,
        );
        assert.equal(ipnAnswer.status, 200, ipnAnswer.body);
        assert.equal((JSON.parse(ipnAnswer.body) as { ipnStatus: string }).ipnStatus, '200');
        assert.equal(
          ipnAnswer.headers.connection,
          'close',
          'answers during shutdown close their connection',
        );
        assert.equal((await store.getSession(String(created.json.sessionId)))?.status, 'paid');
        assert.ok(
          !(slow instanceof Error),
          `the in-flight creation got no answer: ${String(slow)}`,
        );
        assert.equal(slow.status, 201, slow.body);
        const saved = await store.getSession(String(slow.json.sessionId));
        assert.equal(saved?.checkoutUrl, slow.json.checkoutUrl);
        assert.equal(saved?.status, 'pending');
      } finally {
        await store.close();
      }
      const refused = await fetch(`${signer.url}/readyz`).then(
        () => 'answered',
        () => 'refused',
      );
      assert.equal(refused, 'refused');
    });
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('T24 crash consistency: kill -9 during an IPN storm, restart on the same file', () => {
  const N = 40;
  const orders = Object.fromEntries(
    Array.from({ length: N }, (_, i) => [
      `CRASH-${i + 1}`,
      { amount: 10_000 * (i + 1), description: `Đơn hàng ${i + 1} sandbox:dup:2` },
    ]),
  );
  const work = workDir(orders);
  let sandbox: Sandbox;
  let sandboxUrl: string;

  before(async () => {
    // Retries long enough to outlive a restart (~1.5 s here): 100 ms … 3.2 s, 6.3 s in all.
    sandbox = createSandbox({
      apiKey: API_KEY,
      salt: SALT,
      ipnRetryDelaysMs: [100, 200, 400, 800, 1600, 3200],
      ipnTimeoutMs: 500,
    });
    sandboxUrl = await sandbox.listen(0, '127.0.0.1');
  });
  after(async () => {
    await sandbox.close();
    work.remove();
  });

  it('T24 acknowledges only committed work, and ends with every session paid exactly once', async t => {
    const port = await freePort();
    const env = signerEnv({ port, sandboxUrl, ...work });
    const first = spawnSigner(env);
    await waitReady(first);
    // 40 sessions; the create limit is 30 a minute per IP, so they come from two loopback addresses.
    const created = await Promise.all(
      Object.keys(orders).map((ref, i) =>
        createSessionFrom(first.url, ref, i < N / 2 ? '127.0.0.1' : '127.0.0.2'),
      ),
    );
    assert.deepEqual(
      created.map(c => c.status),
      Array(N).fill(201),
      created.find(c => c.status !== 201)?.body,
    );
    const sessionOf = new Map(
      created.map(c => [transactionIdOf(c.json.checkoutUrl), String(c.json.sessionId)]),
    );

    // The storm: every payment completes at once; each IPN is sent twice (dup:2), in parallel.
    await Promise.all(
      [...sessionOf.keys()].map(txn =>
        completeInSandbox({ sandboxUrl }, txn, 'success', { wait: false }),
      ),
    );
    const killAfter = Math.floor(N / 4);
    await eventually(
      async () => (await ipnAttempts(sandboxUrl)).filter(a => a.acknowledged).length >= killAfter,
      10_000,
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const killed = await first.exited;
    assert.equal(killed.signal, 'SIGKILL');
    // Answers the dead process had sent are recorded by now; later attempts can only fail.
    await sleep(50);
    const atKill = await ipnAttempts(sandboxUrl);
    const store = createSqliteStore(work.databaseUrl);
    const snapshot = new Map<string, SessionStatus | undefined>();
    try {
      for (const [txn, id] of sessionOf) snapshot.set(txn, (await store.getSession(id))?.status);
    } finally {
      await store.close();
    }

    // Then: every acknowledgement sent before the crash stands for a committed payment.
    const ackedBeforeKill = atKill.filter(a => a.acknowledged);
    for (const attempt of ackedBeforeKill) {
      assert.equal(
        snapshot.get(attempt.transactionID!),
        'paid',
        `acknowledged but not paid: ${attempt.transactionID}`,
      );
    }

    // When the signer restarts on the same file and port, the gateway's retries finish the job.
    const second = spawnSigner(env);
    await waitReady(second);
    const restartMs = Date.now() - killedAt;
    const reopened = createSqliteStore(work.databaseUrl);
    try {
      await eventually(async () => {
        for (const id of sessionOf.values()) {
          if ((await reopened.getSession(id))?.status !== 'paid') return false;
        }
        return true;
      }, 15_000);
      // Let the duplicate deliveries still under way end too.
      await eventually(async () => {
        const attempts = await ipnAttempts(sandboxUrl);
        const byDelivery = new Map<number, IpnAttempt[]>();
        for (const a of attempts)
          byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
        return (
          byDelivery.size === 2 * N &&
          [...byDelivery.values()].every(list => list.some(a => a.acknowledged))
        );
      }, 15_000);

      const all = await ipnAttempts(sandboxUrl);
      for (const [txn, id] of sessionOf) {
        const session = await reopened.getSession(id);
        const outbox = await reopened.listOutbox(id);
        const events = await reopened.listEvents(id);
        assert.equal(session?.status, 'paid', txn);
        assert.equal(session?.lateSuccess, false);
        assert.equal(session?.amount, orders[session!.orderRef]!.amount);
        assert.deepEqual(
          outbox.map(o => o.event),
          ['paid'],
          `outbox of ${id}`,
        );
        assert.equal(
          events.filter(e => e.verdict === 'applied').length,
          1,
          `applied events of ${id}`,
        );
      }
      for (const attempt of all.filter(a => a.acknowledged)) {
        assert.equal(
          (await reopened.getSession(sessionOf.get(attempt.transactionID!)!))?.status,
          'paid',
        );
      }

      const errors = all.filter(a => a.error !== undefined);
      const answered409 = all.filter(a => a.answer?.ipnStatus === '409').length;
      const committedUnacked = [...snapshot].filter(
        ([txn, status]) => status === 'paid' && !ackedBeforeKill.some(a => a.transactionID === txn),
      ).length;
      t.diagnostic(
        `T24 ${N} sessions, ${all.length} IPN attempts (${new Set(all.map(a => a.deliveryId)).size} deliveries); ` +
          `at the kill: ${ackedBeforeKill.length} acknowledged, ${[...snapshot.values()].filter(s => s === 'paid').length} paid in the file, ` +
          `${committedUnacked} committed without an acknowledgement; ${errors.length} attempts failed ` +
          `(${[...new Set(errors.map(e => e.error))].join(', ')}); restart ${restartMs} ms; ` +
          `${answered409} answered 409 (already paid); every session paid once`,
      );
    } finally {
      await reopened.close();
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`T24 crash consistency: a failure injected around the commit (in process, ${kind})`, () => {
    let fresh: Awaited<ReturnType<typeof freshStore>>;
    let stack: Stack;
    let inject: 'before-commit' | 'after-commit' | undefined;

    before(async () => {
      fresh = await freshStore(kind);
      // transition() fails once: either before anything is written, or after its transaction committed
      // (the process "dies" between the commit and the HTTP reply).
      const store = new Proxy(fresh.store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (property !== 'transition' || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            const mode = inject;
            inject = undefined;
            if (mode === 'before-commit') throw new Error('injected: before commit');
            const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(
              target,
              args,
            )) as unknown;
            if (mode === 'after-commit') throw new Error('injected: after commit');
            return result;
          };
        },
      });
      stack = await startStack({ sharedStore: store });
    });
    after(async () => {
      await stack.close();
      await fresh.store.close();
      await fresh.drop();
    });

    for (const mode of ['before-commit', 'after-commit'] as const) {
      it(`T24 ${mode}: answers 503 (never a 2xx), and the retry ends paid exactly once (${mode === 'after-commit' ? '409' : '200'})`, async () => {
        const orderRef = mode === 'before-commit' ? 'ORDER-1' : 'ORDER-2';
        const created = await widgetCall(stack, 'POST', '/sessions', { orderRef });
        const id = String(created.json.sessionId);
        const transactionId = transactionIdOf(created.json.checkoutUrl);
        inject = mode;

        await completeInSandbox(stack, transactionId, 'success');

        const attempts = (await ipnAttempts(stack.sandboxUrl)).filter(
          a => a.transactionID === transactionId,
        );
        assert.deepEqual(
          attempts.map(a => [a.answer?.httpStatus, a.answer?.ipnStatus, a.acknowledged]),
          [
            [503, undefined, false],
            [200, mode === 'after-commit' ? '409' : '200', true],
          ],
        );
        assert.equal((await fresh.store.getSession(id))?.status, 'paid');
        assert.deepEqual(
          (await fresh.store.listOutbox(id)).map(o => o.event),
          ['paid'],
        );
        const events = await fresh.store.listEvents(id);
        assert.equal(events.filter(e => e.verdict === 'applied').length, 1);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('two signer processes on one PostgreSQL schema (docs/architecture.md §6)', () => {
  let fresh: Awaited<ReturnType<typeof freshStore>>;
  let storeB: Store;
  let a: Stack;
  let b: Stack;

  before(async () => {
    fresh = await freshStore('postgres');
    // Two store instances (two pools, two LISTEN connections), as two processes would have.
    storeB = createPostgresStore(PG_URL, { schema: fresh.schema });
    await storeB.migrate();
    a = await startStack({ sharedStore: fresh.store });
    b = await startStack({
      sharedStore: storeB,
      sharedSandbox: { sandbox: a.sandbox, url: a.sandboxUrl },
    });
  });
  after(async () => {
    await b.close();
    await a.close();
    await storeB.close();
    await fresh.store.close();
    await fresh.drop();
  });

  it('streams paid on signer B for a session created on A and paid by an IPN delivered to A (LISTEN/NOTIFY)', async () => {
    const created = await widgetCall(a, 'POST', '/sessions', { orderRef: 'ORDER-1' });
    assert.equal(created.status, 201, created.text);
    const id = String(created.json.sessionId);

    const streamOnB = await openEvents(`${b.signerUrl}/sessions/${id}/events`);
    // The stream has sent its first event (so it is subscribed) before the payment completes.
    const first = await streamOnB.waitFor(text => text.includes('\n\n'));
    await completeInSandbox(a, transactionIdOf(created.json.checkoutUrl), 'success');
    const text = await streamOnB.waitFor(all => all.includes('"status":"paid"'));
    streamOnB.close();

    const attempts = await ipnAttempts(a.sandboxUrl);
    assert.ok(attempts.length > 0);
    assert.ok(
      attempts.every(at => at.url === `${a.signerUrl}/ipn`),
      'every IPN went to signer A',
    );
    assert.match(first, /"status":"pending"/);
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map(m => m[1]);
    assert.deepEqual(statuses, ['pending', 'paid']);
    assert.equal((await storeB.getSession(id))?.status, 'paid');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('T23 model-based: random command sequences against a reference model', () => {
  type ReportKind = 'success' | 'fail' | 'tampered';

  interface ModelSession {
    amount: number;
    status: SessionStatus;
    lateSuccess: boolean;
    /** Outbox events the transitions so far must have written, once each. */
    events: Set<OutboxEvent>;
    /** Callbacks settled for this session: each leaves exactly one payment event. */
    reports: number;
    successes: number;
    everPaid: boolean;
    last?: ReportKind;
  }
  interface Model {
    sessions: ModelSession[];
  }
  interface Real {
    store: Store;
    /** Opens the same database again (a restarted signer). */
    reopen: () => Store;
    sessions: Session[];
    sequence: number;
  }

  const deps = (r: Real) => ({ store: r.store, logger: silentLogger, now: () => new Date() });

  /** What the state machine (docs/reliability.md §2) does with a verified report. */
  function expected(status: SessionStatus, kind: ReportKind): OutboxEvent | undefined {
    const open = status === 'pending' || status === 'pending_unknown';
    const ended = status === 'failed' || status === 'cancelled' || status === 'expired';
    switch (kind) {
      case 'success':
        return open || ended ? 'paid' : undefined;
      case 'fail':
        return open ? 'failed' : undefined;
      case 'tampered':
        return open || ended ? 'needs_review' : undefined;
    }
  }

  function report(session: Session, kind: ReportKind, sequence: number): GatewayReport {
    return {
      kind: 'ipn',
      raw: `ipn:${kind}:${session.id}:${sequence}`,
      orderId: session.gatewayOrderId,
      transactionId: session.transactionId!,
      amount: String(kind === 'tampered' ? session.amount + 1 : session.amount),
      currency: 'VND',
      responseCode: kind === 'fail' ? '505' : '200',
      transactionStatus: kind === 'fail' ? '505' : '200',
      message: kind === 'fail' ? 'Authentication Failure' : 'Transaction is successful.',
    };
  }

  async function applyReport(m: Model, r: Real, index: number, kind: ReportKind): Promise<void> {
    const model = m.sessions[index]!;
    const to = expected(model.status, kind);
    r.sequence += 1;

    const result = await settle(deps(r), report(r.sessions[index]!, kind, r.sequence));

    assert.equal(result.changed, to !== undefined, `${kind} from ${model.status}`);
    assert.equal(result.ipnStatus, to !== undefined ? '200' : '409');
    model.reports += 1;
    model.last = kind;
    if (kind === 'success') model.successes += 1;
    if (to !== undefined) {
      if (to === 'paid' && model.status !== 'pending') model.lateSuccess = true;
      model.status = to;
      model.events.add(to);
      if (to === 'paid') model.everPaid = true;
    }
  }

  async function directTransition(
    m: Model,
    r: Real,
    index: number,
    to: 'cancelled' | 'expired',
  ): Promise<void> {
    const model = m.sessions[index]!;
    const at = new Date();
    const result = await r.store.transition(
      r.sessions[index]!.id,
      to === 'cancelled' ? { to, reason: 'closed', evidence: null, at } : { to, at },
    );
    const allowed = model.status === 'pending' || model.status === 'pending_unknown';
    assert.equal(result.changed, allowed, `${to} from ${model.status}`);
    if (allowed) {
      model.status = to;
      model.events.add(to);
    }
  }

  /** The invariants, checked against the store after every command. */
  async function checkInvariants(m: Model, r: Real): Promise<void> {
    for (const [i, model] of m.sessions.entries()) {
      const id = r.sessions[i]!.id;
      const stored = await r.store.getSession(id);
      const outbox = await r.store.listOutbox(id);
      const events = await r.store.listEvents(id);
      const order = await r.store.getOrder(r.sessions[i]!.orderRef);

      assert.equal(stored?.status, model.status, `status of session ${i}`);
      assert.equal(stored?.lateSuccess, model.lateSuccess, `lateSuccess of session ${i}`);
      if (model.everPaid) assert.equal(stored?.status, 'paid', 'paid never regresses');
      assert.equal(stored?.amount, model.amount, 'the amount never changes');
      assert.equal(stored?.currency, 'VND', 'the currency never changes');
      assert.equal(order?.amount, model.amount);
      assert.ok(outbox.filter(o => o.event === 'paid').length <= 1, 'at most one paid outbox row');
      assert.deepEqual(
        outbox.map(o => o.event).sort(),
        [...model.events].sort(),
        'one outbox row per transition, and no orphan',
      );
      assert.equal(events.length, model.reports, 'every settled callback is recorded');
      const successes = events.filter(e => e.verified && e.raw.startsWith('ipn:success:'));
      assert.equal(successes.length, model.successes, 'every verified success is recorded');
      assert.ok(
        successes.every(e => e.verdict === 'applied' || e.verdict === 'duplicate'),
        'a verified success is applied or kept as a duplicate',
      );
    }
  }

  const pick = (m: Model, n: number) => n % m.sessions.length;
  const executed = new Map<string, number>();
  const cmd = (
    name: string,
    check: (m: Readonly<Model>) => boolean,
    run: (m: Model, r: Real) => Promise<void>,
  ): fc.AsyncCommand<Model, Real> => ({
    check,
    run: async (m, r) => {
      await run(m, r);
      await checkInvariants(m, r);
      executed.set(name.replace(/\(.*/, ''), (executed.get(name.replace(/\(.*/, '')) ?? 0) + 1);
    },
    toString: () => name,
  });
  const any = (m: Readonly<Model>) => m.sessions.length > 0;

  const commands = [
    fc.integer({ min: 1, max: 50 }).map(k =>
      cmd(
        `create(${k * 1000})`,
        () => true,
        async (m, r) => {
          r.sessions.push(await seedSession(r.store, { amount: k * 1000 }));
          m.sessions.push({
            amount: k * 1000,
            status: 'pending',
            lateSuccess: false,
            events: new Set(),
            reports: 0,
            successes: 0,
            everPaid: false,
          });
        },
      ),
    ),
    ...(['success', 'fail', 'tampered'] as const).map(kind =>
      fc
        .nat()
        .map(n => cmd(`ipn-${kind}(${n})`, any, (m, r) => applyReport(m, r, pick(m, n), kind))),
    ),
    fc
      .nat()
      .map(n =>
        cmd(`cancel(${n})`, any, (m, r) => directTransition(m, r, pick(m, n), 'cancelled')),
      ),
    fc
      .nat()
      .map(n => cmd(`expire(${n})`, any, (m, r) => directTransition(m, r, pick(m, n), 'expired'))),
    fc.nat().map(n =>
      cmd(
        `duplicate(${n})`,
        m => m.sessions.some(s => s.last !== undefined),
        (m, r) => {
          const candidates = m.sessions.flatMap((s, i) => (s.last ? [i] : []));
          const index = candidates[n % candidates.length]!;
          return applyReport(m, r, index, m.sessions[index]!.last!);
        },
      ),
    ),
    fc.constant(
      cmd(
        'restart',
        () => true,
        async (_m, r) => {
          await r.store.close();
          r.store = r.reopen();
          await r.store.migrate();
        },
      ),
    ),
  ];

  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`T23 keeps every invariant after every step (${kind}, 20 runs, up to 30 commands)`, async t => {
      executed.clear();
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async cmds => {
          const fresh = await freshStore(kind);
          const reopen = () =>
            kind === 'sqlite'
              ? createSqliteStore(fresh.url)
              : createPostgresStore(fresh.url, { schema: fresh.schema! });
          const real: Real = { store: fresh.store, reopen, sessions: [], sequence: 0 };
          try {
            await fc.asyncModelRun(() => ({ model: { sessions: [] }, real }), cmds);
          } finally {
            await real.store.close();
            await fresh.drop();
          }
        }),
        { numRuns: 20 },
      );
      const total = [...executed.values()].reduce((a, b) => a + b, 0);
      t.diagnostic(
        `T23 (${kind}) ran ${total} commands in 20 sequences: ${[...executed].map(([k, v]) => `${k} ${v}`).join(', ')}`,
      );
      assert.ok(total >= 100, `only ${total} commands ran`);
    });
  }
});
