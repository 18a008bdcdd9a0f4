/**
 * The whole product for one test file: the demo stack (sandbox + signer + shop) on 127.0.0.1 ephemeral
 * ports with test timings, and helpers that read the signer's stored state.
 */

import assert from 'node:assert/strict';
import { startDemo, type DemoOptions, type DemoStack } from '@galaxy-pay/demo';
import type { Session, Store } from '@galaxy-pay/server';

type PaymentEvent = Awaited<ReturnType<Store['listEvents']>>[number];

export type { DemoStack };

/** Starts the stack with fast IPN retries and rate limits out of the way. */
export async function startTestStack(options: DemoOptions = {}): Promise<DemoStack> {
  return startDemo({
    ...options,
    sandbox: { ipnRetryDelaysMs: [50, 100, 200, 400], ipnTimeoutMs: 2000, ...options.sandbox },
    signer: {
      rateLimits: { create: 10_000, read: 10_000, admin: 10_000 },
      reconcile: { staleAfterMs: 60_000, intervalMs: 3_600_000 },
      ...options.signer,
    },
  });
}

/** Sets the sandbox's global faults (applied to every order until reset), e.g. `no-ipn`. */
export async function setSandboxFaults(
  stack: Pick<DemoStack, 'sandboxUrl'>,
  faults: string,
): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ faults }),
  });
  if (!res.ok) throw new Error(`sandbox faults: ${res.status} ${await res.text()}`);
}

/** The signer's record of one order, through its admin API (what the back office sees). */
export async function adminOrder(
  stack: DemoStack,
  orderRef: string,
): Promise<{
  order: { orderRef: string; amount: number; currency: string; description: string };
  payments: Array<{ sessionId: string; status: string; transactionId: string | null }>;
}> {
  const res = await fetch(`${stack.signerUrl}/admin/orders/${orderRef}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  if (!res.ok) throw new Error(`admin order ${orderRef}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Awaited<ReturnType<typeof adminOrder>>;
}

/** The stored session and its evidence trail. */
export async function storedSession(
  stack: Pick<DemoStack, 'store'>,
  sessionId: string,
): Promise<{ session: Session; events: PaymentEvent[] }> {
  const session = await stack.store.getSession(sessionId);
  if (!session) throw new Error(`session ${sessionId} is not in the store`);
  return { session, events: await stack.store.listEvents(sessionId) };
}

/** IPN attempts the sandbox made for a transaction. */
export async function sandboxIpns(
  stack: Pick<DemoStack, 'sandboxUrl'>,
  transactionId: string,
): Promise<
  Array<{
    deliveryId: number;
    attempt: number;
    acknowledged: boolean;
    answer?: { ipnStatus?: string };
  }>
> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/ipn?transactionID=${transactionId}`);
  return (await res.json()) as Awaited<ReturnType<typeof sandboxIpns>>;
}

/** A JSON request; the answer's status and parsed body. */
export async function callJson(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The same, failing unless the answer is 2xx. */
export async function callJsonOk(
  url: string,
  init: Parameters<typeof callJson>[1] = {},
): Promise<Record<string, unknown>> {
  const { status, body } = await callJson(url, init);
  assert.ok(status >= 200 && status < 300, `${url}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * A paid order without a browser: the shop registers it, the signer opens a session as the widget would,
 * the sandbox completes it with the domestic test card (the IPN awaited), and the shop hears of it.
 */
export async function payWithoutBrowser(
  stack: DemoStack,
  items: Array<{ id: string; quantity: number }>,
): Promise<string> {
  const order = await callJsonOk(`${stack.shopUrl}/api/orders`, { body: { items } });
  const orderRef = String(order.orderRef);
  const session = await callJsonOk(`${stack.signerUrl}/sessions`, {
    headers: { origin: stack.shopUrl },
    body: { orderRef },
  });
  const transactionId = String(session.checkoutUrl).split('/').pop();
  await callJsonOk(
    `${stack.sandboxUrl}/__sandbox/transactions/${transactionId}/complete?wait=ipn`,
    {
      body: { outcome: 'success', card: '9704000000000018' },
    },
  );
  await shopHears(stack, orderRef, 'paid');
  return orderRef;
}

/** Waits until the shop's own record of the order (kept by the signer's webhook) has `status`. */
export async function shopHears(
  stack: Pick<DemoStack, 'orders'>,
  orderRef: string,
  status: string,
): Promise<void> {
  await eventually(
    () => stack.orders.get(orderRef)?.status === status,
    10_000,
    `the shop's record of ${orderRef} ${status} (webhook)`,
  );
}

/** Polls until `check` returns a truthy value or the deadline passes (then throws). */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}
