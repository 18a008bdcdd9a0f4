/**
 * Manual capture in the demo: "authorize only" at checkout sends the payment to the manual-capture signer
 * (`/manual` on the signer's origin, `CAPTURE_MODE=manual`, same store); the shopper's card is authorized,
 * and the back office captures one order and voids another. The shop's own records follow the webhook.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, useWalk, type Shopper } from './support/index.js';

describe('demo: authorize, then capture or void in the back office', () => {
  const walk = useWalk();

  /** Pays an order with "authorize only"; ends on the receipt, which links to the back office. */
  async function authorize(shopper: Shopper, products: string[]): Promise<string> {
    const orderRef = await shopper.checkout(products, { mode: 'modal', option: 'opt-manual' });
    assert.equal(
      await shopper.page.locator('#pay').getAttribute('signer'),
      walk.stack.manualSignerUrl,
    );
    await shopper.pressPay();
    // Authorize-only opens the international card form straight away (no method to choose).
    await shopper.hostedPage.fillCard(CARDS.internationalNon3ds);
    await shopper.hostedPage.submitCard();
    const result = await shopper.result();
    assert.equal(result.status, 'authorized');
    await shopper.receipt('authorized');
    const { session } = await walk.storedSession(result.sessionId);
    assert.equal(session.status, 'authorized');
    assert.equal(session.plan?.capture, 'manual');
    await walk.shopHears(orderRef, 'authorized');
    return orderRef;
  }

  it('captures an authorized payment from the back office', () =>
    walk.shopper(async shopper => {
      const orderRef = await authorize(shopper, ['robusta', 'mug']);
      await shopper.screenshot('demo-authorized-receipt');
      // The receipt leads to the order in the back office.
      await shopper.page.locator('#to-backoffice').click();
      await shopper.backofficeReady();
      await shopper.backofficePayment('authorized').waitFor();
      assert.equal(await shopper.text('#detail-ref'), orderRef);

      await shopper.page.locator('#capture').click();
      await shopper.backofficePayment('paid').waitFor();
      await shopper.backofficeOperation('capture', 'succeeded').waitFor();
      assert.match(await shopper.text('#detail [data-operation="capture"]'), /demo-staff/);
      await shopper.screenshot('demo-backoffice-captured');
      await walk.shopHears(orderRef, 'paid');
    }));

  it('voids an authorized payment from the back office, in English', () =>
    walk.shopper(async shopper => {
      const orderRef = await authorize(shopper, ['banh-pia']);
      await shopper.openBackoffice(orderRef, '?lang=en');
      await shopper.backofficePayment('authorized').waitFor();
      assert.equal(await shopper.text('#void'), 'Void');

      await shopper.page.locator('#void').click();
      await shopper.backofficePayment('voided').waitFor();
      await shopper.backofficeOperation('void', 'succeeded').waitFor();
      assert.equal(await shopper.page.locator('#capture').count(), 0, 'nothing left to capture');
      await walk.shopHears(orderRef, 'voided');
    }));
});
