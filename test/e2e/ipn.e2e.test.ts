/**
 * The server-to-server notification misbehaving (sandbox faults): late, never sent (the signer reconciles
 * with the gateway's query API), and sent several times (one receipt). The browser only ever shows what the
 * signer verified.
 */

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  CARDS,
  checkoutFrame,
  chooseMode,
  launchBrowser,
  openShop,
  payButton,
  payOnHostedPage,
  placeOrder,
  recordedEvents,
  waitForWidgetEvent,
  withShopper,
  type Browser,
} from '../support/browser.js';
import {
  eventually,
  sandboxIpns,
  setSandboxFaults,
  startTestStack,
  storedSession,
  type DemoStack,
} from '../support/stack.js';

describe('IPN faults', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  afterEach(async () => {
    await setSandboxFaults(stack, '');
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Pays one order in the modal with the domestic card; returns the result event and every event. */
  async function pay(products: string[]) {
    return withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, products);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp);
      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      await page.locator('#receipt').waitFor();
      return { orderRef, result, page };
    });
  }

  it('never sent: the signer settles the payment with the query API', async () => {
    await setSandboxFaults(stack, 'no-ipn');

    const { orderRef, result } = await pay(['robusta']);

    assert.equal(result.detail?.status, 'paid');
    assert.equal(result.detail?.orderRef, orderRef);
    const { session, events } = await storedSession(stack, String(result.detail?.sessionId));
    assert.equal(session.status, 'paid');
    assert.equal(
      events.filter(event => event.kind === 'ipn').length,
      0,
      'no IPN reached the signer',
    );
    assert.ok(events.some(e => e.kind === 'query' && e.verified && e.verdict === 'applied'));
    assert.deepEqual(await sandboxIpns(stack, String(session.transactionId)), []);
  });

  it('late: the shopper gets the result first; the late IPN is acknowledged and changes nothing', async () => {
    await setSandboxFaults(stack, 'late:1.5');

    const { result } = await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['mug']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp);
      const paid = await waitForWidgetEvent(page, 'galaxy-pay-result');
      const { session } = await storedSession(stack, String(paid.detail?.sessionId));
      // The IPN lands later; the page must not report anything again.
      await eventually(
        async () =>
          (await sandboxIpns(stack, String(session.transactionId))).some(a => a.acknowledged),
        15_000,
        'the late IPN acknowledged',
      );
      const results = (await recordedEvents(page)).filter(e => e.type === 'galaxy-pay-result');
      assert.equal(results.length, 1);
      return { orderRef, result: paid };
    });

    assert.equal(result.detail?.status, 'paid');
    const { session, events } = await storedSession(stack, String(result.detail?.sessionId));
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
    await setSandboxFaults(stack, 'dup:3');

    const { orderRef, result } = await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const ref = await placeOrder(page, ['phin', 'lotus-tea']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp);
      const paid = await waitForWidgetEvent(page, 'galaxy-pay-result');
      await page.locator('#receipt').waitFor();
      const { session } = await storedSession(stack, String(paid.detail?.sessionId));
      await eventually(
        async () => {
          const attempts = await sandboxIpns(stack, String(session.transactionId));
          return attempts.filter(a => a.acknowledged).length >= 3;
        },
        15_000,
        'three IPNs acknowledged',
      );
      const types = (await recordedEvents(page)).map(e => e.type);
      assert.equal(types.filter(type => type === 'galaxy-pay-result').length, 1);
      assert.equal(await page.locator('#receipt').count(), 1);
      return { orderRef: ref, result: paid };
    });

    assert.equal(result.detail?.status, 'paid');
    assert.equal(result.detail?.amount, 295_000);
    const { session, events } = await storedSession(stack, String(result.detail?.sessionId));
    assert.equal(session.status, 'paid');
    assert.equal(events.filter(event => event.kind === 'ipn').length, 3);
    assert.equal(events.filter(event => event.verdict === 'applied').length, 1);
    // The shop was told once that the order is paid.
    await eventually(() => stack.orders.get(orderRef)?.status === 'paid', 10_000, 'webhook');
    assert.deepEqual(
      stack.orders.get(orderRef)?.notices.filter(id => id.endsWith(':paid')),
      [`${session.id}:paid`],
    );
  });
});
