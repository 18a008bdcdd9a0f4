/**
 * Leaving without paying: the cancel button on the hosted page, and closing the widget's dialog. A cancel is
 * only reported once the signer has confirmed it (it asks the gateway first).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useWalk } from './support/index.js';

describe('leaving the payment', () => {
  const walk = useWalk();

  it('cancels on the hosted page: a friendly message, the session cancelled by the gateway', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['robusta'], { mode: 'modal' });
      await shopper.pressPay();
      await shopper.hostedPage.cancel();

      const cancel = await shopper.event('galaxy-pay-cancel');
      assert.deepEqual(cancel, { reason: 'gateway', sessionId: cancel.sessionId, orderRef });
      assert.match(await shopper.notice('warn'), /đã huỷ thanh toán/);
      await shopper.screenshot('cancelled-on-hosted-page');
      assert.ok(!(await shopper.eventTypes()).includes('galaxy-pay-result'));
      const { session, events } = await walk.storedSession(cancel.sessionId);
      assert.equal(session.status, 'cancelled');
      assert.equal(session.cancelReason, 'gateway');
      assert.ok(events.some(event => event.verified && event.verdict === 'applied'));
    }));

  it('closing the dialog asks the signer, which cancels the unpaid session (reason user)', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['mug', 'phin'], {
        path: '/?lang=en',
        mode: 'modal',
      });
      await shopper.pressPay();
      // The hosted page is up (the shopper sees the method choice), then they close the dialog.
      await shopper.hostedPage.shown();
      await shopper.closeDialog();

      const cancel = await shopper.event('galaxy-pay-cancel');
      assert.deepEqual(cancel, { reason: 'user', sessionId: cancel.sessionId, orderRef });
      assert.match(await shopper.notice('warn'), /cancelled/);
      assert.equal(await shopper.dialog('[open]').count(), 0);
      await shopper.screenshot('closed-dialog-en');
      assert.deepEqual(await shopper.eventTypes(), [
        'galaxy-pay-open',
        'galaxy-pay-close',
        'galaxy-pay-cancel',
      ]);
      const { session, events } = await walk.storedSession(cancel.sessionId);
      assert.equal(session.status, 'cancelled');
      assert.equal(session.cancelReason, 'user');
      // Verified: the signer asked the gateway before cancelling.
      assert.ok(events.some(event => event.kind === 'query' && event.verified));
    }));
});
