/**
 * `startDemo(options)`: the whole product on loopback: the offline Galaxy Pay sandbox, the standalone signer
 * (its own origin, SQLite in a temporary folder unless a store is given) and the shop. `pnpm demo` runs it on
 * fixed ports; the end-to-end tests on ephemeral ones. `close()` stops everything it started.
 *
 * Everything the product does is on, with no configuration:
 * - saved cards and FAST_PAY, with a token encryption key and a customer-handle secret minted here at every
 *   start (demo-only secrets: never written anywhere, gone when the demo stops, as are the cards they guard);
 * - manual capture: a second signer on the same origin and store, under `/manual`, opens authorize-only
 *   sessions (`CAPTURE_MODE=manual`); the shop's "authorize only" choice points the button at it.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox, type SandboxOptions } from '@galaxy-pay/sandbox';
import { createApp, openStore, type AppOptions, type Signer, type Store } from '@galaxy-pay/server';
import { loadShopAssets, type ShopAssets } from './assets.js';
import { createShop, type ShopOrder } from './shop.js';

/** Credentials of the local sandbox only; the salt is the one in Galaxy Pay's documentation. */
export const DEMO_API_KEY = 'demo-api-key';
export const DEMO_SALT = 'GO@2021';
/** The signer's admin token in the demo (loopback only; a real one comes from a secret store). */
export const DEMO_ADMIN_TOKEN = 'demo-admin-token-change-me-0123456789';

/** Where the manual-capture signer is mounted on the signer's origin. */
export const MANUAL_CAPTURE_PATH = '/manual';

export interface DemoOptions {
  /** Ports on `host`; 0 (the default) picks free ones. */
  ports?: { sandbox?: number; signer?: number; shop?: number };
  host?: string;
  /** A ready, migrated store (e.g. PostgreSQL); default: SQLite in a temporary folder, removed on close. */
  store?: Store;
  sandbox?: Partial<SandboxOptions>;
  /** Options of both signers (the manual-capture one keeps `captureMode: 'manual'` and its own URL). */
  signer?: Partial<AppOptions>;
  /** Already loaded shop assets (tests load them once). */
  assets?: ShopAssets;
}

export interface DemoStack {
  shopUrl: string;
  signerUrl: string;
  /** The manual-capture signer: `${signerUrl}/manual`, same origin, same store and admin token. */
  manualSignerUrl: string;
  sandboxUrl: string;
  adminToken: string;
  store: Store;
  sandbox: Sandbox;
  signer: Signer;
  manualSigner: Signer;
  /** The shop's own order records, updated by the signer's webhook. */
  orders: Map<string, ShopOrder>;
  close(): Promise<void>;
}

async function listen(port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server): Promise<void> {
  if (!server.listening) return;
  // Server-Sent Event streams never end on their own.
  server.closeAllConnections();
  await new Promise<void>(resolve => server.close(() => resolve()));
}

export async function startDemo(options: DemoOptions = {}): Promise<DemoStack> {
  const host = options.host ?? '127.0.0.1';
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };
  try {
    const assets = options.assets ?? (await loadShopAssets());
    const sandbox = createSandbox({ apiKey: DEMO_API_KEY, salt: DEMO_SALT, ...options.sandbox });
    const sandboxUrl = await sandbox.listen(options.ports?.sandbox ?? 0, host);
    cleanups.push(() => sandbox.close());

    let store = options.store;
    if (!store) {
      const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-demo-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const ownStore = openStore(`file:${join(dir, 'signer.db')}`);
      await ownStore.migrate();
      cleanups.push(() => ownStore.close());
      store = ownStore;
    }

    const signerServer = await listen(options.ports?.signer ?? 0, host);
    cleanups.push(() => stop(signerServer.server));
    const shopServer = await listen(options.ports?.shop ?? 0, host);
    cleanups.push(() => stop(shopServer.server));
    const shopUrl = shopServer.url;
    const signerUrl = signerServer.url;
    const webhookSecret = randomBytes(32).toString('base64url');
    const manualSignerUrl = `${signerUrl}${MANUAL_CAPTURE_PATH}`;

    const common: AppOptions = {
      apiKey: DEMO_API_KEY,
      salt: DEMO_SALT,
      gatewayBaseUrl: sandboxUrl,
      publicUrl: signerUrl,
      // Both spellings of the shop's origin: the shopper may type either.
      allowedOrigins: [shopUrl, shopUrl.replace('127.0.0.1', 'localhost')],
      store,
      adminToken: DEMO_ADMIN_TOKEN,
      webhook: { url: `${shopUrl}/api/galaxy-pay/webhook`, secret: webhookSecret },
      // TOKEN_ENCRYPTION_KEY and CUSTOMER_HANDLE_SECRET, minted for this run only (see the file comment).
      savedCards: {
        encryptionKeys: [randomBytes(32)],
        customerHandleSecret: randomBytes(32).toString('base64url'),
      },
      ...options.signer,
    };
    const auto = createApp(common);
    const manual = createApp({ ...common, publicUrl: manualSignerUrl, captureMode: 'manual' });
    const { signer } = auto;
    const manualSigner = manual.signer;
    await Promise.all([signer.ready, manualSigner.ready]);
    // Runs before the server closes (cleanups run in reverse): readiness fails first.
    cleanups.splice(cleanups.length - 1, 0, () =>
      Promise.all([signer.close(), manualSigner.close()]).then(() => undefined),
    );
    signerServer.server.on('request', (req, res) => {
      const path = req.url ?? '';
      const toManual =
        path === MANUAL_CAPTURE_PATH ||
        path.startsWith(`${MANUAL_CAPTURE_PATH}/`) ||
        path.startsWith(`${MANUAL_CAPTURE_PATH}?`);
      (toManual ? manual.listener : auto.listener)(req, res);
    });

    const shop = createShop({
      signerUrl,
      manualSignerUrl,
      adminToken: DEMO_ADMIN_TOKEN,
      gatewayOrigins: [new URL(sandboxUrl).origin],
      webhookSecret,
      sandboxUrl,
      assets,
    });
    shopServer.server.on('request', shop.app);

    return {
      shopUrl,
      signerUrl,
      manualSignerUrl,
      sandboxUrl,
      adminToken: DEMO_ADMIN_TOKEN,
      store,
      sandbox,
      signer,
      manualSigner,
      orders: shop.orders,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
