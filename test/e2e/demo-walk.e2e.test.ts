/**
 * What a walk through the demo found, held: a declined card is explained in the page's language only; the
 * gateway page shows the shop's order reference; the OTP field has the focus inside the dialog's frame; on a
 * phone, "add to cart" answers where the finger is and the header stays on one row.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CARDS, PHONE, useWalk, type PageGlobals } from './support/index.js';

describe('demo: the walk', () => {
  const walk = useWalk();

  it('explains a declined card in Vietnamese only', () =>
    walk.shopper(async shopper => {
      await shopper.checkout(['mug'], { mode: 'modal' });
      await shopper.pressPay();
      await shopper.hostedPage.pay(CARDS.internationalDeclined);
      const result = await shopper.result();
      assert.equal(result.status, 'failed');
      // The gateway's English message stays in the event (for developers), not in the shopper's notice.
      assert.match(result.message, /[A-Za-z]/);
      assert.equal(
        await shopper.notice('error'),
        'Thanh toán chưa thành công' +
          'Ngân hàng đã từ chối thẻ, hoặc xác thực (OTP, 3-D Secure) không thành công. ' +
          'Tài khoản của bạn chưa bị trừ tiền. Bạn có thể thử lại với thẻ khác.',
      );
    }));

  it('shows the shop’s order reference on the gateway page, and the OTP field has the focus', () =>
    walk.shopper(async shopper => {
      const { hostedPage } = shopper;
      const orderRef = await shopper.checkout(['robusta'], { mode: 'modal' });
      assert.match(orderRef, /^[A-Z0-9]{1,20}$/, 'fits the gateway’s orderNumber');
      await shopper.pressPay();
      await hostedPage.shown();
      assert.equal(
        await hostedPage.locator('p.muted').first().textContent(),
        `Đơn hàng ${orderRef}`,
      );

      await hostedPage.chooseMethod('DOMESTIC');
      await hostedPage.fillCard(CARDS.domesticOtp);
      await hostedPage.submitCard();
      await hostedPage.otpField().waitFor();
      const frame = await shopper.hostedPageFrame();
      await frame.waitForFunction(
        () =>
          (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('name') ===
          'otp',
        undefined,
        { timeout: 5_000, polling: 50 },
      );
      // Typing goes straight into it.
      await shopper.page.keyboard.type(CARDS.domesticOtp.otp);
      assert.equal(await hostedPage.otpField().inputValue(), 'otp');
      await shopper.screenshot('demo-otp-focused');
      await hostedPage.submitOtp();
      assert.equal((await shopper.result()).status, 'paid');
    }));

  for (const lang of ['vi', 'en'] as const) {
    it(`on a phone (390 px, ${lang}): one header row, and "add to cart" answers`, () =>
      walk.shopper(async shopper => {
        const { page } = shopper;
        await shopper.openShop(`/?lang=${lang}`);
        // One row: the logo, the pages and the language switch share a line; nothing overflows.
        // (No named helpers inside: the function is serialized into the page as it is.)
        const layout = await page.evaluate(() => {
          const doc = (globalThis as unknown as PageGlobals).document;
          const parts = ['.brand img', '.top nav a:last-child', '.langs'].map(selector =>
            doc.querySelector(selector)!.getBoundingClientRect(),
          );
          return {
            header: doc.querySelector('header.top')!.getBoundingClientRect().height,
            tops: parts.map(rect => rect.top),
            bottoms: parts.map(rect => rect.bottom),
            gap: parts[2]!.left - parts[1]!.right,
            overflow: doc.documentElement.scrollWidth - doc.documentElement.clientWidth,
          };
        });
        assert.ok(layout.header < 64, `header height ${layout.header}`);
        assert.ok(
          Math.max(...layout.bottoms) - Math.min(...layout.tops) < 48,
          `one row: ${JSON.stringify(layout)}`,
        );
        assert.equal(layout.overflow, 0);
        assert.ok(layout.gap > 0, `the pages end before the language switch: ${layout.gap}`);

        const add = page.locator('[data-add="lotus-tea"]');
        await add.scrollIntoViewIfNeeded();
        await add.tap();
        // The button itself says so, and the cart bar (the cart is far below on a phone) appears.
        await page.locator('[data-add="lotus-tea"][data-added]').waitFor();
        assert.match(
          await shopper.text('[data-add="lotus-tea"]'),
          lang === 'vi' ? /Đã thêm/ : /Added/,
        );
        const bar = page.locator('#cart-bar:not([hidden])');
        await bar.waitFor();
        assert.match(String(await bar.textContent()), lang === 'vi' ? /1 món/ : /1 item/);
        const inView = await page.evaluate(() => {
          const g = globalThis as unknown as PageGlobals;
          const rect = g.document.querySelector('#cart-bar')!.getBoundingClientRect();
          return rect.top >= 0 && rect.bottom <= g.innerHeight + 1;
        });
        assert.ok(inView, 'the cart bar is on screen');
        await shopper.screenshot(`demo-phone-added-${lang}`);

        await page.locator('#cart-bar a').tap();
        await page.locator('#place-order').waitFor();
        // The "Added" label goes back by itself.
        await page.locator('[data-add="lotus-tea"]:not([data-added])').waitFor();
      }, PHONE));
  }
});
