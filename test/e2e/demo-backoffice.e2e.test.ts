/**
 * The demo shop's back office (`/backoffice`), built on the signer's admin API server to server: orders and
 * their payments, the audit trail, a refund (safe to repeat: one Idempotency-Key per form), payment links
 * paid on the sandbox's link page, both languages. The admin token never reaches the browser, and the shop's
 * API refuses other sites' requests.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callJson, useWalk } from './support/index.js';

describe('demo: back office', () => {
  const walk = useWalk();

  it('lists orders, shows payments and the audit trail, refunds part of one (VI, then EN)', async () => {
    const { shopUrl, adminToken } = walk.stack;
    const orderRef = await walk.paidOrder([{ id: 'phin', quantity: 2 }]);
    await walk.shopper(async shopper => {
      const { page } = shopper;
      const bodies: string[] = [];
      page.on('response', res => {
        if (res.url().startsWith(shopUrl)) {
          void res.text().then(
            text => bodies.push(text),
            () => undefined,
          );
        }
      });
      await shopper.openBackoffice();
      assert.equal(await shopper.text('#orders-title'), 'Đơn hàng');
      await page.locator(`#orders [data-select="${orderRef}"]`).click();
      await shopper.backofficePayment('paid').waitFor();
      assert.match(await shopper.text('#shop-record'), /Đã thanh toán/);
      assert.equal(await page.locator('#refund-amount').inputValue(), '110000');

      await page.locator('#refund-amount').fill('40000');
      await page.locator('#refund').click();
      await shopper.backofficeOperation('refund', 'succeeded').waitFor();
      const row = await shopper.text('#detail [data-operation="refund"]');
      assert.match(row, /demo-staff/);
      assert.match(row, /40\.000/);
      assert.equal(await page.locator('#refund-amount').inputValue(), '70000');
      await shopper.screenshot('demo-backoffice-refund');
      await walk.shopHears(orderRef, 'partially_refunded');

      // English, the same order.
      await page.locator('[data-lang="en"]').click();
      assert.equal(await shopper.text('#orders-title'), 'Orders');
      assert.equal(await shopper.text('#audit-title'), 'Audit trail');
      assert.equal(await shopper.text('#refund'), 'Refund');

      // Nothing the browser received carries the admin token.
      await page.locator('#refresh').click();
      await shopper.backofficeOperation('refund').waitFor();
      assert.ok(bodies.length > 5, 'responses were recorded');
      for (const text of bodies) assert.ok(!text.includes(adminToken), 'no admin token');
    });
    assert.equal((await walk.adminOrder(orderRef)).payments[0]!.status, 'paid');
  });

  it('makes a refund once however often its form is sent (one Idempotency-Key per form)', async () => {
    const orderRef = await walk.paidOrder([{ id: 'robusta', quantity: 1 }]);
    const orderUrl = `${walk.stack.shopUrl}/api/backoffice/orders/${orderRef}`;
    const send = () =>
      callJson(`${orderUrl}/refund`, {
        body: { amount: 15_000, reason: 'broken bag', key: 'form-key-0001' },
      });
    assert.equal((await send()).status, 201);
    assert.equal((await send()).status, 200, 'answered from the first');
    const detail = await callJson(orderUrl);
    const operations = detail.body.operations as Array<{ kind: string; state: string }>;
    assert.deepEqual(
      operations.filter(op => op.kind === 'refund').map(op => op.state),
      ['succeeded'],
    );
  });

  it('refuses requests from another site', async () => {
    const otherSites: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of otherSites) {
      const res = await callJson(`${walk.stack.shopUrl}/api/backoffice/links`, {
        headers,
        body: { name: 'x', amount: 1000, expiryHours: 1 },
      });
      assert.equal(res.status, 403);
      assert.equal((res.body.error as { code: string }).code, 'cross_site_request');
    }
  });

  it('creates a payment link; paid on the gateway page, it shows as paid', () =>
    walk.shopper(async shopper => {
      const { page } = shopper;
      await shopper.openBackoffice();
      await page.locator('#link-name').fill('Đặt cọc tiệc cà phê');
      await page.locator('#link-amount').fill('150000');
      await page.locator('#create-link').click();
      const row = page.locator('#link-table [data-link]').first();
      await row.locator('[data-status="open"]').waitFor();
      assert.match(String(await row.textContent()), /150\.000/);

      const href = String(await row.locator('a.open-link').getAttribute('href'));
      assert.ok(href.startsWith(walk.stack.sandboxUrl), href);
      const payer = await shopper.context.newPage();
      await payer.goto(href);
      await payer.locator('form[action*="/pay"] button[type="submit"]').click();
      await payer.locator('h2[role="status"]').waitFor();
      await payer.close();

      // The back office refreshes its lists on its own; the link's IPN reached the signer.
      await row.locator('[data-status="paid"]').waitFor();
      await shopper.screenshot('demo-backoffice-link-paid');
    }));
});
