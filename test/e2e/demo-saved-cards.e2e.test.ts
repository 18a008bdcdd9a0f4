/**
 * Saved cards and fast pay in the demo, on with no configuration (the demo mints its own token encryption
 * key and customer-handle secret at start): save a card while paying, pay the next order with it through the
 * hosted page, and the one after with FAST_PAY (the shop's back end charges it: no page, no OTP).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, eventually, useWalk, type Shopper } from './support/index.js';

describe('demo: saved cards and fast pay', () => {
  const walk = useWalk();

  /** The widget's saved-cards chooser (in its dialog). */
  const chooser = (shopper: Shopper) => shopper.page.locator('galaxy-pay-button form.pick');

  /** "Continue shopping", then a new order: the checkout asks the shop for a fresh handle and the cards. */
  async function newOrder(shopper: Shopper, products: string[]): Promise<string> {
    await shopper.page.locator('#continue').click();
    const orderRef = await shopper.placeOrder(products);
    // The choice is kept for the tab.
    await shopper.page.locator('#saved-cards').waitFor();
    return orderRef;
  }

  it('saves a card, pays with it on the hosted page, then fast-pays with it', () =>
    walk.shopper(async shopper => {
      const { page } = shopper;
      const first = await shopper.checkout(['lotus-tea'], { mode: 'modal', option: 'opt-saved' });
      assert.match(await shopper.text('#saved-cards'), /Chưa có thẻ nào/);
      assert.match(String(await page.locator('#pay').getAttribute('customer-handle')), /^gpch1\./);
      // The customer is a cookie the page cannot read; the page holds only the signed, expiring handle.
      assert.doesNotMatch(String(await page.evaluate('document.cookie')), /gp_demo_customer/);

      // 1. A new card, saved while paying.
      await shopper.pressPay();
      await chooser(shopper).locator('input[name="save"]').check();
      await shopper.screenshot('demo-saved-cards-new');
      await chooser(shopper).locator('button.go').click();
      await shopper.hostedPage.pay(CARDS.internationalNon3ds);
      const saved = await shopper.result();
      assert.equal(saved.status, 'paid');
      assert.equal(saved.orderRef, first);
      await shopper.receipt();
      // The token comes only in the IPN, which may reach the signer after the shopper's verified result (the
      // return's query can settle the payment first); the signer saves the card before acknowledging it.
      const { session: paidWithNewCard } = await walk.storedSession(saved.sessionId);
      await eventually(
        async () =>
          (await walk.sandboxIpns(String(paidWithNewCard.transactionId))).some(a => a.acknowledged),
        15_000,
        'the IPN carrying the new card acknowledged',
      );

      // 2. The next order offers it; paying with it goes through the hosted page (the shopper confirms).
      const second = await newOrder(shopper, ['phin']);
      const card = page.locator('#saved-cards [data-card]');
      await card.first().waitFor();
      assert.equal(await card.count(), 1);
      assert.match(String(await card.textContent()), /0064/);
      await shopper.pressPay();
      const radio = chooser(shopper).locator('input[name="card"]').first();
      await radio.waitFor();
      assert.ok(await radio.isChecked(), 'the saved card is chosen first');
      assert.match(String(await chooser(shopper).textContent()), /0064/);
      await chooser(shopper).locator('button.go').click();
      // The gateway may ask the shopper to confirm on its page (OTP as the issuer requires), or not.
      const confirm = shopper.hostedPage.locator('form[action*="/approve"] button[type="submit"]');
      await Promise.race([
        shopper.receipt(),
        confirm.waitFor().then(
          () => confirm.click(),
          () => undefined,
        ),
      ]);
      await shopper.receipt();
      assert.equal((await walk.adminOrder(second)).payments[0]!.status, 'paid');

      // 3. FAST_PAY: the shop's back end charges the saved card; no dialog, no widget event.
      const third = await newOrder(shopper, ['mug']);
      await page.locator('[data-fast-pay]').click();
      await shopper.receipt('paid');
      assert.equal(await shopper.text('#receipt-order'), third);
      await shopper.screenshot('demo-fast-pay-receipt');
      const fast = await walk.adminOrder(third);
      assert.equal(fast.payments[0]!.status, 'paid');
      const { session } = await walk.storedSession(fast.payments[0]!.sessionId);
      assert.equal(session.plan?.op, 'fast_pay');
      assert.equal(session.amount, 120_000);
    }));
});
