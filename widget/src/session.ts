/**
 * An open session at the signer (server/README.md): read its verified status, watch it until it is final
 * (Server-Sent Events first, polling when the stream fails), cancel it. Loaded lazily with the rest of the
 * checkout (`extras.ts`): nothing needs it before the signer has opened the session.
 */

import { call, type CallOptions } from './signer-client.js';
import type { CancelReason, SessionView } from './types.js';

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
 * Calls `onView` with every status the signer reports until a final one or `signal` aborts (nothing at all if
 * it already has): SSE first, and polling if the stream fails (proxies that buffer, old webviews). `check()`
 * asks at once (a message arrived, the popup closed); a failed check is not an error, the next poll or event
 * will tell.
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
  if (signal?.aborted) return { check };
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
