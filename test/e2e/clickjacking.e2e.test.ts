/**
 * Clickjacking (docs/reliability.md T39): a page on a foreign origin frames the merchant's checkout page and the
 * signer's return page of a real session; Chromium refuses both (`frame-ancestors`, plus `X-Frame-Options`
 * on the checkout page for browsers without CSP 2). A page on the merchant origin still frames the return
 * page, which is how the widget's modal ends.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, useWalk, type DemoStack, type Page } from './support/index.js';

/** What Chromium shows in a frame whose document it refused to render. */
const BLOCKED_FRAME_URL = 'chrome-error://chromewebdata/';

/** What the return page says while it wakes the widget up (the session's locale is Vietnamese). */
const RETURN_PAGE_TEXT = /Đang xác nhận kết quả với Galaxy Pay/;

/** A one-page site on its own 127.0.0.1 port: another origin than the shop and the signer. */
async function startAttacker(html: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html());
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The merchant origins the demo signer allows (the shop, also as `localhost`): its return page's ancestors. */
function signerFrameAncestors(stack: DemoStack): string {
  return `${stack.shopUrl} ${stack.shopUrl.replace('127.0.0.1', 'localhost')}`;
}

/**
 * Console messages in which Chromium refuses to frame something: "Framing '<url>' violates the following
 * Content Security Policy directive: \"frame-ancestors …\"" (older builds: "Refused to frame '<url>' …").
 */
function recordRefusals(page: Page): string[] {
  const refusals: string[] = [];
  page.on('console', message => {
    const text = message.text();
    if (/^(Refused to (frame|display)|Framing) /.test(text)) refusals.push(text);
  });
  return refusals;
}

/** The `<iframe id=…>`'s frame, once the browser has committed something in it. */
async function frameOf(page: Page, id: string) {
  const element = await page.locator(`iframe#${id}`).elementHandle();
  const content = await element?.contentFrame();
  assert.ok(content, `iframe#${id} has no frame`);
  return content;
}

describe('clickjacking (T39)', () => {
  const walk = useWalk();
  let stack: DemoStack;
  let attacker: { url: string; server: Server };
  let sessionId: string;
  let returnUrl: string;

  before(async () => {
    stack = walk.stack;
    attacker = await startAttacker(
      () => `<!doctype html><meta charset="utf-8"><title>Win a prize</title>
<iframe id="checkout" src="${stack.shopUrl}/" width="800" height="600"></iframe>
<iframe id="return" src="${returnUrl}" width="400" height="300"></iframe>`,
    );
    // A real session, opened the way a shopper does (modal mode).
    sessionId = await walk.shopper(async shopper => {
      await shopper.checkout(['robusta'], { mode: 'modal' });
      await shopper.pressPay();
      return (await shopper.event('galaxy-pay-open')).sessionId;
    });
    returnUrl = `${stack.signerUrl}/return/${sessionId}/result`;
  });
  after(async () => {
    await new Promise(resolve => attacker?.server.close(resolve));
  });

  it('sends frame-ancestors on the checkout page (with X-Frame-Options) and on the return page', async () => {
    for (const path of ['/', '/spa']) {
      const checkout = await fetch(`${stack.shopUrl}${path}`);
      assert.equal(checkout.status, 200);
      assert.match(
        String(checkout.headers.get('content-security-policy')),
        /(^|; )frame-ancestors 'self'(;|$)/,
      );
      assert.equal(checkout.headers.get('x-frame-options'), 'SAMEORIGIN');
    }

    // The real session's page, and the 404 for an unknown one: framable by the merchant origins only.
    const merchantOrigins = signerFrameAncestors(stack);
    const unknown = `${stack.signerUrl}/return/${'0'.repeat(32)}/result`;
    for (const [url, status] of [
      [returnUrl, 200],
      [unknown, 404],
    ] as const) {
      const page = await fetch(url, { redirect: 'manual' });
      assert.equal(page.status, status, url);
      const csp = String(page.headers.get('content-security-policy'));
      assert.match(csp, new RegExp(`(^|; )frame-ancestors ${merchantOrigins}(;|$)`), url);
      assert.doesNotMatch(csp, /frame-ancestors[^;]*(\*|'self')/, url);
      // X-Frame-Options cannot name another origin: the return page must not send one at all.
      assert.equal(page.headers.get('x-frame-options'), null, url);
    }
  });

  it('refuses to render the checkout page and the return page inside a foreign origin', async () => {
    assert.notEqual(new URL(attacker.url).origin, new URL(stack.shopUrl).origin);
    await walk.shopper(async ({ page }) => {
      const refusals = recordRefusals(page);
      await page.goto(attacker.url, { waitUntil: 'load' });

      // Chromium names only the refused frame's origin (the path is cut), and the directive that refused it.
      const merchantOrigins = signerFrameAncestors(stack);
      for (const [id, target, directive] of [
        ['checkout', `${stack.shopUrl}/`, "frame-ancestors 'self'"],
        ['return', returnUrl, `frame-ancestors ${merchantOrigins}`],
      ] as const) {
        const frame = await frameOf(page, id);
        assert.equal(frame.url(), BLOCKED_FRAME_URL, `iframe#${id} rendered ${frame.url()}`);
        assert.doesNotMatch(await frame.content(), RETURN_PAGE_TEXT);
        assert.doesNotMatch(await frame.content(), /Cà Phê Ngân Hà/);
        await eventually(
          () =>
            refusals.some(
              text =>
                text.includes(`'${new URL(target).origin}/'`) && text.includes(`"${directive}"`),
            ),
          5000,
          `Chromium's "${directive}" refusal of ${target}`,
        );
      }
      assert.equal(await page.locator('iframe').count(), 2);
      // Nothing of either page reached the frame tree.
      const urls = page.frames().map(frame => frame.url());
      assert.ok(!urls.includes(`${stack.shopUrl}/`), JSON.stringify(urls));
      assert.ok(!urls.includes(returnUrl), JSON.stringify(urls));
    });

    // Being framed changed nothing: the session is still waiting for the shopper.
    assert.equal((await walk.storedSession(sessionId)).session.status, 'pending');
  });

  it('lets the merchant origin frame the return page', async () => {
    await walk.shopper(async shopper => {
      const { page } = shopper;
      const refusals = recordRefusals(page);
      // The shop's own page (its CSP's frame-src allows the signer) adds the frame.
      await shopper.openShop();
      await page.evaluate(src => {
        const doc = (
          globalThis as unknown as {
            document: {
              createElement(tag: 'iframe'): { id: string; src: string };
              body: { append(node: unknown): void };
            };
          }
        ).document;
        const iframe = doc.createElement('iframe');
        iframe.id = 'merchant-return';
        iframe.src = src;
        doc.body.append(iframe);
      }, returnUrl);
      const frame = page.frameLocator('iframe#merchant-return');
      await frame.locator('p[role="status"]').waitFor();
      assert.match(String(await frame.locator('p[role="status"]').textContent()), RETURN_PAGE_TEXT);
      assert.equal((await frameOf(page, 'merchant-return')).url(), returnUrl);
      assert.deepEqual(refusals, []);
    });
  });
});
