/**
 * The demo shop learns of refunds from the signer's webhook (issue 11 §8): its order page no longer says
 * "paid" once the back office refunds. No browser: the shop's and the signer's HTTP APIs, and the sandbox.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startTestStack, type DemoStack } from '../support/stack.js';

describe('demo shop refunds', () => {
  let stack: DemoStack;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  async function json(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
    const res = await fetch(url, init);
    const body = (await res.json()) as Record<string, unknown>;
    assert.ok(res.ok, `${url}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  function refund(orderRef: string, amount: number) {
    return json(`${stack.signerUrl}/admin/orders/${orderRef}/refund`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.adminToken}`,
        'content-type': 'application/json',
        'idempotency-key': `${orderRef}-${amount}`,
      },
      body: JSON.stringify({ amount }),
    });
  }

  it('shows an order partially refunded, then refunded, from the refund webhooks', async () => {
    const order = await json(`${stack.shopUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ id: 'phin', quantity: 2 }] }),
    });
    const orderRef = String(order.orderRef);
    const session = await json(`${stack.signerUrl}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.shopUrl },
      body: JSON.stringify({ orderRef }),
    });
    const transactionId = String(session.checkoutUrl).split('/').pop();
    await json(`${stack.sandboxUrl}/__sandbox/transactions/${transactionId}/complete?wait=ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'success', card: '9704000000000018' }),
    });
    await eventually(() => stack.orders.get(orderRef)?.status === 'paid', 10_000, 'paid webhook');

    await refund(orderRef, 40_000);
    await eventually(
      () => stack.orders.get(orderRef)?.status === 'partially_refunded',
      10_000,
      'refund webhook',
    );
    await refund(orderRef, 70_000);
    await eventually(() => stack.orders.get(orderRef)?.status === 'refunded', 10_000, 'refunded');

    const shown = await json(`${stack.shopUrl}/api/orders/${orderRef}`);
    assert.deepEqual([shown.status, shown.refunded, shown.amount], ['refunded', 110_000, 110_000]);
  });
});
