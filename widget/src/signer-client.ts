/**
 * The signer's HTTP API as a click needs it (server/README.md): open a session, with this tab's key for the
 * order. The calls about an open session are in `session.ts`, loaded lazily. No DOM, no element state.
 */

import type { CreatedSession, SessionRequest } from './types.js';

/** A signer call that failed: `status` 0 means the signer was not reached at all. */
export class GalaxyPayRequestError extends Error {
  readonly status: number;
  /** The signer's stable error code (`order_already_paid`, …), when it sent one. */
  readonly code: string | undefined;
  constructor(url: string, status: number, code?: string) {
    super(`${url} answered ${status || 'nothing'}${code ? ` (${code})` : ''}`);
    this.name = 'GalaxyPayRequestError';
    this.status = status;
    this.code = code;
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Defaults to the global `fetch`, read at call time so tests can stub it. */
  fetch?: typeof fetch;
}

export async function call<T>(
  url: string,
  options: CallOptions,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, {
      method: body === undefined ? 'GET' : 'POST',
      // JSON makes every cross-origin POST preflighted; no cookies: the session id is the capability.
      headers: body === undefined ? headers : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new GalaxyPayRequestError(url, 0);
  }
  if (!res.ok) {
    const answer = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    throw new GalaxyPayRequestError(url, res.status, answer?.error?.code);
  }
  return (await res.json()) as T;
}

const keys: Record<string, string> = {};

/**
 * This tab's secret for one order at one signer: the signer hands an open session back, and lets it be
 * cancelled, only to the browser holding it. Kept in sessionStorage so a reload (or a redirect return) in the
 * same tab still holds it; in memory where storage is refused (sandboxed frame, privacy mode).
 */
export function clientKeyFor(signer: string, orderRef: string): string {
  const name = `galaxy-pay:${signer} ${orderRef}`;
  // 128 random bits as four uint32s: at least 16 characters with the separators, in all but ~1e-18 of cases.
  const fresh = () => crypto.getRandomValues(new Uint32Array(4)).join('-');
  try {
    keys[name] ??= sessionStorage[name] ??= fresh();
  } catch {
    keys[name] ??= fresh();
  }
  return keys[name];
}

/** `POST {signer}/sessions`: the signer prices the order and opens (or returns) its session. */
export function createSession(
  signer: string,
  request: SessionRequest,
  options: CallOptions = {},
): Promise<CreatedSession> {
  return call(`${signer}/sessions`, options, request);
}
