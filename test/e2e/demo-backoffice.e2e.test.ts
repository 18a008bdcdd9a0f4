/**
 * The demo shop's back office (`/backoffice`), built on the signer's admin API server to server: orders and
 * their payments, the audit trail, a refund (safe to repeat: one Idempotency-Key per form), payment links
 * paid on the sandbox's link page, both languages. The admin token never reaches the browser, and the shop's
 * API refuses other sites' requests.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, withShopper, type Browser } from '../support/browser.js';
import { openBackoffice } from '../support/demo.js';
import { adminOrder, eventually, startTestStack, type DemoStack } from '../support/stack.js';

describe('demo: back office', () => {
  let stack: DemoStack;
  let browser: Browser;

  before(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function json(url: string, init: RequestInit = {}) {
    const res = await fetch(url, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** A paid order, without a browser: the shop registers it, the sandbox completes it (IPN awaited). */
  async function paidOrder(items: Array<{ id: string; quantity: number }>): Promise<string> {
    const order = await json(`${stack.shopUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    const orderRef = String(order.body.orderRef);
    const session = await json(`${stack.signerUrl}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.shopUrl },
      body: JSON.stringify({ orderRef }),
    });
    const transactionId = String(session.body.checkoutUrl).split('/').pop();
    await json(`${stack.sandboxUrl}/__sandbox/transactions/${transactionId}/complete?wait=ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'success', card: '9704000000000018' }),
    });
    await eventually(() => stack.orders.get(orderRef)?.status === 'paid', 10_000, 'paid webhook');
    return orderRef;
  }

  it('lists orders, shows payments and the audit trail, refunds part of one (VI, then EN)', async () => {
    const orderRef = await paidOrder([{ id: 'phin', quantity: 2 }]);
    await withShopper(browser, async page => {
      const bodies: string[] = [];
      page.on('response', res => {
        if (res.url().startsWith(stack.shopUrl)) {
          void res.text().then(
            text => bodies.push(text),
            () => undefined,
          );
        }
      });
      await openBackoffice(page, stack.shopUrl);
      assert.equal(await page.locator('#orders-title').textContent(), 'Đơn hàng');
      await page.locator(`#orders [data-select="${orderRef}"]`).click();
      await page.locator('#detail .payment-status [data-status="paid"]').waitFor();
      assert.match(String(await page.locator('#shop-record').textContent()), /Đã thanh toán/);
      assert.equal(await page.locator('#refund-amount').inputValue(), '110000');

      await page.locator('#refund-amount').fill('40000');
      await page.locator('#refund').click();
      await page.locator('#detail [data-operation="refund"][data-state="succeeded"]').waitFor();
      const row = String(await page.locator('#detail [data-operation="refund"]').textContent());
      assert.match(row, /demo-staff/);
      assert.match(row, /40\.000/);
      assert.equal(await page.locator('#refund-amount').inputValue(), '70000');
      await screenshot(page, 'demo-backoffice-refund');
      await eventually(
        () => stack.orders.get(orderRef)?.status === 'partially_refunded',
        10_000,
        'refund webhook',
      );

      // English, the same order.
      await page.locator('[data-lang="en"]').click();
      assert.equal(await page.locator('#orders-title').textContent(), 'Orders');
      assert.equal(await page.locator('#audit-title').textContent(), 'Audit trail');
      assert.equal(await page.locator('#refund').textContent(), 'Refund');

      // Nothing the browser received carries the admin token.
      await page.locator('#refresh').click();
      await page.locator('#detail [data-operation="refund"]').waitFor();
      assert.ok(bodies.length > 5, 'responses were recorded');
      for (const text of bodies) assert.ok(!text.includes(stack.adminToken), 'no admin token');
    });
    const signer = await adminOrder(stack, orderRef);
    assert.equal(signer.payments[0]!.status, 'paid');
  });

  it('makes a refund once however often its form is sent (one Idempotency-Key per form)', async () => {
    const orderRef = await paidOrder([{ id: 'robusta', quantity: 1 }]);
    const send = () =>
      json(`${stack.shopUrl}/api/backoffice/orders/${orderRef}/refund`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 15_000, reason: 'broken bag', key: 'form-key-0001' }),
      });
    const first = await send();
    const again = await send();
    assert.equal(first.status, 201);
    assert.equal(again.status, 200, 'answered from the first');
    const detail = await json(`${stack.shopUrl}/api/backoffice/orders/${orderRef}`);
    const refunds = (detail.body.operations as Array<{ kind: string; state: string }>).filter(
      op => op.kind === 'refund',
    );
    assert.deepEqual(
      refunds.map(op => op.state),
      ['succeeded'],
    );
  });

  it('refuses requests from another site', async () => {
    const attempts: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of attempts) {
      const res = await json(`${stack.shopUrl}/api/backoffice/links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'x', amount: 1000, expiryHours: 1 }),
      });
      assert.equal(res.status, 403);
      assert.equal((res.body.error as { code: string }).code, 'cross_site_request');
    }
  });

  it('creates a payment link; paid on the gateway page, it shows as paid', async () => {
    await withShopper(browser, async page => {
      await openBackoffice(page, stack.shopUrl);
      await page.locator('#link-name').fill('Đặt cọc tiệc cà phê');
      await page.locator('#link-amount').fill('150000');
      await page.locator('#create-link').click();
      const row = page.locator('#link-table [data-link]').first();
      await row.locator('[data-status="open"]').waitFor();
      assert.match(String(await row.textContent()), /150\.000/);

      const href = String(await row.locator('a.open-link').getAttribute('href'));
      assert.ok(href.startsWith(stack.sandboxUrl), href);
      const payer = await page.context().newPage();
      await payer.goto(href);
      await payer.locator('form[action*="/pay"] button[type="submit"]').click();
      await payer.locator('h2[role="status"]').waitFor();
      await payer.close();

      // The back office refreshes its lists on its own; the link's IPN reached the signer.
      await row.locator('[data-status="paid"]').waitFor();
      await screenshot(page, 'demo-backoffice-link-paid');
    });
  });
});
