/**
 * Test stack for the signer: the real sandbox and the real signer on 127.0.0.1 ephemeral ports, with a real
 * store (a temporary SQLite file, or a fresh PostgreSQL schema). Everything stops by itself in `close()`.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox, type SandboxOptions } from '@galaxy-pay/sandbox';
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
  const { listener, signer } = createApp({
    apiKey: API_KEY,
    salt: SALT,
    gatewayBaseUrl: sandboxUrl,
    publicUrl: url,
    allowedOrigins: [MERCHANT_ORIGIN],
    store,
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
  server.on('request', listener);
  await signer.ready;
  return {
    sandbox,
    sandboxUrl,
    signer,
    signerUrl: url,
    store,
    ...(fresh ? { database: { url: fresh.url, schema: fresh.schema } } : {}),
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

/** Calls a signer route as the widget would (JSON, from the merchant origin). */
export async function widgetCall(
  stack: Pick<Stack, 'signerUrl'>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers; text: string }> {
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
  const res = await fetch(
    `${stack.sandboxUrl}/__sandbox/transactions/${transactionId}/complete${options.wait === false ? '' : '?wait=ipn'}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome, card: options.card ?? '9704000000000018' }),
    },
  );
  if (!res.ok) throw new Error(`sandbox complete failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    callback: { location: string; envelope: { data: string; signature: string } } | null;
  };
}

/** Polls until `check` returns a truthy value or the deadline passes (then throws). */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
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
 */
export async function seedSession(
  store: Store,
  options: { orderRef?: string; amount?: number; now?: Date } = {},
): Promise<Session> {
  const now = options.now ?? new Date();
  const amount = options.amount ?? 150_000;
  const orderRef = options.orderRef ?? `ORDER-${randomBytes(6).toString('hex')}`;
  await store.putOrder({
    orderRef,
    amount,
    currency: 'VND',
    description: 'Seeded order',
    netAmount: amount,
    feeAmount: 0,
    discountAmount: 0,
    createdAt: now,
  });
  const session = await store.createSession({
    id: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    orderRef,
    gatewayOrderId: randomBytes(16).toString('hex'),
    requestId: randomBytes(16).toString('hex'),
    amount,
    currency: 'VND',
    locale: 'vi',
    paymentMethod: null,
    sourceType: null,
    returnUrl: null,
    merchantOrigin: MERCHANT_ORIGIN,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 30 * 60_000),
  });
  const transactionId = String(10n ** 24n + BigInt(`0x${randomBytes(8).toString('hex')}`));
  return store.attachCheckout(
    session.id,
    { transactionId, checkoutUrl: `http://127.0.0.1:1/checkout/${transactionId}` },
    now,
  );
}
