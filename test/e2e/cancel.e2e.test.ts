/**
 * Leaving without paying: the cancel button on the hosted page, and closing the widget's dialog. A cancel is
 * only reported once the signer has confirmed it (it asks the gateway first).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CARDS,
  cancelOnHostedPage,
  checkoutFrame,
  chooseMode,
  launchBrowser,
  openShop,
  payButton,
  placeOrder,
  recordedEvents,
  screenshot,
  waitForWidgetEvent,
  withShopper,
  type Browser,
} from '../support/browser.js';
import { startTestStack, storedSession, type DemoStack } from '../support/stack.js';

describe('leaving the payment', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('cancels on the hosted page: a friendly message, the session cancelled by the gateway', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['robusta']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await cancelOnHostedPage(checkoutFrame(page));

      const cancel = await waitForWidgetEvent(page, 'galaxy-pay-cancel');
      assert.deepEqual(cancel.detail, {
        reason: 'gateway',
        sessionId: cancel.detail?.sessionId,
        orderRef,
      });
      await page.locator('.notice.warn').waitFor();
      assert.match(String(await page.locator('.notice.warn').textContent()), /đã huỷ thanh toán/);
      await screenshot(page, 'cancelled-on-hosted-page');
      const types = (await recordedEvents(page)).map(event => event.type);
      assert.ok(!types.includes('galaxy-pay-result'));
      const { session, events } = await storedSession(stack, String(cancel.detail?.sessionId));
      assert.equal(session.status, 'cancelled');
      assert.equal(session.cancelReason, 'gateway');
      assert.ok(events.some(event => event.verified && event.verdict === 'applied'));
    });
  });

  it('closing the dialog asks the signer, which cancels the unpaid session (reason user)', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl, '/?lang=en');
      const orderRef = await placeOrder(page, ['mug', 'phin']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      // The hosted page is up (the shopper sees the method choice), then they close the dialog.
      await checkoutFrame(page).locator(`a[href*="method=${CARDS.domesticOtp.method}"]`).waitFor();
      await page.locator('galaxy-pay-button dialog .x').click();

      const cancel = await waitForWidgetEvent(page, 'galaxy-pay-cancel');
      assert.deepEqual(cancel.detail, {
        reason: 'user',
        sessionId: cancel.detail?.sessionId,
        orderRef,
      });
      await page.locator('.notice.warn').waitFor();
      assert.match(String(await page.locator('.notice.warn').textContent()), /cancelled/);
      assert.equal(await page.locator('galaxy-pay-button dialog[open]').count(), 0);
      await screenshot(page, 'closed-dialog-en');
      const types = (await recordedEvents(page)).map(event => event.type);
      assert.deepEqual(types, ['galaxy-pay-open', 'galaxy-pay-close', 'galaxy-pay-cancel']);
      const { session, events } = await storedSession(stack, String(cancel.detail?.sessionId));
      assert.equal(session.status, 'cancelled');
      assert.equal(session.cancelReason, 'user');
      // Verified: the signer asked the gateway before cancelling.
      assert.ok(events.some(event => event.kind === 'query' && event.verified));
    });
  });
});
