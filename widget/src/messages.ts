/**
 * The return page's message (`server/src/routes/return.ts`): `{type: 'galaxy-pay:return', sessionId, nonce}`.
 * It only makes the button ask the signer, so it is accepted only when everything matches exactly; anything
 * else is ignored silently (docs/reliability.md §4, T33).
 */

export interface ExpectedMessage {
  /** The signer's origin, built with `new URL(…).origin`: compared for equality, never by prefix. */
  origin: string;
  /** The popup or the iframe's window: origin alone cannot tell two windows of one origin apart. */
  source: MessageEventSource | null | undefined;
  sessionId: string;
  nonce: string;
}

export function isReturnMessage(event: MessageEvent, expected: ExpectedMessage): boolean {
  const data: unknown = event.data;
  if (event.origin !== expected.origin || !expected.source || event.source !== expected.source) {
    return false;
  }
  if (typeof data !== 'object' || data === null) return false;
  const message = data as Record<string, unknown>;
  return (
    message.type === 'galaxy-pay:return' &&
    message.sessionId === expected.sessionId &&
    message.nonce === expected.nonce
  );
}
