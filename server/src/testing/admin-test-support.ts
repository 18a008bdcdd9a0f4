/** Helpers for tests of the admin API (operations, saved cards, links, CLI). */

import assert from 'node:assert/strict';
import {
  completeInSandbox,
  eventually,
  sandboxRequests,
  setGatewayFaults,
  transactionIdOf,
  widgetCall,
  type Stack,
} from './test-support.js';

/** A parsed JSON answer, read loosely in assertions (a wrong path fails the assertion, not the compile). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only reader of arbitrary JSON
export type Loose = Record<string, any>;

export const ADMIN = 'test-admin-token-0123456789abcdef0123';

/** The documented sandbox card that pays internationally without an OTP step (held, with manual capture). */
export const INTERNATIONAL_NO_OTP = '4012000033330026';

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
  return (await sandboxRequests(stack, `/api/v1/transaction/${endpoint}`)).length;
}

/**
 * Registers `orderRef` through the admin API (its description carrying sandbox `faults`, if any), opens a
 * session for it through the widget route and pays it in the sandbox (waiting for the IPN, unless `wait`
 * is false). `callback` is where the hosted page sent the shopper, if anywhere.
 */
export async function paidOrder(
  stack: Stack,
  orderRef: string,
  amount: number,
  options: { card?: string; body?: Record<string, unknown>; faults?: string; wait?: boolean } = {},
): Promise<{ sessionId: string; transactionId: string; callback: unknown }> {
  const registered = await admin(stack, 'POST', '/admin/orders', {
    orderRef,
    amount,
    description: `Order ${orderRef}${options.faults ? ` sandbox:${options.faults}` : ''}`,
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.json));
  const created = await widgetCall(stack, 'POST', '/sessions', { orderRef, ...options.body });
  assert.equal(created.status, 201, created.text);
  const transactionId = transactionIdOf(created.json.checkoutUrl);
  const { callback } = await completeInSandbox(stack, transactionId, 'success', {
    card: options.card,
    wait: options.wait,
  });
  return { sessionId: String(created.json.sessionId), transactionId, callback };
}

/** An international payment for 250,000 held as an authorization (manual capture), once it is stored. */
export async function authorizedOrder(
  stack: Stack,
  orderRef: string,
  faults = '',
): Promise<{ sessionId: string; transactionId: string }> {
  const paid = await paidOrder(stack, orderRef, 250_000, {
    card: INTERNATIONAL_NO_OTP,
    body: { paymentMethod: 'INTERNATIONAL' },
    faults,
  });
  await eventually(
    async () => (await stack.store.getSession(paid.sessionId))?.status === 'authorized',
  );
  return paid;
}

/** `POST /admin/orders/:ref/refund` with an Idempotency-Key. */
export function refundOrder(
  stack: Pick<Stack, 'signerUrl'>,
  orderRef: string,
  amount: number,
  key: string,
) {
  return admin(
    stack,
    'POST',
    `/admin/orders/${orderRef}/refund`,
    { amount },
    { 'idempotency-key': key },
  );
}

/**
 * A refund the gateway makes but whose answer is lost (the socket reset after the work), then its re-send
 * with the same Idempotency-Key: both answers.
 */
export async function refundWithLostAnswer(stack: Stack, orderRef: string, amount: number) {
  const key = `${orderRef}-k`;
  await setGatewayFaults(stack, 'reset@refund');
  const first = await refundOrder(stack, orderRef, amount, key);
  await setGatewayFaults(stack, '');
  const retry = await refundOrder(stack, orderRef, amount, key);
  return { first, retry };
}

/** `POST /admin/orders/:ref/<operation>` (capture, void, query) with an empty body. */
export function operate(
  stack: Pick<Stack, 'signerUrl'>,
  orderRef: string,
  operation: 'capture' | 'void' | 'query',
) {
  return admin(stack, 'POST', `/admin/orders/${orderRef}/${operation}`, {});
}

/** `GET /admin/orders/:ref`, which must answer 200. */
export async function shownOrder(
  stack: Pick<Stack, 'signerUrl'>,
  orderRef: string,
): Promise<Loose> {
  const res = await admin(stack, 'GET', `/admin/orders/${orderRef}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}
