/**
 * Each way of showing the hosted page: popup (on the SPA page), full redirect, `auto` on a phone, and a
 * blocked popup falling back to the modal. (The modal itself is covered by cards.e2e.test.ts.)
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
  recordedEvents,
  screenshot,
  waitForWidgetEvent,
  withShopper,
  type Browser,
} from '../support/browser.js';
import { eventually, startTestStack, storedSession, type DemoStack } from '../support/stack.js';

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36',
};

describe('presentation modes', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('pays in a popup from the SPA page (widget imported as an ES module)', async () => {
    await withShopper(browser, async (page, context) => {
      await openShop(page, stack.shopUrl, '/spa');
      const orderRef = await placeOrder(page, ['lotus-tea']);
      await chooseMode(page, 'popup');
      const [popup] = await Promise.all([context.waitForEvent('page'), payButton(page).click()]);
      await popup.setViewportSize({ width: 480, height: 720 });
      await payOnHostedPage(popup, CARDS.domesticOtp, { screenshotOf: popup, name: 'popup' });

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      const open = await waitForWidgetEvent(page, 'galaxy-pay-open');
      assert.equal(open.detail?.mode, 'popup');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(result.detail?.amount, 240_000);
      await page.locator('#receipt').waitFor();
      // The widget closes its popup once the signer has answered.
      await eventually(() => popup.isClosed(), 10_000, 'popup closed');
      await screenshot(page, 'spa-receipt');
      const { session } = await storedSession(stack, String(result.detail?.sessionId));
      assert.equal(session.status, 'paid');
      assert.equal(session.transactionId, result.detail?.transactionId);
    });
  });

  it('pays through a full-page redirect and reports the result after coming back', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['banh-pia', 'banh-pia']);
      await chooseMode(page, 'redirect');
      await Promise.all([
        page.waitForURL(url => url.href.startsWith(stack.sandboxUrl)),
        payButton(page).click(),
      ]);
      await payOnHostedPage(page, CARDS.international3ds, {
        screenshotOf: page,
        name: 'redirect-hosted-page',
      });
      await page.waitForURL(url => url.href.startsWith(stack.shopUrl));

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(result.detail?.amount, 170_000);
      await page.locator('#receipt').waitFor();
      await screenshot(page, 'redirect-receipt');
      // The return parameter is consumed: a reload does not report the payment again.
      assert.ok(!page.url().includes('galaxy_pay_session'));
      const { session } = await storedSession(stack, String(result.detail?.sessionId));
      assert.equal(session.status, 'paid');
      assert.equal(session.returnUrl, `${stack.shopUrl}/`);
    });
  });

  it('auto on a phone opens a popup', async () => {
    await withShopper(
      browser,
      async (page, context) => {
        await openShop(page, stack.shopUrl);
        const orderRef = await placeOrder(page, ['phin']);
        await screenshot(page, 'phone-checkout');
        const [popup] = await Promise.all([context.waitForEvent('page'), payButton(page).click()]);
        await payOnHostedPage(popup, CARDS.domesticOtp, {
          screenshotOf: popup,
          name: 'phone-popup',
        });

        const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
        const open = await waitForWidgetEvent(page, 'galaxy-pay-open');
        assert.equal(open.detail?.mode, 'popup');
        assert.equal(result.detail?.status, 'paid');
        assert.equal(result.detail?.orderRef, orderRef);
        await page.locator('#receipt').waitFor();
        await screenshot(page, 'phone-receipt');
        const { session } = await storedSession(stack, String(result.detail?.sessionId));
        assert.equal(session.status, 'paid');
      },
      PHONE,
    );
  });

  it('falls back to the modal when the popup is blocked, with a POPUP_BLOCKED error', async () => {
    await withShopper(browser, async (page, context) => {
      // A popup blocker: window.open answers null.
      await context.addInitScript({ content: 'window.open = () => null;' });
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['robusta']);
      await chooseMode(page, 'popup');
      await payButton(page).click();

      const error = await waitForWidgetEvent(page, 'galaxy-pay-error');
      assert.equal(error.detail?.code, 'POPUP_BLOCKED');
      assert.equal(error.detail?.retryable, true);
      const open = await waitForWidgetEvent(page, 'galaxy-pay-open');
      assert.equal(open.detail?.mode, 'modal');
      await screenshot(page, 'popup-blocked-fallback');
      await payOnHostedPage(checkoutFrame(page), CARDS.internationalNon3ds);

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(
        (await recordedEvents(page)).filter(event => event.type === 'galaxy-pay-result').length,
        1,
      );
      const { session } = await storedSession(stack, String(result.detail?.sessionId));
      assert.equal(session.status, 'paid');
    });
  });
});
