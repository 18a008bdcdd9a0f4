/**
 * Test-only: a small HTTP proxy that sits between the signer and the sandbox and breaks gateway calls on
 * purpose (the model test in `money.model.test.ts`). One server, bound to 127.0.0.1, two roles by path:
 *
 * - `/api/…` (the signer's calls to the gateway) go to the sandbox, each one through a fault the test picks:
 *   passed, dropped unsent, done then reset, done then left hanging until the caller gives up, a 5xx without
 *   or after forwarding, a properly signed `409 Transaction Duplicate` without forwarding, or done with a
 *   corrupt `signature` header;
 * - everything else (the sandbox's IPNs to `PUBLIC_URL/ipn`, return pages) goes to the signer; an IPN may be
 *   held by the test instead (answered for the signer, kept for a later, late, repeated or reordered delivery).
 */

import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatGatewayDateTime, signText } from '@galaxy-pay/protocol';

/** What happens to one gateway call. */
export const GATEWAY_FAULTS = [
  'pass',
  /** Connection reset before forwarding: the gateway never saw it. */
  'drop',
  /** Forwarded (the gateway acted), then the connection is reset: the answer is lost. */
  'reset_after',
  /** Forwarded, then no answer until the caller closes the socket (its deadline). */
  'hang_after',
  /** 502/503/504 without forwarding. */
  'status_5xx',
  /** Forwarded, then 500/502/503 instead of the gateway's answer. */
  'forward_5xx',
  /** A signed HTTP 409 `Transaction Duplicate` envelope, without forwarding. */
  'duplicate_409',
  /** Forwarded, answered with the gateway's body under a corrupt `signature` header. */
  'bad_signature',
] as const;
export type GatewayFault = (typeof GATEWAY_FAULTS)[number];

/** One gateway call as the proxy handled it. */
export interface GatewayCallRecord {
  /** The endpoint's last path segment (`checkout`, `query`, `refund`…). */
  endpoint: string;
  fault: GatewayFault;
  /** The sandbox's HTTP status, when the call was forwarded and answered. */
  upstreamStatus?: number;
}

export interface FaultProxyOptions {
  /** The sandbox's base URL. */
  gatewayUrl: string;
  /** The merchant salt: the forged 409 is signed like the gateway signs its replies. */
  salt: string;
  /** Picks the fault of each gateway call, in arrival order. Default: always `pass`. */
  nextFault?: (endpoint: string) => GatewayFault;
  /** Decides each `POST /ipn` (raw body): forward it to the signer, or hold it (answered, not forwarded). */
  onIpn?: (body: string) => 'forward' | 'hold';
  /** Every signer answer to a forwarded IPN. */
  onIpnAnswer?: (body: string, httpStatus: number, answer: string) => void;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it as the signer's gateway base URL and public URL. */
  url: string;
  /** Where non-gateway requests go (set once the signer listens). */
  signerUrl: string | undefined;
  /** Every gateway call, in order. */
  calls: GatewayCallRecord[];
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'proxy-connection',
  'upgrade',
]);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(base: string, req: IncomingMessage, body: Buffer): Promise<Upstream> {
  const target = new URL(req.url ?? '/', base);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
  }
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(target, { method: req.method, headers, agent: false }, res => {
      readBody(res).then(
        data => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }),
        reject,
      );
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function answer(res: ServerResponse, upstream: Upstream, override: { signature?: string } = {}) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
  }
  if (override.signature !== undefined) headers.signature = override.signature;
  headers['content-length'] = String(upstream.body.length);
  res.writeHead(upstream.status, headers);
  res.end(upstream.body);
}

function plain(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Flips the last hex digit: still well-formed, no longer the signature of the body. */
function corrupt(signature: string | string[] | undefined): string {
  const text = typeof signature === 'string' && signature.length > 0 ? signature : '0'.repeat(64);
  const last = text.at(-1)!;
  return `${text.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const calls: GatewayCallRecord[] = [];
  let rotation = 0;
  const proxy: FaultProxy = {
    url: '',
    signerUrl: undefined,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };

  async function gatewayCall(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const endpoint = (req.url ?? '').split('?')[0]!.split('/').pop() ?? '';
    const fault = options.nextFault?.(endpoint) ?? 'pass';
    const record: GatewayCallRecord = { endpoint, fault };
    calls.push(record);
    switch (fault) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'status_5xx':
        plain(res, [502, 503, 504][rotation++ % 3]!, 'upstream trouble (fault proxy)');
        return;
      case 'duplicate_409': {
        let requestID: unknown = null;
        try {
          requestID = (JSON.parse(body.toString('utf8')) as { requestID?: unknown }).requestID;
        } catch {
          // not JSON: echo nothing
        }
        const text = JSON.stringify({
          requestID: typeof requestID === 'string' ? requestID : null,
          responseDateTime: formatGatewayDateTime(new Date()),
          responseCode: '409',
          responseMessage: 'Transaction Duplicate',
        });
        res.writeHead(409, {
          'content-type': 'application/json; charset=utf-8',
          signature: signText(text, options.salt),
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
    }
    const upstream = await forward(options.gatewayUrl, req, body);
    record.upstreamStatus = upstream.status;
    switch (fault) {
      case 'pass':
        answer(res, upstream);
        return;
      case 'reset_after':
        req.socket.destroy();
        return;
      case 'hang_after':
        // No answer: the caller's deadline closes the socket (or `close()` does).
        return;
      case 'forward_5xx':
        plain(
          res,
          [500, 502, 503][rotation++ % 3]!,
          'upstream trouble after the fact (fault proxy)',
        );
        return;
      case 'bad_signature':
        answer(res, upstream, { signature: corrupt(upstream.headers.signature) });
        return;
    }
  }

  async function signerCall(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    if (!proxy.signerUrl) return plain(res, 503, 'signer not set');
    const isIpn = req.method === 'POST' && (req.url ?? '').split('?')[0]!.endsWith('/ipn');
    const text = body.toString('utf8');
    if (isIpn && options.onIpn?.(text) === 'hold') {
      // Held by the test: the gateway is told it was taken, the signer has not seen it yet.
      const ack = JSON.stringify({ ipnStatus: '200', ipnDescription: 'held by the fault proxy' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ack.length });
      res.end(ack);
      return;
    }
    const upstream = await forward(proxy.signerUrl, req, body);
    if (isIpn) options.onIpnAnswer?.(text, upstream.status, upstream.body.toString('utf8'));
    answer(res, upstream);
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then(body =>
        (req.url ?? '').startsWith('/api/')
          ? gatewayCall(req, res, body)
          : signerCall(req, res, body),
      )
      .catch(() => {
        if (!res.headersSent && !res.destroyed) plain(res, 502, 'fault proxy: upstream failed');
        else res.destroy();
      });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
