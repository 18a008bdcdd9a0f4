/**
 * The demo shop learns of refunds from the signer's webhook (issue 11 §8): its order page no longer says
 * "paid" once the back office refunds. No browser: the shop's and the signer's HTTP APIs, and the sandbox.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callJsonOk, useWalk } from './support/index.js';

describe('demo shop refunds', () => {
  const walk = useWalk({ browser: false });

  /** The back office's refund, through the signer's admin API. */
  const refund = (orderRef: string, amount: number) =>
    callJsonOk(`${walk.stack.signerUrl}/admin/orders/${orderRef}/refund`, {
      headers: {
        authorization: `Bearer ${walk.stack.adminToken}`,
        'idempotency-key': `${orderRef}-${amount}`,
      },
      body: { amount },
    });

  it('shows an order partially refunded, then refunded, from the refund webhooks', async () => {
    const orderRef = await walk.paidOrder([{ id: 'phin', quantity: 2 }]);

    await refund(orderRef, 40_000);
    await walk.shopHears(orderRef, 'partially_refunded');
    await refund(orderRef, 70_000);
    await walk.shopHears(orderRef, 'refunded');

    const shown = await callJsonOk(`${walk.stack.shopUrl}/api/orders/${orderRef}`);
    assert.deepEqual([shown.status, shown.refunded, shown.amount], ['refunded', 110_000, 110_000]);
  });
});
