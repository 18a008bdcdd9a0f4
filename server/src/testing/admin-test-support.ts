/** Helpers for tests of the admin API (operations, saved cards, links, CLI). */

import assert from 'node:assert/strict';
import { completeInSandbox, transactionIdOf, widgetCall, type Stack } from './test-support.js';

/** A parsed JSON answer, read loosely in assertions (a wrong path fails the assertion, not the compile). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only reader of arbitrary JSON
export type Loose = Record<string, any>;

export const ADMIN = 'test-admin-token-0123456789abcdef0123';

/** Calls the admin API as the merchant's back office. */
export async function admin(
  stack: Pick<Stack, 'signerUrl'>,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Loose; headers: Headers }> {
  const res = await fetch(`${stack.signerUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      'x-operator': 'alice',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: (text ? JSON.parse(text) : {}) as Loose,
    headers: res.headers,
  };
}

/** How many calls the sandbox received on one endpoint. */
export async function gatewayCalls(stack: Stack, endpoint: string): Promise<number> {
  const res = await fetch(
    `${stack.sandboxUrl}/__sandbox/requests?path=/api/v1/transaction/${endpoint}`,
  );
  return ((await res.json()) as unknown[]).length;
}

/** Opens a session for `orderRef` through the widget route and pays it in the sandbox. */
export async function paidOrder(
  stack: Stack,
  orderRef: string,
  amount: number,
  options: { card?: string; body?: Record<string, unknown> } = {},
): Promise<{ sessionId: string; transactionId: string }> {
  const registered = await admin(stack, 'POST', '/admin/orders', {
    orderRef,
    amount,
    description: `Order ${orderRef}`,
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.json));
  const created = await widgetCall(stack, 'POST', '/sessions', { orderRef, ...options.body });
  assert.equal(created.status, 201, created.text);
  const transactionId = transactionIdOf(created.json.checkoutUrl);
  await completeInSandbox(stack, transactionId, 'success', { card: options.card });
  return { sessionId: String(created.json.sessionId), transactionId };
}
