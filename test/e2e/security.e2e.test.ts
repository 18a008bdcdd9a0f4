/**
 * The merchant page's side of security: the shop's pages run under a strict CSP (no 'unsafe-inline', exact
 * frame-src) with the headers the widget needs, and a forged `postMessage` from another origin, even from
 * the right window with the right session and nonce, does not move the widget.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, assertFields, useWalk } from './support/index.js';

/** The parts of a browser `MessageEvent` the page-side listener reads. */
interface MessageLike {
  data: { type?: string } | null;
  origin: string;
}

describe('merchant page security', () => {
  const walk = useWalk();

  for (const path of ['/', '/spa']) {
    it(`serves ${path} under a strict CSP and pays without a single violation`, async () => {
      const res = await fetch(`${walk.stack.shopUrl}${path}`);
      const csp = String(res.headers.get('content-security-policy'));
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.match(csp, /(^|; )script-src 'self'(;|$)/);
      assert.match(csp, /(^|; )style-src 'self'(;|$)/);
      assert.match(csp, new RegExp(`frame-src ${new URL(walk.stack.sandboxUrl).origin} `));
      assert.match(csp, /frame-ancestors 'self'/);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin-allow-popups');
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
      if (path === '/') {
        const html = await res.text();
        assert.match(
          html,
          /<script\s+type="module"\s+src="\/assets\/galaxy-pay-button\.js"\s+integrity="sha384-/,
        );
      }

      await walk.shopper(async shopper => {
        await shopper.checkout(['robusta'], { path, mode: 'modal' });
        await shopper.pressPay();
        await shopper.hostedPage.pay(CARDS.internationalNon3ds);
        const result = await shopper.result();
        assert.equal(result.status, 'paid');
        await shopper.receipt();

        assert.deepEqual(await shopper.cspViolations(), []);
        assert.equal((await walk.storedSession(result.sessionId)).session.status, 'paid');
      });
    });
  }

  it('ignores a forged return message from another origin', () =>
    walk.shopper(async shopper => {
      const { page, hostedPage } = shopper;
      const orderRef = await shopper.checkout(['mug'], { mode: 'modal' });
      await shopper.pressPay();
      const { sessionId } = await shopper.event('galaxy-pay-open');
      const { session: before } = await walk.storedSession(sessionId);
      await hostedPage.shown();

      // The gateway's frame (the very window the widget expects) posts what the signer's return page
      // would, with the real session id and nonce: only the origin is wrong.
      const delivered = page.evaluate(
        () =>
          new Promise<string>(resolve => {
            const target = globalThis as unknown as {
              addEventListener(type: 'message', listener: (event: MessageLike) => void): void;
            };
            target.addEventListener('message', event => {
              if (event.data?.type === 'galaxy-pay:return') resolve(event.origin);
            });
          }),
      );
      await hostedPage
        .locator('body')
        .evaluate(
          (_body, message) =>
            (
              globalThis as unknown as { parent: { postMessage(data: unknown, to: string): void } }
            ).parent.postMessage(message, '*'),
          { type: 'galaxy-pay:return', sessionId, nonce: before.nonce },
        );
      // The positive signal: the page received it (after the widget's own listener, added earlier).
      assert.equal(await delivered, new URL(walk.stack.sandboxUrl).origin);

      // Delivered, and the widget did not react: still paying, dialog open, no outcome event.
      // While the modal is open, progress is announced from inside it.
      assert.equal(
        await shopper.text('galaxy-pay-button dialog [role="status"]'),
        'Đang chờ thanh toán…',
      );
      assert.equal(await shopper.dialog('[open]').count(), 1);
      assert.deepEqual(await shopper.eventTypes(), ['galaxy-pay-open']);
      assert.equal((await walk.storedSession(sessionId)).session.status, 'pending');
      await shopper.screenshot('forged-message-ignored');

      // The real payment still completes, once.
      await hostedPage.pay(CARDS.domesticOtp);
      const result = await shopper.result();
      assertFields(result, { status: 'paid', sessionId, orderRef });
      assert.equal((await shopper.results()).length, 1);
    }));
});
