/**
 * Paying by card in the modal, on the script-tag page: the shopper fills the sandbox's hosted page inside
 * the widget's dialog. Each journey checks the DOM event's detail and the signer's stored session.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CARDS,
  chooseMode,
  checkoutFrame,
  launchBrowser,
  openShop,
  payButton,
  payOnHostedPage,
  placeOrder,
  recordedEvents,
  screenshot,
  waitForWidgetEvent,
  withShopper,
  type Browser,
  type TestCardInput,
} from '../support/browser.js';
import { eventually, startTestStack, storedSession, type DemoStack } from '../support/stack.js';

describe('paying by card in the modal', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function payInModal(card: TestCardInput, name: string, products = ['robusta', 'phin']) {
    return withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, products);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), card, { screenshotOf: page, name });
      const outcome = await Promise.race([
        waitForWidgetEvent(page, 'galaxy-pay-result'),
        waitForWidgetEvent(page, 'galaxy-pay-cancel'),
      ]);
      return { page, orderRef, outcome, events: await recordedEvents(page) };
    });
  }

  it('pays with a domestic card and its OTP: receipt, one paid result, session paid by the IPN', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      await screenshot(page, 'shop-home');
      const orderRef = await placeOrder(page, ['robusta', 'phin']);
      await screenshot(page, 'shop-checkout');
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp, {
        screenshotOf: page,
        name: 'modal-domestic-card',
      });

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      await page.locator('#receipt').waitFor();
      await screenshot(page, 'receipt');

      assert.deepEqual(
        { ...result.detail, sessionId: undefined, transactionId: undefined },
        {
          status: 'paid',
          sessionId: undefined,
          orderRef,
          amount: 220_000,
          currency: 'VND',
          transactionId: undefined,
          code: '200',
          message: result.detail?.message,
        },
      );
      assert.match(String(result.detail?.transactionId), /^\d+$/);
      assert.equal(await page.locator('#receipt-order').textContent(), orderRef);
      assert.equal(
        await page.locator('#receipt-transaction').textContent(),
        result.detail?.transactionId,
      );
      const events = await recordedEvents(page);
      assert.equal(events.filter(event => event.type === 'galaxy-pay-result').length, 1);
      assert.deepEqual(
        events.map(event => event.type),
        ['galaxy-pay-open', 'galaxy-pay-close', 'galaxy-pay-result'],
      );

      const { session, events: evidence } = await storedSession(
        stack,
        String(result.detail?.sessionId),
      );
      assert.equal(session.status, 'paid');
      assert.equal(session.orderRef, orderRef);
      assert.equal(session.amount, 220_000);
      assert.equal(session.transactionId, result.detail?.transactionId);
      assert.equal(session.paymentMethod, 'DOMESTIC');
      assert.ok(
        evidence.some(e => e.kind === 'ipn' && e.verified && e.verdict === 'applied'),
        'a verified IPN moved the session',
      );
      // The shop's back end heard about it through the signer's signed webhook.
      await eventually(() => stack.orders.get(orderRef)?.status === 'paid', 10_000, 'webhook');
    });
  });

  for (const [name, card, screenshotName] of [
    ['an international 3-D Secure card (OTP)', CARDS.international3ds, 'modal-international-3ds'],
    ['an international card without 3-D Secure', CARDS.internationalNon3ds, 'modal-international'],
  ] as const) {
    it(`pays with ${name}`, async () => {
      const { orderRef, outcome } = await payInModal(card, screenshotName, ['lotus-tea']);

      assert.equal(outcome.type, 'galaxy-pay-result');
      assert.equal(outcome.detail?.status, 'paid');
      assert.equal(outcome.detail?.orderRef, orderRef);
      assert.equal(outcome.detail?.amount, 240_000);
      const { session } = await storedSession(stack, String(outcome.detail?.sessionId));
      assert.equal(session.status, 'paid');
      assert.equal(session.paymentMethod, 'INTERNATIONAL');
      assert.equal(session.transactionId, outcome.detail?.transactionId);
    });
  }

  it('reports a declined card as failed, in plain words, and lets the shopper try again', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['mug']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.internationalDeclined);

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'failed');
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(result.detail?.code, '505');
      await page.locator('.notice.error').waitFor();
      assert.match(String(await page.locator('.notice.error').textContent()), /chưa thành công/);
      await screenshot(page, 'declined');
      const { session } = await storedSession(stack, String(result.detail?.sessionId));
      assert.equal(session.status, 'failed');
      assert.equal(session.code, '505');

      // Same order, a good card: a new session, paid.
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp);
      await page.locator('#receipt').waitFor();
      const results = (await recordedEvents(page)).filter(e => e.type === 'galaxy-pay-result');
      assert.equal(results.length, 2);
      assert.equal(results[1]!.detail?.status, 'paid');
      assert.notEqual(results[1]!.detail?.sessionId, result.detail?.sessionId);
      const paid = await storedSession(stack, String(results[1]!.detail?.sessionId));
      assert.equal(paid.session.status, 'paid');
    });
  });

  it('fails the payment on a wrong OTP', async () => {
    const { orderRef, outcome } = await payInModal(
      { ...CARDS.domesticOtp, otp: '123456' },
      'modal-wrong-otp',
      ['banh-pia'],
    );

    assert.equal(outcome.type, 'galaxy-pay-result');
    assert.equal(outcome.detail?.status, 'failed');
    assert.equal(outcome.detail?.orderRef, orderRef);
    assert.equal(outcome.detail?.amount, 85_000);
    const { session } = await storedSession(stack, String(outcome.detail?.sessionId));
    assert.equal(session.status, 'failed');
    assert.equal(session.code, '505');
  });

  it('declines a domestic card after its OTP', async () => {
    const { outcome } = await payInModal(CARDS.domesticDeclined, 'modal-domestic-declined', [
      'phin',
    ]);

    assert.equal(outcome.detail?.status, 'failed');
    const { session } = await storedSession(stack, String(outcome.detail?.sessionId));
    assert.equal(session.status, 'failed');
  });
});
