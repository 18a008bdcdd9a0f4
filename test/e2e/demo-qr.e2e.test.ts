/**
 * Paying by QR code in the demo, as a visitor does: "QR code" at checkout, the widget shows the signer's QR
 * image (the script-tag page loads `galaxy-pay-extras.js` from next to the main file; both pages' CSP lets
 * the signer's image in), and the demo bank "scans" it. No CSP violation on the way.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  STEP_TIMEOUT_MS,
  launchBrowser,
  openShop,
  payButton,
  placeOrder,
  screenshot,
  waitForWidgetEvent,
  withShopper,
  type Browser,
  type Page,
} from '../support/browser.js';
import { chooseOption, scanInDemoBank } from '../support/demo.js';
import { startTestStack, storedSession, type DemoStack } from '../support/stack.js';

/** What the wait below reads of the page (this package has no DOM library). */
interface QueryRoot {
  querySelector(selector: string): {
    shadowRoot?: QueryRoot | null;
    complete?: boolean;
    naturalWidth: number;
  } | null;
}

describe('demo: QR payment', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Places an order, picks "QR code", presses pay; returns once the QR image has loaded. */
  async function showQr(page: Page, path: string, products: string[]) {
    await openShop(page, stack.shopUrl, path);
    const orderRef = await placeOrder(page, products);
    await chooseOption(page, 'method-qrpay');
    assert.match(String(await page.locator('#qr-demo-hint').textContent()), /Ngân hàng giả lập/);
    await payButton(page).click();
    const open = await waitForWidgetEvent(page, 'galaxy-pay-open');
    const image = page.locator('galaxy-pay-button .qr img');
    await image.waitFor();
    // Loaded, not refused: a CSP-blocked or missing image never gets a natural size.
    await page.waitForFunction(
      () => {
        const doc = (globalThis as unknown as { document: QueryRoot }).document;
        const img = doc.querySelector('galaxy-pay-button')?.shadowRoot?.querySelector('.qr img');
        return Boolean(img?.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
    assert.match(
      String(await image.getAttribute('src')),
      new RegExp(`^${stack.signerUrl}/sessions/`),
    );
    // The demo tells the visitor where to "scan" it (the widget's `strings`, set by the shop).
    assert.match(String(await page.locator('galaxy-pay-button .qr').textContent()), /\/bank/);
    return { orderRef, sessionId: String(open.detail?.sessionId) };
  }

  it('pays a QR code on /spa (ESM import): the image shows, the demo bank pays it, receipt', async () => {
    await withShopper(browser, async page => {
      const { orderRef, sessionId } = await showQr(page, '/spa', ['robusta']);
      await screenshot(page, 'demo-qr-spa');

      await scanInDemoBank(page, stack.shopUrl, orderRef);
      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.orderRef, orderRef);
      await page.locator('#receipt').waitFor();

      assert.deepEqual(await page.evaluate('window.__cspViolations'), []);
      const { session, events } = await storedSession(stack, sessionId);
      assert.equal(session.status, 'paid');
      assert.equal(session.paymentMethod, 'QRPAY');
      assert.ok(events.some(e => e.kind === 'ipn' && e.verified && e.verdict === 'applied'));
    });
  });

  it('loads the extras file next to the script-tag file on /, and reports a declined scan in Vietnamese', async () => {
    const extras = await fetch(`${stack.shopUrl}/assets/galaxy-pay-extras.js`);
    assert.equal(extras.status, 200);
    assert.match(String(extras.headers.get('content-type')), /^text\/javascript/);

    await withShopper(browser, async page => {
      const requested: string[] = [];
      page.on('response', res => {
        if (res.url().includes('/assets/galaxy-pay-'))
          requested.push(`${res.status()} ${res.url()}`);
      });
      const { orderRef } = await showQr(page, '/', ['phin']);
      assert.ok(
        requested.some(line => /^200 .*\/assets\/galaxy-pay-extras\.js$/.test(line)),
        `extras loaded: ${requested.join(', ')}`,
      );

      await scanInDemoBank(page, stack.shopUrl, orderRef, 'decline');
      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'failed');
      const notice = String(await page.locator('.notice.error').textContent());
      assert.match(notice, /từ chối/);
      assert.doesNotMatch(notice, /[A-Za-z]+ Failure|declined|Declined/);
      assert.deepEqual(await page.evaluate('window.__cspViolations'), []);
    });
  });
});
