/**
 * T24 (docs/reliability.md §4): crash consistency. The standalone process killed with SIGKILL during an IPN
 * storm and restarted on the same file, and (in process, on both stores) a failure injected just before or
 * just after the commit: never a 2xx for uncommitted work, and every session ends paid exactly once.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IpnAttempt } from '@galaxy-pay/sandbox';
import { createSqliteStore } from '../store/sqlite.js';
import type { SessionStatus } from '../store/store.js';
import { createSessionFrom, useStandaloneSigner } from '../testing/signer-process.js';
import {
  completeInSandbox,
  eventually,
  freshStore,
  ipnAttempts,
  openTestSession,
  startStack,
  transactionIdOf,
  type Stack,
} from '../testing/test-support.js';

describe('T24 crash consistency: kill -9 during an IPN storm, restart on the same file', () => {
  const N = 40;
  const orders = Object.fromEntries(
    Array.from({ length: N }, (_, i) => [
      `CRASH-${i + 1}`,
      { amount: 10_000 * (i + 1), description: `Đơn hàng ${i + 1} sandbox:dup:2` },
    ]),
  );
  // Retries long enough to outlive a restart (~1.5 s here): 100 ms … 3.2 s, 6.3 s in all.
  const standalone = useStandaloneSigner(orders, {
    ipnRetryDelaysMs: [100, 200, 400, 800, 1600, 3200],
    ipnTimeoutMs: 500,
  });
  const gateway = standalone.gateway;

  it('T24 acknowledges only committed work, and ends with every session paid exactly once', async t => {
    const first = await standalone.start();
    // 40 sessions; the create limit is 30 a minute per IP, so they come from two loopback addresses.
    const created = await Promise.all(
      Object.keys(orders).map((ref, i) =>
        createSessionFrom(first.url, ref, i < N / 2 ? '127.0.0.1' : '127.0.0.2'),
      ),
    );
    assert.deepEqual(
      created.map(c => c.status),
      Array(N).fill(201),
      created.find(c => c.status !== 201)?.body,
    );
    const sessionOf = new Map(
      created.map(c => [transactionIdOf(c.json.checkoutUrl), String(c.json.sessionId)]),
    );

    // The storm: every payment completes at once; each IPN is sent twice (dup:2), in parallel.
    await Promise.all(
      [...sessionOf.keys()].map(txn => completeInSandbox(gateway, txn, 'success', { wait: false })),
    );
    const killAfter = Math.floor(N / 4);
    await eventually(
      async () => (await ipnAttempts(gateway)).filter(a => a.acknowledged).length >= killAfter,
      10_000,
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const killed = await first.exited;
    assert.equal(killed.signal, 'SIGKILL');
    // What the dead process committed: the file as it left it.
    const store = createSqliteStore(standalone.databaseUrl);
    const snapshot = new Map<string, SessionStatus | undefined>();
    try {
      for (const [txn, id] of sessionOf) snapshot.set(txn, (await store.getSession(id))?.status);
    } finally {
      await store.close();
    }

    // When the signer restarts on the same file and port, the gateway's retries finish the job.
    const second = await standalone.start({ port: first.port });
    const restartMs = Date.now() - killedAt;
    const reopened = createSqliteStore(standalone.databaseUrl);
    try {
      await eventually(async () => {
        for (const id of sessionOf.values()) {
          if ((await reopened.getSession(id))?.status !== 'paid') return false;
        }
        return true;
      }, 15_000);
      // Let the duplicate deliveries still under way end too.
      await eventually(async () => {
        const attempts = await ipnAttempts(gateway);
        const byDelivery = new Map<number, IpnAttempt[]>();
        for (const a of attempts)
          byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
        return (
          byDelivery.size === 2 * N &&
          [...byDelivery.values()].every(list => list.some(a => a.acknowledged))
        );
      }, 15_000);

      // Then: every acknowledgement sent before the crash stands for a payment committed by then. An
      // attempt that began before the kill can only have been answered by the first process, however late
      // the sandbox recorded its answer.
      const all = await ipnAttempts(gateway);
      const ackedBeforeKill = all.filter(a => a.acknowledged && Date.parse(a.at) <= killedAt);
      for (const attempt of ackedBeforeKill) {
        assert.equal(
          snapshot.get(attempt.transactionID!),
          'paid',
          `acknowledged but not paid: ${attempt.transactionID}`,
        );
      }

      for (const [txn, id] of sessionOf) {
        const session = await reopened.getSession(id);
        const outbox = await reopened.listOutbox(id);
        const events = await reopened.listEvents(id);
        assert.equal(session?.status, 'paid', txn);
        assert.equal(session?.lateSuccess, false);
        assert.equal(session?.amount, orders[session!.orderRef]!.amount);
        assert.deepEqual(
          outbox.map(o => o.event),
          ['paid'],
          `outbox of ${id}`,
        );
        assert.equal(
          events.filter(e => e.verdict === 'applied').length,
          1,
          `applied events of ${id}`,
        );
      }
      for (const attempt of all.filter(a => a.acknowledged)) {
        assert.equal(
          (await reopened.getSession(sessionOf.get(attempt.transactionID!)!))?.status,
          'paid',
        );
      }

      const errors = all.filter(a => a.error !== undefined);
      const answered409 = all.filter(a => a.answer?.ipnStatus === '409').length;
      const committedUnacked = [...snapshot].filter(
        ([txn, status]) => status === 'paid' && !ackedBeforeKill.some(a => a.transactionID === txn),
      ).length;
      t.diagnostic(
        `T24 ${N} sessions, ${all.length} IPN attempts (${new Set(all.map(a => a.deliveryId)).size} deliveries); ` +
          `at the kill: ${ackedBeforeKill.length} acknowledged, ${[...snapshot.values()].filter(s => s === 'paid').length} paid in the file, ` +
          `${committedUnacked} committed without an acknowledgement; ${errors.length} attempts failed ` +
          `(${[...new Set(errors.map(e => e.error))].join(', ')}); restart ${restartMs} ms; ` +
          `${answered409} answered 409 (already paid); every session paid once`,
      );
    } finally {
      await reopened.close();
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`T24 crash consistency: a failure injected around the commit (in process, ${kind})`, () => {
    let fresh: Awaited<ReturnType<typeof freshStore>>;
    let stack: Stack;
    let inject: 'before-commit' | 'after-commit' | undefined;

    before(async () => {
      fresh = await freshStore(kind);
      // The IPN's settlement fails once: either before anything is written, or after its transaction
      // committed (the process "dies" between the commit and the HTTP reply).
      const store = new Proxy(fresh.store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (property !== 'settleReport' || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            const mode = inject;
            inject = undefined;
            if (mode === 'before-commit') throw new Error('injected: before commit');
            const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(
              target,
              args,
            )) as unknown;
            if (mode === 'after-commit') throw new Error('injected: after commit');
            return result;
          };
        },
      });
      stack = await startStack({ sharedStore: store });
    });
    after(async () => {
      await stack.close();
      await fresh.store.close();
      await fresh.drop();
    });

    for (const mode of ['before-commit', 'after-commit'] as const) {
      it(`T24 ${mode}: answers 503 (never a 2xx), and the retry ends paid exactly once (${mode === 'after-commit' ? '409' : '200'})`, async () => {
        const orderRef = mode === 'before-commit' ? 'ORDER-1' : 'ORDER-2';
        const { id, transactionId } = await openTestSession(stack, orderRef);
        inject = mode;

        await completeInSandbox(stack, String(transactionId), 'success');

        const attempts = await ipnAttempts(stack, { transactionID: transactionId });
        assert.deepEqual(
          attempts.map(a => [a.answer?.httpStatus, a.answer?.ipnStatus, a.acknowledged]),
          [
            [503, undefined, false],
            [200, mode === 'after-commit' ? '409' : '200', true],
          ],
        );
        assert.equal((await fresh.store.getSession(id))?.status, 'paid');
        assert.deepEqual(
          (await fresh.store.listOutbox(id)).map(o => o.event),
          ['paid'],
        );
        const events = await fresh.store.listEvents(id);
        assert.equal(events.filter(e => e.verdict === 'applied').length, 1);
      });
    }
  });
}
