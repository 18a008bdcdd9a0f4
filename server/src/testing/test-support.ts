/**
 * Test stack for the signer: the real sandbox and the real signer on 127.0.0.1 ephemeral ports, with a real
 * store (a temporary SQLite file, or a fresh PostgreSQL schema). Everything stops by itself in `close()`.
 */

import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import {
  createSandbox,
  type IpnAttempt,
  type RequestRecord,
  type Sandbox,
  type SandboxOptions,
} from '@galaxy-pay/sandbox';
import type { TransactionCallback } from '@galaxy-pay/protocol';
import { createApp } from '../http/app.js';
import { silentLogger } from '../logger.js';
import type { SignerOptions, Signer } from '../signer.js';
import { createPostgresStore } from '../store/postgres.js';
import { createSqliteStore } from '../store/sqlite.js';
import { eventFromRow, type Row } from '../store/rows.js';
import type { PaymentEvent, Session, Store } from '../store/store.js';

export const API_KEY = 'test-api-key';
export const SALT = 'GO@2021';
export const MERCHANT_ORIGIN = 'http://shop.test';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type StoreKind = 'sqlite' | 'postgres';

/** A fresh store: a temporary SQLite file, or a new PostgreSQL schema dropped on `drop()`. */
export async function freshStore(
  kind: StoreKind,
): Promise<{ store: Store; url: string; schema?: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-'));
    const url = `file:${join(dir, 'signer.db')}`;
    const store = createSqliteStore(url);
    await store.migrate();
    return { store, url, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `gp_test_${randomBytes(6).toString('hex')}`;
  const store = createPostgresStore(PG_URL, { schema });
  await store.migrate();
  return {
    store,
    url: PG_URL,
    schema,
    drop: async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Listens on 127.0.0.1 (port 0 unless given) first, so the app can be built knowing its own public URL. */
export async function listenLater(wanted = 0): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(wanted, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export interface Stack {
  sandbox: Sandbox;
  sandboxUrl: string;
  signer: Signer;
  /** The signer's base URL (routes at `${signerUrl}/sessions`, …). */
  signerUrl: string;
  store: Store;
  /** Where the stack's own store lives (absent with `sharedStore`), for `listAllEvents`. */
  database?: { url: string; schema?: string };
  /**
   * What the signer's HTTP server has seen: requests received, and those still unanswered (their handler
   * has not called `res.end` yet, whatever became of the connection).
   */
  traffic(): { received: number; unanswered: number };
  /**
   * Resolves once the outbox worker has looked for due rows after this call and found none: whatever it
   * was going to deliver by then (hooks, webhooks) has been delivered. Needs hooks or a webhook.
   */
  outboxIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  store?: StoreKind;
  /** Reuse an existing store (two signers on one database). */
  sharedStore?: Store;
  sandbox?: Partial<SandboxOptions>;
  /** Reuse a running sandbox. */
  sharedSandbox?: { sandbox: Sandbox; url: string };
  signer?: Partial<SignerOptions>;
  catalog?: SignerOptions['catalog'];
  /** Listen on this loopback port instead of a free one (a restarted signer keeps its callback URLs). */
  port?: number;
}

/** Starts sandbox + signer (+ store) on loopback. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sandbox =
    options.sharedSandbox?.sandbox ??
    createSandbox({
      apiKey: API_KEY,
      salt: SALT,
      ipnRetryDelaysMs: [50, 100, 200],
      ipnTimeoutMs: 2000,
      ...options.sandbox,
    });
  const sandboxUrl = options.sharedSandbox?.url ?? (await sandbox.listen(0, '127.0.0.1'));
  const fresh = options.sharedStore ? undefined : await freshStore(options.store ?? 'sqlite');
  const store = options.sharedStore ?? fresh!.store;
  const { server, url } = await listenLater(options.port);
  const outbox = watchOutbox(store);
  const { listener, signer } = createApp({
    apiKey: API_KEY,
    salt: SALT,
    gatewayBaseUrl: sandboxUrl,
    publicUrl: url,
    allowedOrigins: [MERCHANT_ORIGIN],
    store: outbox.store,
    catalog: options.catalog ?? {
      'ORDER-1': { amount: 500_000, description: 'Cà phê sữa đá ×10' },
      'ORDER-2': { amount: 120_000, description: 'Bánh mì' },
    },
    adminToken: 'test-admin-token-0123456789abcdef0123',
    rateLimits: { create: 10_000, read: 10_000, admin: 10_000 },
    reconcile: { staleAfterMs: 60_000, intervalMs: 3_600_000 },
    logger: silentLogger,
    ...options.signer,
  });
  const traffic = watchTraffic(server, listener);
  await signer.ready;
  return {
    sandbox,
    sandboxUrl,
    signer,
    signerUrl: url,
    store,
    ...(fresh ? { database: { url: fresh.url, schema: fresh.schema } } : {}),
    traffic,
    outboxIdle: outbox.idle,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      await signer.close();
      if (!options.sharedSandbox) await sandbox.close();
      if (fresh) {
        await fresh.store.close();
        await fresh.drop();
      }
    },
  };
}

/** A stack for the enclosing `describe`: started in its `before`, closed in its `after`. */
export function useStack(
  options: StackOptions = {},
  hooks: { beforeClose?(stack: Stack): Promise<void> } = {},
): () => Stack {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(options);
  });
  after(async () => {
    if (!stack) return;
    await hooks.beforeClose?.(stack);
    await stack.close();
  });
  return () => {
    if (!stack) throw new Error('the stack is not started (used outside a test?)');
    return stack;
  };
}

/** Runs the signer's listener on `server`, counting requests and the answers their handlers gave. */
function watchTraffic(server: Server, listener: RequestListener): Stack['traffic'] {
  let received = 0;
  const unanswered = new Set<ServerResponse>();
  server.on('request', (req, res) => {
    received += 1;
    unanswered.add(res);
    const end = res.end;
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      unanswered.delete(res);
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['end'];
    listener(req, res);
  });
  return () => ({ received, unanswered: unanswered.size });
}

/**
 * The store the signer gets, with its outbox claims watched: `idle()` waits for a claim that began after
 * the call and found nothing due. Every other method is the store's own, bound to it.
 */
function watchOutbox(store: Store): { store: Store; idle: Stack['outboxIdle'] } {
  let claims = 0;
  let emptySince = 0;
  const watched = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      if (key !== 'claimOutbox') return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: Parameters<Store['claimOutbox']>) => {
        const claim = ++claims;
        const rows = await target.claimOutbox(...args);
        if (rows.length === 0) emptySince = Math.max(emptySince, claim);
        return rows;
      };
    },
  });
  return {
    store: watched,
    idle: async (timeoutMs = 5000) => {
      const mark = claims;
      await eventually(() => emptySince > mark, timeoutMs);
    },
  };
}

/** The key one test browser holds for every order (the widget keeps one per tab and order). */
export const BROWSER_KEY = 'test-browser-key-0001';

/**
 * The widget sends its key when it opens or cancels a session; so do these calls, unless the body names
 * `clientKey` itself (`clientKey: undefined` sends none: a caller that is not that browser).
 */
function withBrowserKey(method: string, path: string, body: unknown): unknown {
  const keyed = method === 'POST' && /^\/sessions(\/[^/]+\/cancel)?$/.test(path);
  if (!keyed || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return 'clientKey' in body ? body : { ...body, clientKey: BROWSER_KEY };
}

/** An answer of the signer: its status, headers and text, and the text parsed (`{}` if not JSON). */
export interface Reply {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
  text: string;
}

/** Calls a signer route as the widget would (JSON, from the merchant origin). */
export async function widgetCall(
  stack: Pick<Stack, 'signerUrl'>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${stack.signerUrl}${path}`, {
    method,
    headers: {
      origin: MERCHANT_ORIGIN,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(withBrowserKey(method, path, body)),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (SSE, HTML): the test reads `text`
  }
  return { status: res.status, json, headers: res.headers, text };
}

/** The sandbox transaction id behind a session's checkout URL. */
export function transactionIdOf(checkoutUrl: unknown): string {
  return String(checkoutUrl).split('/').pop()!;
}

/** Finishes a payment in the sandbox without a browser; `wait` waits for the IPN deliveries. */
export async function completeInSandbox(
  stack: Pick<Stack, 'sandboxUrl'>,
  transactionId: string,
  outcome: 'success' | 'failure' | 'cancel',
  options: { wait?: boolean; card?: string } = {},
): Promise<{
  callback: { location: string; envelope: { data: string; signature: string } } | null;
}> {
  const res = await sandboxPost(
    stack,
    `transactions/${transactionId}/complete${options.wait === false ? '' : '?wait=ipn'}`,
    { outcome, card: options.card ?? '9704000000000018' },
  );
  if (!res.ok) throw new Error(`sandbox complete failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    callback: { location: string; envelope: { data: string; signature: string } } | null;
  };
}

/** A fresh order reference per call: `prefix` and random hex (one open session per order). */
export function uniqueRef(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

// --- what the sandbox saw ---------------------------------------------------------------------------------

async function inspect<T>(stack: Pick<Stack, 'sandboxUrl'>, path: string): Promise<T> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/${path}`);
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The sandbox's IPN delivery attempts, oldest first, optionally for one transaction or payment link. */
export function ipnAttempts(
  stack: Pick<Stack, 'sandboxUrl'>,
  about: { transactionID?: unknown; orderNo?: unknown } = {},
): Promise<IpnAttempt[]> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(about)) {
    if (value !== undefined) query.set(name, String(value));
  }
  return inspect<IpnAttempt[]>(stack, `ipn${query.size ? `?${query}` : ''}`);
}

/** The API calls the sandbox received, oldest first: all, or those to one path (`/api/v1/…`). */
export function sandboxRequests(
  stack: Pick<Stack, 'sandboxUrl'>,
  path?: string,
): Promise<RequestRecord[]> {
  return inspect<RequestRecord[]>(
    stack,
    `requests${path === undefined ? '' : `?path=${encodeURIComponent(path)}`}`,
  );
}

/** The `requestData` of a call the sandbox received. */
export function requestDataOf(request: Pick<RequestRecord, 'rawBody'>): Record<string, unknown> {
  return (JSON.parse(request.rawBody) as { requestData: Record<string, unknown> }).requestData;
}

/** The `requestData` of every call to `api/v1/transaction/<endpoint>`, oldest first. */
export async function sentRequestData(
  stack: Pick<Stack, 'sandboxUrl'>,
  endpoint: string,
): Promise<Array<Record<string, unknown>>> {
  return (await sandboxRequests(stack, `/api/v1/transaction/${endpoint}`)).map(requestDataOf);
}

/** What the sandbox (the gateway) holds for a transaction, as JSON. */
export function sandboxTransaction(
  stack: Pick<Stack, 'sandboxUrl'>,
  transactionId: unknown,
): Promise<Record<string, unknown>> {
  return inspect(stack, `transactions/${String(transactionId)}`);
}

/** POSTs `body` as JSON to the sandbox's inspection API (`/__sandbox/<path>`). */
function sandboxPost(stack: Pick<Stack, 'sandboxUrl'>, path: string, body: unknown) {
  return fetch(`${stack.sandboxUrl}/__sandbox/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Sets the sandbox's global faults (`''` clears them). */
export async function setGatewayFaults(stack: Pick<Stack, 'sandboxUrl'>, faults: string) {
  const res = await sandboxPost(stack, 'faults', { faults });
  if (res.status !== 200) throw new Error(`sandbox faults: ${res.status} ${await res.text()}`);
}

/** An open SSE stream as text: `waitFor` reads until the text received so far satisfies `done`. */
export async function followEvents(url: string): Promise<{
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

/** Polls until `check` returns a truthy value or the deadline passes (then throws). */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await check();
  while (!value) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 20));
    value = await check();
  }
  return value;
}

/**
 * Every payment event in a database, oldest first, including the dead letters and unverified attempts that
 * `Store.listEvents` cannot reach (their session id is null).
 */
export async function listAllEvents(database: {
  url: string;
  schema?: string;
}): Promise<PaymentEvent[]> {
  const sql = 'SELECT * FROM payment_events ORDER BY id';
  if (database.url.startsWith('file:')) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(database.url.slice('file:'.length), { readonly: true });
    try {
      return db.prepare<[], Row>(sql).all().map(eventFromRow);
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: database.url,
    ...(database.schema ? { options: `-c search_path=${database.schema}` } : {}),
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows.map(row => eventFromRow(row as Row));
  } finally {
    await client.end();
  }
}

/** Opens a session as the widget would and returns it as stored (transaction id and nonce included). */
export async function openTestSession(
  stack: Pick<Stack, 'signerUrl' | 'store'>,
  orderRef: string,
  extra: Record<string, unknown> = {},
): Promise<Session> {
  const created = await widgetCall(stack, 'POST', '/sessions', { orderRef, ...extra });
  if (created.status !== 201) throw new Error(`POST /sessions ${created.status}: ${created.text}`);
  const session = await stack.store.getSession(String(created.json.sessionId));
  if (!session) throw new Error('the created session is not in the store');
  return session;
}

/**
 * The decoded callback the gateway would send for a session (apiVersion 2, values as strings), successful
 * unless `fields` say otherwise. `transactionStatus: undefined` drops the field (an apiVersion 1 message).
 */
export function gatewayCallbackFor(
  session: Pick<Session, 'gatewayOrderId' | 'transactionId' | 'amount' | 'currency'>,
  fields: Partial<Omit<TransactionCallback['responseData'], 'tokenization'>> & {
    responseCode?: string;
    responseMessage?: string;
  } = {},
): TransactionCallback {
  const { responseCode = '200', responseMessage, ...data } = fields;
  const message =
    responseMessage ?? (responseCode === '200' ? 'Transaction is successful.' : 'Failed');
  const responseData: TransactionCallback['responseData'] = {
    transactionID: String(session.transactionId),
    transactionDateTime: '20250102030405',
    orderID: session.gatewayOrderId,
    orderAmount: String(session.amount),
    orderCurrency: session.currency,
    transactionStatus: responseCode,
    transactionDescription: message,
    paymentMethod: 'DOMESTIC',
    sourceType: '970400',
    ...data,
  };
  if ('transactionStatus' in fields && fields.transactionStatus === undefined) {
    delete responseData.transactionStatus;
  }
  return {
    requestID: randomBytes(16).toString('hex'),
    responseDateTime: '20250102030405',
    responseCode,
    responseMessage: message,
    responseData,
  };
}

/**
 * A priced order and its pending session written straight to the store (no gateway), with the gateway
 * transaction id attached as a checkout reply would: for tests that drive the store and `settle()` directly.
 * With `checkout: false` the session stays as saved before the gateway call (its reply still awaited).
 */
export async function seedSession(
  store: Store,
  options: {
    orderRef?: string;
    amount?: number;
    description?: string;
    now?: Date;
    ttlMs?: number;
    merchantOrigin?: string | null;
    checkout?: false;
  } = {},
): Promise<Session> {
  const now = options.now ?? new Date();
  const amount = options.amount ?? 150_000;
  const orderRef = options.orderRef ?? `ORDER-${randomBytes(6).toString('hex')}`;
  const random = (bytes: number, encoding: 'hex' | 'base64url') =>
    randomBytes(bytes).toString(encoding);
  await store.putOrder({
    orderRef,
    amount,
    currency: 'VND',
    description: options.description ?? 'Seeded order',
    netAmount: amount,
    feeAmount: 0,
    discountAmount: 0,
    createdAt: now,
  });
  const session = await store.createSession({
    id: random(16, 'base64url'),
    nonce: random(16, 'base64url'),
    orderRef,
    gatewayOrderId: random(16, 'hex'),
    requestId: random(16, 'hex'),
    amount,
    currency: 'VND',
    locale: 'vi',
    merchantOrigin: options.merchantOrigin === undefined ? MERCHANT_ORIGIN : options.merchantOrigin,
    paymentMethod: null,
    sourceType: null,
    returnUrl: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + (options.ttlMs ?? 30 * 60_000)),
  });
  if (options.checkout === false) return session;
  const transactionId = String(10n ** 24n + BigInt(`0x${random(8, 'hex')}`));
  return store.attachCheckout(
    session.id,
    { transactionId, checkoutUrl: `http://127.0.0.1:1/checkout/${transactionId}` },
    now,
  );
}
