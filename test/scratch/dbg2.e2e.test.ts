/**
 * Manual capture in the demo: "authorize only" at checkout sends the payment to the manual-capture signer
 * (`/manual` on the signer's origin, `CAPTURE_MODE=manual`, same store); the shopper's card is authorized,
 * and the back office captures one order and voids another. The shop's own records follow the webhook.
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
  type Browser,
  type Page,
} from '../support/browser.js';
import { backofficePaymentStatus, chooseOption } from '../support/demo.js';
import { eventually, startTestStack, storedSession, type DemoStack } from '../support/stack.js';

describe('demo: authorize, then capture or void in the back office', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Pays an order with "authorize only"; ends on the receipt, which links to the back office. */
  async function authorize(page: Page, products: string[]) {
    await openShop(page, stack.shopUrl);
    const orderRef = await placeOrder(page, products);
    await chooseMode(page, 'modal');
    await chooseOption(page, 'opt-manual');
    assert.equal(await page.locator('#pay').getAttribute('signer'), stack.manualSignerUrl);
    await payButton(page).click();
    await new Promise(r => setTimeout(r, 3000)); await screenshot(page, "dbg-capture"); console.log("FRAMES", page.frames().map(f => f.url())); console.log('EVENTS', JSON.stringify(await page.evaluate('window.__galaxyPayEvents')));
    await payOnHostedPage(checkoutFrame(page), CARDS.internationalNon3ds);
    const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
    assert.equal(result.detail?.status, 'authorized');
    await page.locator('#receipt[data-status="authorized"]').waitFor();
    const { session } = await storedSession(stack, String(result.detail?.sessionId));
    assert.equal(session.status, 'authorized');
    assert.equal(session.plan?.capture, 'manual');
    await eventually(() => stack.orders.get(orderRef)?.status === 'authorized', 10_000, 'webhook');
    return orderRef;
  }

  it('captures an authorized payment from the back office', async () => {
    await withShopper(browser, async page => {
      const orderRef = await authorize(page, ['robusta', 'mug']);
      await screenshot(page, 'demo-authorized-receipt');
      // The receipt leads to the order in the back office.
      await page.locator('#to-backoffice').click();
      await page.locator('body[data-ready="true"]').waitFor();
      await backofficePaymentStatus(page, 'authorized').waitFor();
      assert.equal(await page.locator('#detail-ref').textContent(), orderRef);

      await page.locator('#capture').click();
      await backofficePaymentStatus(page, 'paid').waitFor();
      await page.locator('#detail [data-operation="capture"][data-state="succeeded"]').waitFor();
      assert.match(
        String(await page.locator('#detail [data-operation="capture"]').textContent()),
        /demo-staff/,
      );
      await screenshot(page, 'demo-backoffice-captured');
      await eventually(() => stack.orders.get(orderRef)?.status === 'paid', 10_000, 'paid webhook');
    });
  });

  it('voids an authorized payment from the back office, in English', async () => {
    await withShopper(browser, async page => {
      const orderRef = await authorize(page, ['banh-pia']);
      await page.goto(`${stack.shopUrl}/backoffice?lang=en#${orderRef}`);
      await page.locator('body[data-ready="true"]').waitFor();
      await backofficePaymentStatus(page, 'authorized').waitFor();
      assert.equal(await page.locator('#void').textContent(), 'Void');

      await page.locator('#void').click();
      await backofficePaymentStatus(page, 'voided').waitFor();
      await page.locator('#detail [data-operation="void"][data-state="succeeded"]').waitFor();
      assert.equal(await page.locator('#capture').count(), 0, 'nothing left to capture');
      await eventually(() => stack.orders.get(orderRef)?.status === 'voided', 10_000, 'webhook');
    });
  });
});
