/**
 * Test helpers shared by the sandbox's HTTP tests: a sandbox on an ephemeral loopback port, signed API calls
 * built with the real protocol code, and a tiny merchant server that records what the gateway sends it.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach } from 'node:test';
import {
  formatGatewayDateTime,
  newRequestId,
  serializeAndSign,
  type GatewayRequest,
} from '@galaxy-pay/protocol';
import { createSandbox, type Sandbox } from './app.js';
import type { SandboxOptions } from './context.js';

export const API_KEY = 'test-api-key';
/** The documentation salt: fine in tests. */
export const SALT = 'GO@2021';

export interface RunningSandbox {
  sandbox: Sandbox;
  url: string;
  close(): Promise<void>;
}

/** Starts a sandbox on 127.0.0.1:0 with fast IPN retries unless told otherwise. */
export async function startSandbox(options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> {
  const sandbox = createSandbox({
    apiKey: API_KEY,
    salt: SALT,
    ipnRetryDelaysMs: [20, 40, 80],
    ipnTimeoutMs: 1000,
    ...options,
  });
  const url = await sandbox.listen(0, '127.0.0.1');
  return { sandbox, url, close: () => sandbox.close() };
}

/** Runs `run` against a sandbox started with `options`, then stops it. */
export async function withSandbox(
  options: Partial<SandboxOptions>,
  run: (sandbox: RunningSandbox) => Promise<void>,
): Promise<void> {
  const sandbox = await startSandbox(options);
  try {
    await run(sandbox);
  } finally {
    await sandbox.close();
  }
}

/**
 * Something the tests of the enclosing `describe` share: started before them (or, with `each`, before each
 * one), stopped after. The object returned stands for it once the tests run.
 */
function useFixture<T extends object>(
  start: () => Promise<T>,
  stop: (fixture: T) => Promise<void>,
  each = false,
): T {
  let current: T | undefined;
  (each ? beforeEach : before)(async () => {
    current = await start();
  });
  (each ? afterEach : after)(() => (current ? stop(current) : undefined));
  return new Proxy({} as T, {
    get(_target, key) {
      if (!current) throw new Error('a fixture starts before the tests of its describe block');
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/**
 * A sandbox for the enclosing `describe`: started before its tests, closed after them. `options` may be a
 * function, read when the sandbox starts.
 */
export function useSandbox(
  options: Partial<SandboxOptions> | (() => Partial<SandboxOptions>) = {},
): RunningSandbox {
  return useFixture(
    () => startSandbox(typeof options === 'function' ? options() : options),
    sandbox => sandbox.close(),
  );
}

export interface ApiResult {
  status: number;
  signature: string | null;
  text: string;
  json: Record<string, unknown> & {
    responseCode?: string;
    responseMessage?: string;
    responseData?: Record<string, unknown>;
  };
}

export interface CallOptions {
  apiKey?: string;
  salt?: string;
  /** Changes the body text after it was signed (tamper tests). */
  tamper?: (body: string) => string;
  /** Replaces the signature header (or drops it with `null`). */
  signature?: string | null;
  requestID?: string;
  requestDateTime?: string | number;
}

/** POSTs a signed request to `/api/v1/...` and reads the reply. */
export async function callApi(
  baseUrl: string,
  path: string,
  requestData: Record<string, unknown>,
  options: CallOptions = {},
): Promise<ApiResult> {
  const request: GatewayRequest = {
    requestID: options.requestID ?? newRequestId(),
    requestDateTime: options.requestDateTime ?? formatGatewayDateTime(new Date()),
    requestData,
  };
  const signed = serializeAndSign(request, options.salt ?? SALT);
  const body = options.tamper ? options.tamper(signed.body) : signed.body;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    apikey: options.apiKey ?? API_KEY,
  };
  const signature = options.signature === undefined ? signed.signature : options.signature;
  if (signature !== null) headers.signature = signature;
  return readReply(await fetch(`${baseUrl}/${path}`, { method: 'POST', headers, body }));
}

/** A gateway reply as the tests read it: status, signature header, text, and the JSON if it is JSON. */
export async function readReply(res: Response): Promise<ApiResult> {
  const text = await res.text();
  return { status: res.status, signature: res.headers.get('signature'), text, json: jsonOf(text) };
}

/** The JSON of a reply's text, or `{}` when it is not JSON (an HTML error page, a cut body). */
export function jsonOf(text: string): ApiResult['json'] {
  try {
    return JSON.parse(text) as ApiResult['json'];
  } catch {
    return {}; // the test looks at the text
  }
}

let orderCounter = 0;

/** A unique orderID for each call. */
export function newOrderId(): string {
  orderCounter += 1;
  return `ORDER-${process.pid}-${Date.now()}-${orderCounter}`;
}

/** A valid checkout `requestData` (S1's shape); override any field. */
export function checkoutData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = formatGatewayDateTime(new Date());
  return {
    apiVersion: 2,
    orderID: newOrderId(),
    orderNumber: '205249008064',
    orderAmount: 100000,
    orderNetAmount: 100000,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
    orderCurrency: 'VND',
    orderDateTime: now,
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    language: 'vi',
    extraData: {},
    ...overrides,
  };
}

/** A valid createPaymentLink `requestData`; override any field. */
export function paymentLinkData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderID: newOrderId(),
    orderName: 'Invoice 7',
    orderAmount: 150000,
    orderCurrency: 'VND',
    orderDescription: 'Invoice 7 for a chair',
    expiryDuration: 1,
    expiryUnit: 'HOUR',
    paymentMethods: ['NAPAS', 'MPGS'],
    paymentFields: ['fullname', 'email'],
    language: 'en',
    ...overrides,
  };
}

/** A valid pay `requestData`; override any field. */
export function payData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = formatGatewayDateTime(new Date());
  return {
    apiVersion: 2,
    apiOperation: 'PAY',
    orderID: newOrderId(),
    orderNumber: '205249008064',
    orderAmount: 100000,
    orderCurrency: 'VND',
    orderDateTime: now,
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'INTERNATIONAL',
    language: 'en',
    ...overrides,
  };
}

/** The form fields of two test cards (protocol's testCards): Visa without 3-D Secure, Mastercard with it. */
export const CARD_NO_3DS = {
  cardNumber: '4012000033330026',
  cardHolderName: 'NGUYEN VAN A',
  cardExpireDate: '01/39',
  cardVerificationValue: '100',
};
export const CARD_3DS = { ...CARD_NO_3DS, cardNumber: '5506920809243667' };

/** What the merchant server saw. */
export interface Hit {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
  at: number;
}

/** How the merchant answers an IPN attempt (called with the attempt number, from 1). */
export type IpnAnswer = (attempt: number) => { status: number; body: string } | 'hang' | 'reset';

export interface Merchant {
  url: string;
  hits: Hit[];
  /** IPN POSTs only (path `/ipn`…); the barrier's marker IPNs are not among them. */
  ipns(): Hit[];
  setIpnAnswer(answer: IpnAnswer): void;
  close(): Promise<void>;
}

export const acknowledge: IpnAnswer = () => ({
  status: 200,
  body: JSON.stringify({ ipnStatus: '200', ipnDescription: 'ok' }),
});

/** Where `ipnBarrier` sends its marker IPNs; the merchant always acknowledges them. */
const MARKER_PATH = '/marker-ipn';

/**
 * A loopback merchant: `/ipn` answers per `setIpnAnswer` (default: acknowledged), the barrier's marker is
 * acknowledged, anything else 200.
 */
export async function startMerchant(): Promise<Merchant> {
  const hits: Hit[] = [];
  let answer: IpnAnswer = acknowledge;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      hits.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body,
        at: Date.now(),
      });
      if ((req.url ?? '').startsWith(MARKER_PATH)) {
        const ack = acknowledge(0) as { status: number; body: string };
        res.writeHead(ack.status, { 'content-type': 'application/json' }).end(ack.body);
        return;
      }
      if (!(req.url ?? '').startsWith('/ipn')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('merchant page');
        return;
      }
      const attempt = hits.filter(h => h.path.startsWith('/ipn')).length;
      const reply = answer(attempt);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    ipns: () => hits.filter(h => h.path.startsWith('/ipn')),
    setIpnAnswer: next => (answer = next),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** A merchant for the enclosing `describe`: one for all its tests, or (`each`) a fresh one per test. */
export function useMerchant({ each = false } = {}): Merchant {
  return useFixture(startMerchant, merchant => merchant.close(), each);
}

/**
 * The positive signal a test waits for before it asserts that something did NOT reach the merchant: pays a
 * marker order on the sandbox at `baseUrl`, its IPN to `merchant` (under `/marker-ipn`, outside `ipns()`),
 * and returns once the merchant has it. An IPN the sandbox had started before the marker (the one the test
 * says must not exist) has reached the merchant by then.
 */
export async function ipnBarrier(baseUrl: string, merchant: Merchant): Promise<void> {
  const marker = checkoutData({ ipnURL: `${merchant.url}${MARKER_PATH}` });
  const created = await callApi(baseUrl, 'api/v1/transaction/checkout', marker);
  const id = String(created.json.responseData?.transactionID);
  const completed = await completePayment(baseUrl, id, { outcome: 'success' }, '?wait=ipn');
  if (completed.status !== 200) throw new Error(`the marker payment failed: ${completed.status}`);
  if (!merchant.hits.some(hit => hit.path === MARKER_PATH)) {
    throw new Error('the marker IPN did not reach the merchant');
  }
}

/** `POST /__sandbox/transactions/:id/complete` (`query` `?wait=ipn`: answers once the IPN is delivered). */
export async function completePayment(
  baseUrl: string,
  transactionID: string,
  body: Record<string, unknown>,
  query = '',
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/__sandbox/transactions/${transactionID}/complete${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** Polls until `check` returns a truthy value or the deadline passes (then throws). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/** GETs a JSON resource of the inspection API. */
export async function inspect<T = unknown>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(`${baseUrl}/__sandbox/${path}`);
  return (await res.json()) as T;
}
