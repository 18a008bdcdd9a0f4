/**
 * HTTP requests that fetch cannot send: gzip bodies, chunked uploads, TRACE and unknown methods, a chosen
 * loopback source address, a body sent in two parts.
 */

import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { MERCHANT_ORIGIN } from './test-support.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  localAddress?: string;
  /** A keep-alive agent to share connections; default a fresh socket per request (no pooling). */
  agent?: Agent;
}

/** One request; resolves with the whole answer, rejects on a connection error. */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
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

/** A POST of `body` as it is, from the merchant origin, with its Content-Length. */
export function merchantPost(
  body: string,
  contentType = 'application/json',
  extra: Record<string, string> = {},
): RawRequestOptions {
  return {
    method: 'POST',
    headers: {
      origin: MERCHANT_ORIGIN,
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      ...extra,
    },
    body,
  };
}

/** The JSON error code of a response body, if any. */
export function errorCode(body: string): unknown {
  try {
    return (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * A JSON POST sent in two parts: headers and the first `head` bytes at once (`started`), the rest on
 * `finish()`. `answer` is the response, or the connection error.
 */
export function slowRequest(
  url: string,
  body: string,
  head = 16,
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
  const started = new Promise<void>(resolve => req.write(body.slice(0, head), () => resolve()));
  return { started, finish: () => req.end(body.slice(head)), answer };
}
