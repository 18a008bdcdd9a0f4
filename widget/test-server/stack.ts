/**
 * The real sandbox and signer for the browser tests, as a WTR plugin. The signer allows the test page's
 * origin; browser tests reach the stack through `executeServerCommand`:
 * - `galaxy-pay:stack` → `{ signerUrl, sandboxUrl }`
 * - `galaxy-pay:complete` `{ sessionId, outcome }` → finishes the payment in the sandbox (IPN delivered)
 *   and answers the URL the gateway would send the browser to (`callback`).
 * Order references name sandbox faults: `W-abc--no-ipn--late_2` → `sandbox:no-ipn,late:2`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox } from '@galaxy-pay/sandbox';
import { createApp, openStore } from '@galaxy-pay/server';

const API_KEY = 'widget-test-key';
const SALT = 'GO@2021';

export interface StackInfo {
  signerUrl: string;
  sandboxUrl: string;
}

/** Starts sandbox + signer on 127.0.0.1 for the given page origins; `close()` stops everything. */
export async function startStack(pageOrigins: string[]) {
  const sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, ipnRetryDelaysMs: [50, 100, 200] });
  const sandboxUrl = await sandbox.listen(0, '127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-widget-'));
  const store = await openStore(`file:${join(dir, 'signer.db')}`);
  await store.migrate();
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const signerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { app, signer } = createApp({
    apiKey: API_KEY,
    salt: SALT,
    gatewayBaseUrl: sandboxUrl,
    publicUrl: signerUrl,
    allowedOrigins: pageOrigins,
    store,
    resolveOrder: orderRef => {
      const faults = orderRef
        .split('--')
        .slice(1)
        .map(token => token.replace('_', ':'));
      const tail = faults.length ? ` sandbox:${faults.join(',')}` : '';
      return { amount: 150_000, description: `Widget test ${orderRef.split('--')[0]}${tail}` };
    },
    rateLimits: { create: 10_000, read: 10_000, admin: 10_000 },
  });
  server.on('request', app);
  await signer.ready;

  async function complete(sessionId: string, outcome: 'success' | 'failure' | 'cancel') {
    const session = await store.getSession(sessionId);
    if (!session?.transactionId) throw new Error(`no transaction for session ${sessionId}`);
    const res = await fetch(
      `${sandboxUrl}/__sandbox/transactions/${session.transactionId}/complete?wait=ipn`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome, card: '9704000000000018' }),
      },
    );
    if (!res.ok) throw new Error(`sandbox complete: ${res.status} ${await res.text()}`);
    const answer = (await res.json()) as { callback: { location: string } | null };
    return { callback: answer.callback?.location ?? null };
  }

  return {
    info: { signerUrl, sandboxUrl } satisfies StackInfo,
    complete,
    async close() {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      await signer.close();
      await sandbox.close();
      await store.close();
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
      return undefined;
    },
  };
}
