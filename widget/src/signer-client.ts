/**
 * The signer's HTTP API as the widget uses it (server/README.md): open a session, read its verified status,
 * cancel it, and watch it through Server-Sent Events with a polling fallback. No DOM, no element state.
 */

import type { CancelReason, CreatedSession, SessionRequest, SessionView } from './types.js';

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

/** `GET {signer}/sessions/:id`: the verified status (a stale `pending` makes the signer ask the gateway). */
export function getSession(
  signer: string,
  id: string,
  options: CallOptions = {},
): Promise<SessionView> {
  return call(`${signer}/sessions/${encodeURIComponent(id)}`, options);
}

/** `POST {signer}/sessions/:id/cancel`: the signer asks the gateway first, so a late payment stays paid. */
export function cancelSession(
  signer: string,
  id: string,
  reason: Extract<CancelReason, 'user' | 'closed'>,
  options: CallOptions = {},
  clientKey?: string,
): Promise<SessionView> {
  return call(`${signer}/sessions/${encodeURIComponent(id)}/cancel`, options, {
    reason,
    clientKey,
  });
}

export interface WatchOptions extends CallOptions {
  /** Polling interval when Server-Sent Events are unavailable. Default 2 s. */
  pollMs?: number;
  /** Set to false to poll only. */
  sse?: boolean;
}

/** Final statuses: nothing moves on its own after them, so watching stops. */
export const isFinal = (view: SessionView): boolean =>
  view.status !== 'pending' && view.status !== 'pending_unknown';

/**
 * Calls `onView` with every status the signer reports until a final one or `signal` aborts: SSE first, and
 * polling if the stream fails (proxies that buffer, old webviews). `check()` asks at once (a message arrived,
 * the popup closed); a failed check is not an error, the next poll or event will tell.
 */
export function watchSession(
  signer: string,
  id: string,
  onView: (view: SessionView) => void,
  options: WatchOptions = {},
): { check(): Promise<void> } {
  const { signal } = options;
  let stopped = false;
  const deliver = (view: SessionView) => {
    if (stopped || signal?.aborted) return;
    if (isFinal(view)) stopped = true;
    onView(view);
  };
  const check = () => getSession(signer, id, options).then(deliver, () => undefined);
  const poll = () => {
    const timer = setInterval(() => {
      if (stopped || signal?.aborted) clearInterval(timer);
      else void check();
    }, options.pollMs ?? 2000);
    signal?.addEventListener('abort', () => clearInterval(timer));
  };
  if (options.sse !== false && typeof EventSource === 'function') {
    const source = new EventSource(`${signer}/sessions/${encodeURIComponent(id)}/events`);
    const close = () => source.close();
    signal?.addEventListener('abort', close);
    source.addEventListener('status', event => {
      try {
        deliver(JSON.parse((event as MessageEvent<string>).data) as SessionView);
      } catch {
        // Not JSON: ignore it, the signer always sends a full view next time.
      }
      if (stopped) close();
    });
    // The stream ended or broke before a final status: EventSource would reconnect forever, poll instead.
    source.onerror = () => {
      close();
      if (!stopped) poll();
    };
  } else {
    poll();
  }
  return { check };
}
