/**
 * Paying by card in the modal, on the script-tag page: the shopper fills the sandbox's hosted page inside
 * the widget's dialog. Each journey checks the DOM event's detail and the signer's stored session.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, assertFields, useWalk, type TestCardInput } from './support/index.js';

describe('paying by card in the modal', () => {
  const walk = useWalk();

  /** Orders `products`, pays in the modal with `card`; the first outcome (result or cancel) and the session. */
  const payInModal = (card: TestCardInput, products: string[], screenshots: string) =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(products, { mode: 'modal' });
      await shopper.pressPay();
      await shopper.hostedPage.pay(card, screenshots);
      const outcome = await shopper.firstEvent('galaxy-pay-result', 'galaxy-pay-cancel');
      assert.equal(outcome.type, 'galaxy-pay-result', 'a result, not a cancel');
      const result = await shopper.result();
      return { orderRef, result, ...(await walk.storedSession(result.sessionId)) };
    });

  it('pays with a domestic card and its OTP: receipt, one paid result, session paid by the IPN', () =>
    walk.shopper(async shopper => {
      await shopper.openShop();
      await shopper.screenshot('shop-home');
      const orderRef = await shopper.placeOrder(['robusta', 'phin']);
      await shopper.screenshot('shop-checkout');
      await shopper.choosePresentation('modal');
      await shopper.pressPay();
      await shopper.hostedPage.pay(CARDS.domesticOtp, 'modal-domestic-card');

      const result = await shopper.result();
      await shopper.receipt();
      await shopper.screenshot('receipt');
      assert.deepEqual(
        { ...result, sessionId: undefined, transactionId: undefined },
        {
          status: 'paid',
          sessionId: undefined,
          orderRef,
          amount: 220_000,
          currency: 'VND',
          transactionId: undefined,
          code: '200',
          message: result.message,
        },
      );
      assert.match(String(result.transactionId), /^\d+$/);
      assert.equal(await shopper.text('#receipt-order'), orderRef);
      assert.equal(await shopper.text('#receipt-transaction'), result.transactionId);
      assert.deepEqual(await shopper.eventTypes(), [
        'galaxy-pay-open',
        'galaxy-pay-close',
        'galaxy-pay-result',
      ]);

      const { session, events } = await walk.storedSession(result.sessionId);
      assertFields(session, {
        status: 'paid',
        orderRef,
        amount: 220_000,
        transactionId: result.transactionId,
        paymentMethod: 'DOMESTIC',
      });
      assert.ok(
        events.some(e => e.kind === 'ipn' && e.verified && e.verdict === 'applied'),
        'a verified IPN moved the session',
      );
      // The shop's back end heard about it through the signer's signed webhook.
      await walk.shopHears(orderRef, 'paid');
    }));

  for (const [name, card, screenshots] of [
    ['an international 3-D Secure card (OTP)', CARDS.international3ds, 'modal-international-3ds'],
    ['an international card without 3-D Secure', CARDS.internationalNon3ds, 'modal-international'],
  ] as const) {
    it(`pays with ${name}`, async () => {
      const { orderRef, result, session } = await payInModal(card, ['lotus-tea'], screenshots);

      assertFields(result, { status: 'paid', orderRef, amount: 240_000 });
      assertFields(session, {
        status: 'paid',
        paymentMethod: 'INTERNATIONAL',
        transactionId: result.transactionId,
      });
    });
  }

  it('reports a declined card as failed, in plain words, and lets the shopper try again', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['mug'], { mode: 'modal' });
      await shopper.pressPay();
      await shopper.hostedPage.pay(CARDS.internationalDeclined);

      const declined = await shopper.result();
      assertFields(declined, { status: 'failed', orderRef, code: '505' });
      assert.match(await shopper.notice('error'), /chưa thành công/);
      await shopper.screenshot('declined');
      const { session } = await walk.storedSession(declined.sessionId);
      assertFields(session, { status: 'failed', code: '505' });

      // Same order, a good card: a new session, paid.
      await shopper.pressPay();
      await shopper.hostedPage.pay(CARDS.domesticOtp);
      await shopper.receipt();
      const results = await shopper.results();
      assert.deepEqual(
        results.map(result => result.status),
        ['failed', 'paid'],
      );
      assert.notEqual(results[1]!.sessionId, declined.sessionId);
      assert.equal((await walk.storedSession(results[1]!.sessionId)).session.status, 'paid');
    }));

  it('fails the payment on a wrong OTP', async () => {
    const wrongOtp = { ...CARDS.domesticOtp, otp: '123456' };
    const { orderRef, result, session } = await payInModal(
      wrongOtp,
      ['banh-pia'],
      'modal-wrong-otp',
    );

    assertFields(result, { status: 'failed', orderRef, amount: 85_000 });
    assertFields(session, { status: 'failed', code: '505' });
  });

  it('declines a domestic card after its OTP', async () => {
    const { result, session } = await payInModal(
      CARDS.domesticDeclined,
      ['phin'],
      'modal-domestic-declined',
    );

    assert.equal(result.status, 'failed');
    assert.equal(session.status, 'failed');
  });
});
