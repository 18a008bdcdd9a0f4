/**
 * The merchant page's side of security: the shop's pages run under a strict CSP (no 'unsafe-inline', exact
 * frame-src) with the headers the widget needs, and a forged `postMessage` from another origin, even from
 * the right window with the right session and nonce, does not move the widget.
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
import { startTestStack, storedSession, type DemoStack } from '../support/stack.js';

/** The parts of a browser `MessageEvent` the page-side listener reads. */
interface MessageLike {
  data: { type?: string } | null;
  origin: string;
}

describe('merchant page security', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  for (const path of ['/', '/spa']) {
    it(`serves ${path} under a strict CSP and pays without a single violation`, async () => {
      const res = await fetch(`${stack.shopUrl}${path}`);
      const csp = String(res.headers.get('content-security-policy'));
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.match(csp, /(^|; )script-src 'self'(;|$)/);
      assert.match(csp, /(^|; )style-src 'self'(;|$)/);
      assert.match(csp, new RegExp(`frame-src ${new URL(stack.sandboxUrl).origin} `));
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

      await withShopper(browser, async page => {
        await openShop(page, stack.shopUrl, path);
        await placeOrder(page, ['robusta']);
        await chooseMode(page, 'modal');
        await payButton(page).click();
        await payOnHostedPage(checkoutFrame(page), CARDS.internationalNon3ds);
        const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
        assert.equal(result.detail?.status, 'paid');
        await page.locator('#receipt').waitFor();

        assert.deepEqual(await page.evaluate('window.__cspViolations'), []);
        const { session } = await storedSession(stack, String(result.detail?.sessionId));
        assert.equal(session.status, 'paid');
      });
    });
  }

  it('ignores a forged return message from another origin', async () => {
    await withShopper(browser, async page => {
      await openShop(page, stack.shopUrl);
      const orderRef = await placeOrder(page, ['mug']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      const open = await waitForWidgetEvent(page, 'galaxy-pay-open');
      const sessionId = String(open.detail?.sessionId);
      const { session: before } = await storedSession(stack, sessionId);
      const frame = checkoutFrame(page);
      await frame.locator('a[href*="method="]').first().waitFor();

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
      await frame
        .locator('body')
        .evaluate(
          (_body, message) =>
            (
              globalThis as unknown as { parent: { postMessage(data: unknown, to: string): void } }
            ).parent.postMessage(message, '*'),
          { type: 'galaxy-pay:return', sessionId, nonce: before.nonce },
        );
      assert.equal(await delivered, new URL(stack.sandboxUrl).origin);

      // Delivered, and the widget did not react: still paying, dialog open, no outcome event.
      // While the modal is open, progress is announced from inside it.
      const announcement = await page
        .locator('galaxy-pay-button dialog [role="status"]')
        .textContent();
      assert.equal(announcement, 'Đang chờ thanh toán…');
      assert.equal(await page.locator('galaxy-pay-button dialog[open]').count(), 1);
      assert.deepEqual(
        (await recordedEvents(page)).map(event => event.type),
        ['galaxy-pay-open'],
      );
      const { session: afterForgery } = await storedSession(stack, sessionId);
      assert.equal(afterForgery.status, 'pending');
      await screenshot(page, 'forged-message-ignored');

      // The real payment still completes, once.
      await payOnHostedPage(frame, CARDS.domesticOtp);
      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.sessionId, sessionId);
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(
        (await recordedEvents(page)).filter(event => event.type === 'galaxy-pay-result').length,
        1,
      );
    });
  });
});
