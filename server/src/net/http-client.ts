/**
 * Outbound HTTP for the gateway client and the webhook sender, after stripe-node's `net/HttpClient`: one
 * small interface, a `node:http` implementation (the default) and a `fetch` one (for a caller that brings
 * its own fetch: a proxy, a test).
 *
 * Why not the global `fetch`: on Node 20 it costs about 600 µs of CPU per call more than `node:http` (WHATWG
 * streams, AbortSignal and DOMException objects per request) and loading undici raised the signer's peak
 * RSS by about 35 MB (`pnpm bench:profile -- sessions`, test/README.md "Benchmarks").
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** One POST: the body is sent exactly as given (a signed body must not be re-encoded). */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the exchange: connecting, sending, or reading the body. */
  signal: AbortSignal;
}

/** An answer whose body has not been read yet. */
export interface HttpResponse {
  status: number;
  /** A response header (case-insensitive name), or null. */
  header(name: string): string | null;
  /** The body, chunk by chunk; leaving the loop early drops the connection. */
  body: AsyncIterable<Uint8Array>;
  /** Gives up on the unread body (the connection is closed rather than drained). */
  discard(): void;
}

/** Sends one POST; rejects on a transport failure, a redirect, or an abort (with the signal's reason). */
export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * Idle keep-alive sockets are closed after this long unless the server's `Keep-Alive: timeout=` hint is
 * shorter (Node's agent applies the smaller), before a server closing at its own idle limit (Node's
 * default: 5 s) can race a request onto a dying socket. undici's default is the same 4 s.
 */
const IDLE_SOCKET_MS = 4_000;

/** The default client: `node:http`/`node:https` with keep-alive agents of its own. */
export function nodeHttpClient(): HttpClient {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  return ({ url, headers, body, signal }) =>
    new Promise<HttpResponse>((resolve, reject) => {
      signal.throwIfAborted();
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') {
        reject(new Error(`unsupported protocol ${target.protocol}`));
        return;
      }
      const req = (secure ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      });
      req.on('error', error => reject(signal.aborted ? signal.reason : error));
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        // ASVS 15.3.2: a redirect would re-send the signed body to another host; never follow one.
        if (status >= 300 && status < 400) {
          res.destroy();
          reject(new Error(`redirect refused (HTTP ${status})`));
          return;
        }
        resolve({
          status,
          header: name => {
            const value = res.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          },
          body: res,
          discard: () => res.destroy(),
        });
      });
      req.end(body);
    });
}

/** A client on a WHATWG `fetch` (redirects refused, as above). */
export function fetchHttpClient(fetchImpl: typeof fetch): HttpClient {
  return async ({ url, headers, body, signal }) => {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal,
    });
    const stream = response.body;
    return {
      status: response.status,
      header: name => response.headers.get(name),
      body: stream ?? (async function* () {})(),
      discard: () => void stream?.cancel().catch(() => undefined),
    };
  };
}
