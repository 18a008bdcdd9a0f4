/**
 * Paying by QR code in the demo, as a visitor does: "QR code" at checkout, the widget shows the signer's QR
 * image (the script-tag page loads `galaxy-pay-extras.js` from next to the main file; both pages' CSP lets
 * the signer's image in), and the demo bank "scans" it. No CSP violation on the way.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEP_TIMEOUT_MS, useWalk, type Shopper } from './support/index.js';

/** What the wait below reads of the page (this package has no DOM library). */
interface QueryRoot {
  querySelector(selector: string): {
    shadowRoot?: QueryRoot | null;
    complete?: boolean;
    naturalWidth: number;
  } | null;
}

describe('demo: QR payment', () => {
  const walk = useWalk();

  /** Places an order, picks "QR code", presses pay; returns once the QR image has loaded. */
  async function showQr(shopper: Shopper, path: string, products: string[]) {
    const { page } = shopper;
    const orderRef = await shopper.checkout(products, { path, option: 'method-qrpay' });
    assert.match(await shopper.text('#qr-demo-hint'), /Ngân hàng giả lập/);
    await shopper.pressPay();
    const { sessionId } = await shopper.event('galaxy-pay-open');
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
      new RegExp(`^${walk.stack.signerUrl}/sessions/`),
    );
    // The demo tells the visitor where to "scan" it (the widget's `strings`, set by the shop).
    assert.match(await shopper.text('galaxy-pay-button .qr'), /\/bank/);
    return { orderRef, sessionId };
  }

  it('pays a QR code on /spa (ESM import): the image shows, the demo bank pays it, receipt', () =>
    walk.shopper(async shopper => {
      const { orderRef, sessionId } = await showQr(shopper, '/spa', ['robusta']);
      await shopper.screenshot('demo-qr-spa');

      await shopper.scanInDemoBank(orderRef);
      const result = await shopper.result();
      assert.equal(result.status, 'paid');
      assert.equal(result.orderRef, orderRef);
      await shopper.receipt();

      assert.deepEqual(await shopper.cspViolations(), []);
      const { session, events } = await walk.storedSession(sessionId);
      assert.equal(session.status, 'paid');
      assert.equal(session.paymentMethod, 'QRPAY');
      assert.ok(events.some(e => e.kind === 'ipn' && e.verified && e.verdict === 'applied'));
    }));

  it('loads the extras file next to the script-tag file on /, and reports a declined scan in Vietnamese', async () => {
    const extras = await fetch(`${walk.stack.shopUrl}/assets/galaxy-pay-extras.js`);
    assert.equal(extras.status, 200);
    assert.match(String(extras.headers.get('content-type')), /^text\/javascript/);

    await walk.shopper(async shopper => {
      const requested: string[] = [];
      shopper.page.on('response', res => {
        if (res.url().includes('/assets/galaxy-pay-'))
          requested.push(`${res.status()} ${res.url()}`);
      });
      const { orderRef } = await showQr(shopper, '/', ['phin']);
      assert.ok(
        requested.some(line => /^200 .*\/assets\/galaxy-pay-extras\.js$/.test(line)),
        `extras loaded: ${requested.join(', ')}`,
      );

      await shopper.scanInDemoBank(orderRef, 'decline');
      assert.equal((await shopper.result()).status, 'failed');
      const notice = await shopper.notice('error');
      assert.match(notice, /từ chối/);
      assert.doesNotMatch(notice, /[A-Za-z]+ Failure|declined|Declined/);
      assert.deepEqual(await shopper.cspViolations(), []);
    });
  });
});
