/**
 * Saved cards and fast pay in the demo, on with no configuration (the demo mints its own token encryption
 * key and customer-handle secret at start): save a card while paying, pay the next order with it through the
 * hosted page, and the one after with FAST_PAY (the shop's back end charges it: no page, no OTP).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CARDS,
  checkoutFrame,
  chooseMode,
  launchBrowser,
  openShop,
  payButton,
  payOnHostedPage,
  placeOrder,
  screenshot,
  waitForWidgetEvent,
  withShopper,
  type Page,
  type Browser,
} from '../support/browser.js';
import { chooseOption } from '../support/demo.js';
import { adminOrder, startTestStack, storedSession, type DemoStack } from '../support/stack.js';

describe('demo: saved cards and fast pay', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** The widget's saved-cards chooser (in its dialog). */
  const chooser = (page: Page) => page.locator('galaxy-pay-button form.pick');

  async function newOrder(page: Page, products: string[]): Promise<string> {
    await page.locator('#continue').click();
    const orderRef = await placeOrder(page, products);
    // The choice is kept for the tab: the checkout asks the shop for a fresh handle and the cards.
    await page.locator('#saved-cards').waitFor();
    return orderRef;
  }

  it('saves a card, pays with it on the hosted page, then fast-pays with it', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const first = await placeOrder(page, ['lotus-tea']);
      await chooseMode(page, 'modal');
      await chooseOption(page, 'opt-saved');
      assert.match(String(await page.locator('#saved-cards').textContent()), /Chưa có thẻ nào/);
      assert.match(String(await page.locator('#pay').getAttribute('customer-handle')), /^gpch1\./);
      // The customer is a cookie the page cannot read; the page holds only the signed, expiring handle.
      assert.doesNotMatch(String(await page.evaluate('document.cookie')), /gp_demo_customer/);

      // 1. A new card, saved while paying.
      await payButton(page).click();
      await chooser(page).waitFor();
      await chooser(page).locator('input[name="save"]').check();
      await screenshot(page, 'demo-saved-cards-new');
      await chooser(page).locator('button.go').click();
      await payOnHostedPage(checkoutFrame(page), CARDS.internationalNon3ds);
      const saved = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(saved.detail?.status, 'paid');
      assert.equal(saved.detail?.orderRef, first);
      await page.locator('#receipt').waitFor();

      // 2. The next order offers it; paying with it goes through the hosted page (the shopper confirms).
      const second = await newOrder(page, ['phin']);
      const card = page.locator('#saved-cards [data-card]');
      assert.equal(await card.count(), 1);
      assert.match(String(await card.textContent()), /0064/);
      await payButton(page).click();
      await chooser(page).waitFor();
      const radio = chooser(page).locator('input[name="card"]').first();
      assert.ok(await radio.isChecked(), 'the saved card is chosen first');
      assert.match(String(await chooser(page).textContent()), /0064/);
      await chooser(page).locator('button.go').click();
      await new Promise(r => setTimeout(r, 3000)); await screenshot(page, "dbg-saved"); console.log("FRAMES", page.frames().map(f => f.url())); console.log('SHADOW', await page.locator("galaxy-pay-button").evaluate(el => (el as unknown as {shadowRoot: {innerHTML: string}}).shadowRoot.innerHTML)); console.log('EVENTS', JSON.stringify(await page.evaluate('window.__galaxyPayEvents')));
      await page.locator('#receipt').waitFor();
      const paidWithToken = await adminOrder(stack, second);
      assert.equal(paidWithToken.payments[0]!.status, 'paid');

      // 3. FAST_PAY: the shop's back end charges the saved card; no dialog, no widget event.
      const third = await newOrder(page, ['mug']);
      await page.locator('[data-fast-pay]').click();
      await page.locator('#receipt[data-status="paid"]').waitFor();
      assert.equal(await page.locator('#receipt-order').textContent(), third);
      await screenshot(page, 'demo-fast-pay-receipt');
      const fast = await adminOrder(stack, third);
      assert.equal(fast.payments[0]!.status, 'paid');
      const { session } = await storedSession(stack, fast.payments[0]!.sessionId);
      assert.equal(session.plan?.op, 'fast_pay');
      assert.equal(session.amount, 120_000);
    });
  });
});
