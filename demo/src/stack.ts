/**
 * `startDemo(options)`: the whole product on loopback: the offline Galaxy Pay sandbox, the standalone signer
 * (its own origin, SQLite in a temporary folder unless a store is given) and the shop. `pnpm demo` runs it on
 * fixed ports; the end-to-end tests on ephemeral ones. `close()` stops everything it started.
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

export interface DemoOptions {
  /** Ports on `host`; 0 (the default) picks free ones. */
  ports?: { sandbox?: number; signer?: number; shop?: number };
  host?: string;
  /** A ready, migrated store (e.g. PostgreSQL); default: SQLite in a temporary folder, removed on close. */
  store?: Store;
  sandbox?: Partial<SandboxOptions>;
  signer?: Partial<AppOptions>;
  /** Already loaded shop assets (tests load them once). */
  assets?: ShopAssets;
}

export interface DemoStack {
  shopUrl: string;
  signerUrl: string;
  sandboxUrl: string;
  adminToken: string;
  store: Store;
  sandbox: Sandbox;
  signer: Signer;
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

    const { listener: signerListener, signer } = createApp({
      apiKey: DEMO_API_KEY,
      salt: DEMO_SALT,
      gatewayBaseUrl: sandboxUrl,
      publicUrl: signerUrl,
      // Both spellings of the shop's origin: the shopper may type either.
      allowedOrigins: [shopUrl, shopUrl.replace('127.0.0.1', 'localhost')],
      store,
      adminToken: DEMO_ADMIN_TOKEN,
      webhook: { url: `${shopUrl}/api/galaxy-pay/webhook`, secret: webhookSecret },
      ...options.signer,
    });
    await signer.ready;
    // Runs before the server closes (cleanups run in reverse): readiness fails first.
    cleanups.splice(cleanups.length - 1, 0, () => signer.close());
    signerServer.server.on('request', signerListener);

    const shop = createShop({
      signerUrl,
      adminToken: DEMO_ADMIN_TOKEN,
      gatewayOrigins: [new URL(sandboxUrl).origin],
      webhookSecret,
      assets,
    });
    shopServer.server.on('request', shop.app);

    return {
      shopUrl,
      signerUrl,
      sandboxUrl,
      adminToken: DEMO_ADMIN_TOKEN,
      store,
      sandbox,
      signer,
      orders: shop.orders,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
