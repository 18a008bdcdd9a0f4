/**
 * The server-to-server notification misbehaving (sandbox faults): late, never sent (the signer reconciles
 * with the gateway's query API), and sent several times (one receipt). The browser only ever shows what the
 * signer verified.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, eventually, useWalk, type Shopper } from './support/index.js';

describe('IPN faults', () => {
  const walk = useWalk();

  /** Pays for `products` in the modal with the domestic card; returns the order and the shown result. */
  async function pay(shopper: Shopper, products: string[]) {
    const orderRef = await shopper.checkout(products, { mode: 'modal' });
    await shopper.pressPay();
    await shopper.hostedPage.pay(CARDS.domesticOtp);
    const result = await shopper.result();
    await shopper.receipt();
    return { orderRef, result, ...(await walk.storedSession(result.sessionId)) };
  }

  /** Waits until the sandbox's IPNs for the session's transaction have been acknowledged `count` times. */
  const acknowledged = (transactionId: string | null, count: number) =>
    eventually(
      async () =>
        (await walk.sandboxIpns(String(transactionId))).filter(a => a.acknowledged).length >= count,
      15_000,
      `${count} IPN(s) acknowledged`,
    );

  it('never sent: the signer settles the payment with the query API', async () => {
    await walk.sandboxFaults('no-ipn');

    const { orderRef, result } = await walk.shopper(shopper => pay(shopper, ['robusta']));

    assert.equal(result.status, 'paid');
    assert.equal(result.orderRef, orderRef);
    const { session, events } = await walk.storedSession(result.sessionId);
    assert.equal(session.status, 'paid');
    const ipns = events.filter(event => event.kind === 'ipn');
    assert.equal(ipns.length, 0, 'no IPN reached the signer');
    assert.ok(events.some(e => e.kind === 'query' && e.verified && e.verdict === 'applied'));
    assert.deepEqual(await walk.sandboxIpns(String(session.transactionId)), []);
  });

  it('late: the shopper gets the result first; the late IPN is acknowledged and changes nothing', async () => {
    await walk.sandboxFaults('late:1.5');

    const { sessionId } = await walk.shopper(async shopper => {
      const { result, session } = await pay(shopper, ['mug']);
      assert.equal(result.status, 'paid');
      // The IPN lands later (a positive signal), and only then: the page reported nothing again.
      await acknowledged(session.transactionId, 1);
      assert.equal((await shopper.results()).length, 1);
      return result;
    });

    const { session, events } = await walk.storedSession(sessionId);
    assert.equal(session.status, 'paid');
    const ipn = events.filter(event => event.kind === 'ipn');
    assert.equal(ipn.length, 1);
    assert.ok(ipn[0]!.verified);
    // Exactly one piece of evidence moved the session to paid, and it was not the (late) IPN.
    const applied = events.filter(event => event.verdict === 'applied');
    assert.equal(applied.length, 1);
    assert.notEqual(applied[0]!.kind, 'ipn');
  });

  it('sent three times: one receipt, one transition, every copy acknowledged', async () => {
    await walk.sandboxFaults('dup:3');

    const { orderRef, result, session } = await walk.shopper(async shopper => {
      const paid = await pay(shopper, ['phin', 'lotus-tea']);
      await acknowledged(paid.session.transactionId, 3);
      assert.equal((await shopper.results()).length, 1);
      assert.equal(await shopper.page.locator('#receipt').count(), 1);
      return paid;
    });

    assert.equal(result.status, 'paid');
    assert.equal(result.amount, 295_000);
    const stored = await walk.storedSession(session.id);
    assert.equal(stored.session.status, 'paid');
    const { events } = stored;
    assert.equal(events.filter(event => event.kind === 'ipn').length, 3);
    assert.equal(events.filter(event => event.verdict === 'applied').length, 1);
    // The shop was told once that the order is paid.
    await walk.shopHears(orderRef, 'paid');
    assert.deepEqual(
      walk.stack.orders.get(orderRef)?.notices.filter(id => id.endsWith(':paid')),
      [`${session.id}:paid`],
    );
  });
});
