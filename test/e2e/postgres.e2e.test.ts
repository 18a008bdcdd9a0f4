/**
 * Two signer processes sharing one PostgreSQL (a fresh schema per run, dropped at the end). The shop
 * registers the order through signer A, the browser talks to signer B only, and the gateway's callbacks
 * (IPN, return page) go to A, as behind a load balancer: B learns of the payment through the database
 * (LISTEN/NOTIFY) and reports it.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createShop, DEMO_API_KEY, DEMO_SALT, loadShopAssets } from '@galaxy-pay/demo';
import { createSandbox, type Sandbox } from '@galaxy-pay/sandbox';
import { openStore, type Store } from '@galaxy-pay/server';
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
import { freePort, startSignerProcess, type SignerProcess } from '../support/signer-process.js';
import { storedSession } from '../support/stack.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef0123456789';

describe('two signer processes on PostgreSQL', () => {
  const schema = `gp_e2e_${randomBytes(6).toString('hex')}`;
  let sandbox: Sandbox;
  let shopServer: Server;
  let shopUrl: string;
  let signerA: SignerProcess;
  let signerB: SignerProcess;
  let store: Store;
  let browser: Browser;

  before(async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    // The signers only see the schema through their connection's search_path.
    const databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

    sandbox = createSandbox({
      apiKey: DEMO_API_KEY,
      salt: DEMO_SALT,
      ipnRetryDelaysMs: [50, 100, 200, 400],
      ipnTimeoutMs: 2000,
    });
    const sandboxUrl = await sandbox.listen(0, '127.0.0.1');
    shopServer = createServer();
    await new Promise<void>(resolve => shopServer.listen(0, '127.0.0.1', resolve));
    shopUrl = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;

    const [portA, portB] = [await freePort(), await freePort()];
    const env = {
      GALAXY_PAY_BASE_URL: sandboxUrl,
      GALAXY_PAY_API_KEY: DEMO_API_KEY,
      GALAXY_PAY_SALT: DEMO_SALT,
      ALLOWED_ORIGINS: shopUrl,
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      // Both instances are "behind one address": the gateway calls back to A.
      PUBLIC_URL: `http://127.0.0.1:${portA}`,
    };
    // A first: it runs the migrations; B finds them applied.
    signerA = await startSignerProcess(portA, env);
    [signerB, browser] = await Promise.all([startSignerProcess(portB, env), launchBrowser()]);

    const shop = createShop({
      signerUrl: signerB.url,
      adminUrl: signerA.url,
      adminToken: ADMIN_TOKEN,
      gatewayOrigins: [new URL(sandboxUrl).origin],
      assets: await loadShopAssets(),
    });
    shopServer.on('request', shop.app);
    store = openStore(PG_URL, { schema });
  });

  after(async () => {
    await browser?.close();
    shopServer?.closeAllConnections();
    await new Promise<void>(resolve =>
      shopServer ? shopServer.close(() => resolve()) : resolve(),
    );
    const codes = await Promise.all([signerA?.stop(), signerB?.stop()]);
    await sandbox?.close();
    await store?.close();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    assert.deepEqual(codes, [0, 0], 'both signers shut down cleanly');
  });

  it('a payment settled by signer A is reported by signer B, stored once in PostgreSQL', async () => {
    await withShopper(browser, async page => {
      await openShop(page, shopUrl);
      const orderRef = await placeOrder(page, ['robusta', 'lotus-tea']);
      await chooseMode(page, 'modal');
      await payButton(page).click();
      await payOnHostedPage(checkoutFrame(page), CARDS.domesticOtp);

      const result = await waitForWidgetEvent(page, 'galaxy-pay-result');
      await page.locator('#receipt').waitFor();
      await screenshot(page, 'postgres-two-signers-receipt');
      assert.equal(result.detail?.status, 'paid');
      assert.equal(result.detail?.orderRef, orderRef);
      assert.equal(result.detail?.amount, 405_000);
      assert.equal(
        (await recordedEvents(page)).filter(event => event.type === 'galaxy-pay-result').length,
        1,
      );

      const { session, events } = await storedSession({ store }, String(result.detail?.sessionId));
      assert.equal(session.status, 'paid');
      assert.equal(session.orderRef, orderRef);
      assert.equal(session.transactionId, result.detail?.transactionId);
      assert.equal(events.filter(event => event.verdict === 'applied').length, 1);
      // The order was registered through A, the session opened through B: one database.
      const order = await store.getOrder(orderRef);
      assert.equal(order?.amount, 405_000);
      const viewFromA = await fetch(`${signerA.url}/admin/orders/${orderRef}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }).then(res => res.json() as Promise<{ payments: Array<{ status: string }> }>);
      assert.deepEqual(
        viewFromA.payments.map(payment => payment.status),
        ['paid'],
      );
    });
  });
});
