/**
 * T31 (docs/reliability.md §5): graceful shutdown. Readiness fails first; on SIGTERM the standalone process
 * finishes the IPN and the session creation in flight, commits them, and exits 0 before its deadline.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCallback } from '@galaxy-pay/protocol';
import { createSqliteStore } from '../store/sqlite.js';
import { slowRequest } from '../testing/raw-http.js';
import { createSessionFrom, useStandaloneSigner } from '../testing/signer-process.js';
import {
  SALT,
  completeInSandbox,
  eventually,
  gatewayCallbackFor,
  requestDataOf,
  sandboxRequests,
  transactionIdOf,
  useStack,
  widgetCall,
} from '../testing/test-support.js';

describe('T31 graceful shutdown', () => {
  describe('in process', () => {
    const stack = useStack();

    it('T31 fails readiness first on drain(), while liveness and IPNs keep working', async () => {
      const before = await fetch(`${stack().signerUrl}/readyz`);
      const created = await widgetCall(stack(), 'POST', '/sessions', { orderRef: 'ORDER-1' });
      const session = await stack().store.getSession(String(created.json.sessionId));

      stack().signer.drain();
      const during = await fetch(`${stack().signerUrl}/readyz`);
      const live = await fetch(`${stack().signerUrl}/healthz`);
      const ipn = await fetch(`${stack().signerUrl}/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(encodeCallback(gatewayCallbackFor(session!), SALT)),
      });

      assert.equal(before.status, 200);
      assert.equal(during.status, 503);
      assert.deepEqual(await during.json(), { status: 'draining' });
      assert.equal(live.status, 200);
      assert.equal(ipn.status, 200);
      assert.deepEqual(((await ipn.json()) as { ipnStatus: string }).ipnStatus, '200');
    });
  });

  describe('the standalone process', () => {
    const SLOW = 'Phở bò sandbox:delay:700';
    const standalone = useStandaloneSigner(
      {
        'ORDER-IPN': { amount: 250_000, description: 'Cơm tấm sandbox:no-ipn' },
        'ORDER-SLOW': { amount: 330_000, description: SLOW },
      },
      { ipnRetryDelaysMs: [50] },
    );

    it('T31 on SIGTERM finishes the in-flight IPN and session creation, commits them, and exits 0 before the deadline', async t => {
      // At level info, the signer says when it starts shutting down.
      const signer = await standalone.start({ env: { LOG_LEVEL: 'info' } });
      const created = await createSessionFrom(signer.url, 'ORDER-IPN');
      assert.equal(created.status, 201, created.body);
      const { callback } = await completeInSandbox(
        standalone.gateway,
        transactionIdOf(created.json.checkoutUrl),
        'success',
      );
      const envelope = JSON.stringify(callback!.envelope);

      // Given an IPN whose headers and first bytes have arrived, and a session creation waiting on the
      // gateway: the sandbox has its checkout call (it holds the reply 700 ms), sent after the IPN's head.
      const ipn = slowRequest(`${signer.url}/ipn`, envelope);
      await ipn.started;
      const creating = createSessionFrom(signer.url, 'ORDER-SLOW').catch((error: Error) => error);
      await eventually(async () =>
        (await sandboxRequests(standalone.gateway, '/api/v1/transaction/checkout')).some(
          request => requestDataOf(request).orderDescription === SLOW,
        ),
      );

      // When SIGTERM arrives, and only once the signer is shutting down the rest of the IPN body
      const signalled = Date.now();
      signer.child.kill('SIGTERM');
      await eventually(() => signer.output().includes('"msg":"shutting down"'));
      ipn.finish();
      const [ipnAnswer, slow, exit] = await Promise.all([ipn.answer, creating, signer.exited]);
      const exitMs = Date.now() - signalled;
      t.diagnostic(
        `T31 exit ${exit.code} after ${exitMs} ms; IPN ${ipnAnswer instanceof Error ? ipnAnswer.message : ipnAnswer.status}; ` +
          `session creation ${slow instanceof Error ? slow.message : slow.status}`,
      );

      // Then: exit 0 before the 10 s deadline, and every 2xx stands for committed work
      assert.equal(exit.code, 0, signer.output());
      assert.ok(exitMs < 10_000, `exited after ${exitMs} ms`);
      const store = createSqliteStore(standalone.databaseUrl);
      try {
        assert.ok(
          !(ipnAnswer instanceof Error),
          `the in-flight IPN got no answer: ${String(ipnAnswer)}`,
        );
        assert.equal(ipnAnswer.status, 200, ipnAnswer.body);
        assert.equal((JSON.parse(ipnAnswer.body) as { ipnStatus: string }).ipnStatus, '200');
        assert.equal(
          ipnAnswer.headers.connection,
          'close',
          'answers during shutdown close their connection',
        );
        assert.equal((await store.getSession(String(created.json.sessionId)))?.status, 'paid');
        assert.ok(
          !(slow instanceof Error),
          `the in-flight creation got no answer: ${String(slow)}`,
        );
        assert.equal(slow.status, 201, slow.body);
        const saved = await store.getSession(String(slow.json.sessionId));
        assert.equal(saved?.checkoutUrl, slow.json.checkoutUrl);
        assert.equal(saved?.status, 'pending');
      } finally {
        await store.close();
      }
      const refused = await fetch(`${signer.url}/readyz`).then(
        () => 'answered',
        () => 'refused',
      );
      assert.equal(refused, 'refused');
    });
  });
});
