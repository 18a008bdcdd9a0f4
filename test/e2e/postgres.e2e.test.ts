/**
 * Two signer processes sharing one PostgreSQL (a fresh schema per run, dropped at the end). The shop
 * registers the order through signer A, the browser talks to signer B only, and the gateway's callbacks
 * (IPN, return page) go to A, as behind a load balancer: B learns of the payment through the database
 * (LISTEN/NOTIFY) and reports it.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createShop, DEMO_API_KEY, DEMO_SALT, loadShopAssets } from '@galaxy-pay/demo';
import { createSandbox } from '@galaxy-pay/sandbox';
import { openStore } from '@galaxy-pay/server';
import {
  CARDS,
  assertFields,
  freePort,
  startSignerProcess,
  useWalk,
  type WalkStack,
} from './support/index.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef0123456789';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The sandbox, two signer processes on a fresh schema, and the shop: it registers orders through A, its
 * pages talk to B. Closing it stops everything, drops the schema, and checks both signers exited with 0.
 */
async function startTwoSigners(): Promise<WalkStack & { signerAUrl: string }> {
  const schema = `gp_e2e_${randomBytes(6).toString('hex')}`;
  const cleanups: Array<() => Promise<unknown>> = [];
  let exitCodes: Array<number | null> = [];
  const close = async (started = true) => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    if (started) assert.deepEqual(exitCodes, [0, 0], 'both signers shut down cleanly');
  };
  try {
    await admin(`CREATE SCHEMA ${schema}`);
    cleanups.push(() => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    // The signers only see the schema through their connection's search_path.
    const databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

    const sandbox = createSandbox({
      apiKey: DEMO_API_KEY,
      salt: DEMO_SALT,
      ipnRetryDelaysMs: [50, 100, 200, 400],
      ipnTimeoutMs: 2000,
    });
    const sandboxUrl = await sandbox.listen(0, '127.0.0.1');
    cleanups.push(() => sandbox.close());
    const shopServer = createServer();
    await new Promise<void>(resolve => shopServer.listen(0, '127.0.0.1', resolve));
    const shopUrl = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;

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
    const signerA = await startSignerProcess(portA, env);
    const signerB = await startSignerProcess(portB, env).catch(async error => {
      await signerA.stop();
      throw error;
    });
    cleanups.push(async () => {
      exitCodes = await Promise.all([signerA.stop(), signerB.stop()]);
    });

    const shop = createShop({
      signerUrl: signerB.url,
      adminUrl: signerA.url,
      adminToken: ADMIN_TOKEN,
      gatewayOrigins: [new URL(sandboxUrl).origin],
      assets: await loadShopAssets(),
    });
    shopServer.on('request', shop.app);
    cleanups.push(async () => {
      shopServer.closeAllConnections();
      await new Promise<void>(resolve => shopServer.close(() => resolve()));
    });
    const store = openStore(PG_URL, { schema });
    cleanups.push(() => store.close());
    return {
      shopUrl,
      sandboxUrl,
      signerUrl: signerB.url,
      signerAUrl: signerA.url,
      store,
      orders: shop.orders,
      close,
    };
  } catch (error) {
    await close(false);
    throw error;
  }
}

describe('two signer processes on PostgreSQL', () => {
  const walk = useWalk({ stack: startTwoSigners });

  it('a payment settled by signer A is reported by signer B, stored once in PostgreSQL', () =>
    walk.shopper(async shopper => {
      const orderRef = await shopper.checkout(['robusta', 'lotus-tea'], { mode: 'modal' });
      await shopper.pressPay();
      await shopper.hostedPage.pay(CARDS.domesticOtp);

      const result = await shopper.result();
      await shopper.receipt();
      await shopper.screenshot('postgres-two-signers-receipt');
      assertFields(result, { status: 'paid', orderRef, amount: 405_000 });
      assert.equal((await shopper.results()).length, 1);

      const { session, events } = await walk.storedSession(result.sessionId);
      assertFields(session, { status: 'paid', orderRef, transactionId: result.transactionId });
      assert.equal(events.filter(event => event.verdict === 'applied').length, 1);
      // The order was registered through A, the session opened through B: one database.
      const order = await walk.stack.store.getOrder(orderRef);
      assert.equal(order?.amount, 405_000);
      const viewFromA = await fetch(`${walk.stack.signerAUrl}/admin/orders/${orderRef}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }).then(res => res.json() as Promise<{ payments: Array<{ status: string }> }>);
      assert.deepEqual(
        viewFromA.payments.map(payment => payment.status),
        ['paid'],
      );
    }));
});
