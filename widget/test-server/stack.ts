/**
 * The real sandbox and signer for the browser tests, as a WTR plugin. The signer allows the test page's
 * origin; browser tests reach the stack through `executeServerCommand`:
 * - `galaxy-pay:stack` → `{ signerUrl, sandboxUrl }`
 * - `galaxy-pay:complete` `{ sessionId, outcome }` → finishes the payment in the sandbox (IPN delivered)
 *   and answers the URL the gateway would send the browser to (`callback`).
 * - `galaxy-pay:customer-handle` `{ customerRef, expired? }` → a customer handle, minted through the admin API
 *   (`POST /admin/customer-handles`, as a merchant's back end would), or an already expired one
 * - `galaxy-pay:save-card` `{ customerRef }` → pays an order with `saveCard` and a test card, so the customer
 *   has a saved card (the token arrives in the verified IPN, as in production)
 * Saved cards are on (an encryption key and a customer-handle secret). `shortSignerUrl` is a second signer on
 * the same sandbox whose sessions expire after `SHORT_TTL_SECONDS` (QR expiry).
 * Order references name sandbox faults: `W-abc--no-ipn--late_2` → `sandbox:no-ipn,late:2`.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox } from '@galaxy-pay/sandbox';
import { createApp, mintCustomerHandle, openStore, type AppOptions } from '@galaxy-pay/server';

const API_KEY = 'widget-test-key';
const SALT = 'GO@2021';
const ADMIN_TOKEN = 'widget-test-admin-token-0123456789abcdef';
const HANDLE_SECRET = randomBytes(32).toString('base64url');
const SHORT_TTL_SECONDS = 4;

export interface StackInfo {
  signerUrl: string;
  sandboxUrl: string;
  /** A signer whose sessions expire after a few seconds. */
  shortSignerUrl: string;
}

/** Starts sandbox + signer on 127.0.0.1 for the given page origins; `close()` stops everything. */
export async function startStack(pageOrigins: string[]) {
  const sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, ipnRetryDelaysMs: [50, 100, 200] });
  const sandboxUrl = await sandbox.listen(0, '127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-widget-'));
  const started: Array<() => Promise<void>> = [];

  async function startSigner(name: string, options: Partial<AppOptions> = {}) {
    const store = await openStore(`file:${join(dir, `${name}.db`)}`);
    await store.migrate();
    const server = createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const signerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { listener, signer } = createApp({
      apiKey: API_KEY,
      salt: SALT,
      gatewayBaseUrl: sandboxUrl,
      publicUrl: signerUrl,
      allowedOrigins: pageOrigins,
      store,
      adminToken: ADMIN_TOKEN,
      savedCards: { encryptionKeys: [randomBytes(32)], customerHandleSecret: HANDLE_SECRET },
      resolveOrder: orderRef => {
        const faults = orderRef
          .split('--')
          .slice(1)
          .map(token => token.replace('_', ':'));
        const tail = faults.length ? ` sandbox:${faults.join(',')}` : '';
        return { amount: 150_000, description: `Widget test ${orderRef.split('--')[0]}${tail}` };
      },
      rateLimits: { create: 10_000, read: 10_000, admin: 10_000 },
      ...options,
    });
    server.on('request', listener);
    await signer.ready;
    started.push(async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      await signer.close();
      await store.close();
    });
    return { signerUrl, store };
  }

  const { signerUrl, store } = await startSigner('signer');
  const { signerUrl: shortSignerUrl } = await startSigner('short', {
    sessionTtlSeconds: SHORT_TTL_SECONDS,
    // No background sweep during a test: the widget's own question when its countdown runs out is what
    // expires the session (GET /sessions/:id ends a lapsed one the gateway says is unpaid). A fast sweep
    // raced the countdown on a loaded machine and ended the flow before it announced the expiry.
    reconcile: { staleAfterMs: 500, intervalMs: 3_600_000 },
  });

  async function complete(sessionId: string, outcome: 'success' | 'failure' | 'cancel') {
    const session = await store.getSession(sessionId);
    if (!session?.transactionId) throw new Error(`no transaction for session ${sessionId}`);
    const res = await fetch(
      `${sandboxUrl}/__sandbox/transactions/${session.transactionId}/complete?wait=ipn`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // A QR payment is made in a banking app: no card.
        body: JSON.stringify({
          outcome,
          ...(session.paymentMethod === 'QRPAY' ? {} : { card: '9704000000000018' }),
        }),
      },
    );
    if (!res.ok) throw new Error(`sandbox complete: ${res.status} ${await res.text()}`);
    const answer = (await res.json()) as { callback: { location: string } | null };
    return { callback: answer.callback?.location ?? null };
  }

  async function customerHandle(customerRef: string, expired = false): Promise<string> {
    if (expired) {
      return mintCustomerHandle(HANDLE_SECRET, customerRef, 60, new Date(Date.now() - 3_600_000))
        .handle;
    }
    const res = await fetch(`${signerUrl}/admin/customer-handles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ customerRef, ttlSeconds: 600 }),
    });
    if (!res.ok) throw new Error(`customer handle: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { handle: string }).handle;
  }

  async function saveCard(customerRef: string) {
    const res = await fetch(`${signerUrl}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        orderRef: `W-save-${randomBytes(4).toString('hex')}`,
        customerHandle: await customerHandle(customerRef),
        saveCard: true,
      }),
    });
    if (!res.ok) throw new Error(`save card session: ${res.status} ${await res.text()}`);
    await complete(((await res.json()) as { sessionId: string }).sessionId, 'success');
    const cards = await fetch(`${signerUrl}/admin/customers/${customerRef}/cards`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return (await cards.json()) as { cards: Array<{ tokenId: string; maskedNumber: string }> };
  }

  return {
    info: { signerUrl, sandboxUrl, shortSignerUrl } satisfies StackInfo,
    complete,
    customerHandle,
    saveCard,
    async close() {
      for (const stop of started) await stop();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** WTR plugin: the stack lives as long as the test server. */
export function stackPlugin() {
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  return {
    name: 'galaxy-pay-stack',
    async serverStart({ config }: { config: { hostname?: string; port?: number } }) {
      stack = await startStack([`http://${config.hostname ?? 'localhost'}:${config.port}`]);
    },
    async serverStop() {
      await stack?.close();
    },
    async executeCommand({ command, payload }: { command: string; payload?: unknown }) {
      if (!stack) return undefined;
      if (command === 'galaxy-pay:stack') return stack.info;
      if (command === 'galaxy-pay:complete') {
        const { sessionId, outcome } = payload as {
          sessionId: string;
          outcome: 'success' | 'failure' | 'cancel';
        };
        return stack.complete(sessionId, outcome);
      }
      if (command === 'galaxy-pay:customer-handle') {
        const { customerRef, expired } = payload as { customerRef: string; expired?: boolean };
        return stack.customerHandle(customerRef, expired);
      }
      if (command === 'galaxy-pay:save-card') {
        return stack.saveCard((payload as { customerRef: string }).customerRef);
      }
      return undefined;
    },
  };
}
