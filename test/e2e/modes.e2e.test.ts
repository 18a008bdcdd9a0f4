/**
 * Each way of showing the hosted page: popup (on the SPA page), full redirect, `auto` on a phone, and a
 * blocked popup falling back to the modal. (The modal itself is covered by cards.e2e.test.ts.)
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, PHONE, assertFields, useWalk } from './support/index.js';

describe('presentation modes', () => {
  const walk = useWalk();

  it('pays in a popup from the SPA page (widget imported as an ES module)', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['lotus-tea'], { path: '/spa', mode: 'popup' });
      const { popup, hostedPage } = await shopper.pressPayForPopup();
      await popup.setViewportSize({ width: 480, height: 720 });
      await hostedPage.pay(CARDS.domesticOtp, 'popup');

      const result = await shopper.result();
      assert.equal((await shopper.event('galaxy-pay-open')).mode, 'popup');
      assertFields(result, { status: 'paid', orderRef, amount: 240_000 });
      await shopper.receipt();
      // The widget closes its popup once the signer has answered.
      if (!popup.isClosed()) await popup.waitForEvent('close');
      await shopper.screenshot('spa-receipt');
      const { session } = await walk.storedSession(result.sessionId);
      assertFields(session, { status: 'paid', transactionId: result.transactionId });
    }));

  it('pays through a full-page redirect and reports the result after coming back', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['banh-pia', 'banh-pia'], { mode: 'redirect' });
      const hostedPage = await shopper.pressPayForRedirect();
      await hostedPage.pay(CARDS.international3ds, 'redirect-hosted-page');
      await shopper.page.waitForURL(url => url.href.startsWith(walk.stack.shopUrl));

      const result = await shopper.result();
      assertFields(result, { status: 'paid', orderRef, amount: 170_000 });
      await shopper.receipt();
      await shopper.screenshot('redirect-receipt');
      // The return parameter is consumed: a reload does not report the payment again.
      assert.ok(!shopper.page.url().includes('galaxy_pay_session'));
      const { session } = await walk.storedSession(result.sessionId);
      assertFields(session, { status: 'paid', returnUrl: `${walk.stack.shopUrl}/` });
    }));

  it('auto on a phone opens a popup', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['phin']);
      await shopper.screenshot('phone-checkout');
      const { hostedPage } = await shopper.pressPayForPopup();
      await hostedPage.pay(CARDS.domesticOtp, 'phone-popup');

      const result = await shopper.result();
      assert.equal((await shopper.event('galaxy-pay-open')).mode, 'popup');
      assertFields(result, { status: 'paid', orderRef });
      await shopper.receipt();
      await shopper.screenshot('phone-receipt');
      assert.equal((await walk.storedSession(result.sessionId)).session.status, 'paid');
    }, PHONE));

  it('falls back to the modal when the popup is blocked, with a POPUP_BLOCKED error', () =>
    walk.shopper(async shopper => {
      // A popup blocker: window.open answers null.
      await shopper.context.addInitScript({ content: 'window.open = () => null;' });
      const orderRef = await shopper.checkout(['robusta'], { mode: 'popup' });
      await shopper.pressPay();

      const error = await shopper.event('galaxy-pay-error');
      assertFields(error, { code: 'POPUP_BLOCKED', retryable: true });
      assert.equal((await shopper.event('galaxy-pay-open')).mode, 'modal');
      await shopper.screenshot('popup-blocked-fallback');
      await shopper.hostedPage.pay(CARDS.internationalNon3ds);

      const result = await shopper.result();
      assertFields(result, { status: 'paid', orderRef });
      assert.equal((await shopper.results()).length, 1);
      assert.equal((await walk.storedSession(result.sessionId)).session.status, 'paid');
    }));
});
