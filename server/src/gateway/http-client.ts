/**
 * One HTTP exchange with the gateway under one deadline, from connect to the last byte of the body: the
 * signed body is POSTed as it is, redirects are refused, and a failure becomes a `GatewayError` (timeout or
 * transport) unless it is the caller's own abort. Also the incremental, capped body reader it relies on.
 */

import type { EndpointPath } from '@galaxy-pay/protocol';
import type { HttpResponse } from '../net/http-client.js';
import { GatewayError, timeoutError, transportError } from './errors.js';
import type { Settings } from './options.js';

/** One signed request, ready to (re)send: retries send these exact bytes again. */
export interface PreparedCall {
  path: EndpointPath;
  name: string;
  url: string;
  requestId: string;
  requestData: object;
  body: string;
  signature: string;
}

/**
 * The deadline's own abort reason, so a timeout is never confused with the caller's abort; and the reason the
 * exchange aborts its leftovers with once it is over. Made once: an Error per call (and the DOMException a
 * reasonless `abort()` makes) was a measurable share of a session's CPU, and neither ever reaches a caller.
 */
class DeadlineExceeded extends Error {}
const DEADLINE = new DeadlineExceeded('gateway deadline exceeded');
const FINISHED = new Error('gateway exchange finished');

/**
 * One HTTP exchange under one deadline, from connect to the last byte of the body: `read` takes the response
 * (and the deadline's signal) and must have read the whole body by the time it settles.
 */
export async function exchange<T>(
  settings: Settings,
  call: PreparedCall,
  callerSignal: AbortSignal | undefined,
  read: (response: HttpResponse, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  callerSignal?.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(DEADLINE), settings.timeoutMs);
  const forwardAbort = () => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', forwardAbort, { once: true });
  let response: HttpResponse | undefined;
  try {
    response = await abortable(
      settings.http({
        url: call.url,
        headers: {
          apikey: settings.apiKey,
          signature: call.signature,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: call.body,
        signal: controller.signal,
      }),
      controller.signal,
    );
    return await read(response, controller.signal);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    if (controller.signal.reason === DEADLINE) throw timeoutError(settings.timeoutMs, call);
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw transportError(call, error);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', forwardAbort);
    // Drops the connection when the body was not read (401, 5xx, oversize); a no-op after a full read.
    response?.discard();
    if (!controller.signal.aborted) controller.abort(FINISHED);
  }
}

/**
 * Reads a body chunk by chunk and gives up as soon as it exceeds `limit` (returns `undefined`), so a huge or
 * endless reply never sits in memory. Each read also races the abort signal, so the deadline holds even
 * against a server that drips one byte at a time or a `fetch` that ignores its signal.
 */
export async function readCapped(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  const reader = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await abortable(reader.next(), signal);
      if (done) return Buffer.concat(chunks, total);
      total += value.byteLength;
      if (total > limit) return undefined;
      chunks.push(value);
    }
  } finally {
    reader.return?.().catch(() => undefined);
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
