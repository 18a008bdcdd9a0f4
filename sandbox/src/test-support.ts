/**
 * Test helpers shared by the sandbox's HTTP tests: a sandbox on an ephemeral loopback port, signed API calls
 * built with the real protocol code, and a tiny merchant server that records what the gateway sends it.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  const res = await fetch(`${baseUrl}/${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: ApiResult['json'] = {};
  try {
    json = JSON.parse(text) as ApiResult['json'];
  } catch {
    // an HTML error page or a cut body: the test looks at `text`
  }
  return { status: res.status, signature: res.headers.get('signature'), text, json };
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
  /** IPN POSTs only (path `/ipn`). */
  ipns(): Hit[];
  setIpnAnswer(answer: IpnAnswer): void;
  close(): Promise<void>;
}

export const acknowledge: IpnAnswer = () => ({
  status: 200,
  body: JSON.stringify({ ipnStatus: '200', ipnDescription: 'ok' }),
});

/** A loopback merchant: `/ipn` answers per `setIpnAnswer` (default: acknowledged); anything else 200. */
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
