/**
 * Issue 11 §2 and §8: a refund, void or capture is recorded as done only on evidence (its own success
 * answer, or a query answer that shows it); a definite refusal releases it; an unknown outcome stays
 * unknown, is shown as such, and is settled by the gateway's query (background pass or admin query). With
 * auto capture, an authorization the gateway answered instead is captured or voided, never left held.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { admin, gatewayCalls, type Loose } from '../testing/admin-test-support.js';
import type { PaymentNotice } from '../delivery/notices.js';
import {
  completeInSandbox,
  eventually,
  startStack,
  transactionIdOf,
  widgetCall,
  type Stack,
  type StoreKind,
} from '../testing/test-support.js';
import { matchRefunds } from './query.js';

function nextRef(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Registers an order whose description carries sandbox faults, and pays it in the sandbox. */
async function payOrder(
  stack: Stack,
  orderRef: string,
  amount: number,
  faults: string,
  options: { card?: string; body?: Record<string, unknown> } = {},
): Promise<{ sessionId: string; transactionId: string }> {
  const registered = await admin(stack, 'POST', '/admin/orders', {
    orderRef,
    amount,
    description: `Order ${orderRef}${faults ? ` sandbox:${faults}` : ''}`,
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.json));
  const created = await widgetCall(stack, 'POST', '/sessions', { orderRef, ...options.body });
  assert.equal(created.status, 201, created.text);
  const transactionId = transactionIdOf(created.json.checkoutUrl);
  await completeInSandbox(stack, transactionId, 'success', { card: options.card });
  return { sessionId: String(created.json.sessionId), transactionId };
}

/** What the sandbox (the gateway) holds for a transaction. */
async function gatewayTransaction(
  stack: Stack,
  transactionId: string,
): Promise<{ state: string; capturedAmount: number; refunded: number }> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/transactions/${transactionId}`);
  const txn = (await res.json()) as Loose;
  return {
    state: String(txn.state),
    capturedAmount: Number(txn.capturedAmount),
    refunded: (txn.refunds as Array<{ amount: number }>).reduce((sum, r) => sum + r.amount, 0),
  };
}

async function setGatewayFaults(stack: Stack, faults: string): Promise<void> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ faults }),
  });
  assert.equal(res.status, 200, await res.text());
}

function refundCall(stack: Stack, orderRef: string, amount: number, key: string) {
  return admin(
    stack,
    'POST',
    `/admin/orders/${orderRef}/refund`,
    { amount },
    { 'idempotency-key': key },
  );
}

async function shown(stack: Stack, orderRef: string): Promise<Loose> {
  const res = await admin(stack, 'GET', `/admin/orders/${orderRef}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

/** Every notice the merchant's hooks received, in delivery order. */
function recordingHooks(notices: PaymentNotice[]) {
  const record = (notice: PaymentNotice) => void notices.push(notice);
  return {
    onPaid: record,
    onAuthorized: record,
    onVoided: record,
    onFailed: record,
    onRefunded: record,
    onCaptured: record,
    onOperationFailed: record,
    onOperationUnknown: record,
  };
}

function eventsOf(notices: PaymentNotice[], orderRef: string): string[] {
  return notices.filter(n => n.orderRef === orderRef).map(n => n.event);
}

describe('matchRefunds', () => {
  const refunds = [
    { id: 'a', amount: 10_000 },
    { id: 'b', amount: 20_000 },
    { id: 'c', amount: 20_000 },
  ];

  it('decides all, none, or the members every matching combination agrees on', () => {
    assert.deepEqual(
      [...matchRefunds(refunds, 50_000)],
      [
        ['a', true],
        ['b', true],
        ['c', true],
      ],
    );
    assert.deepEqual(
      [...matchRefunds(refunds, 0)],
      [
        ['a', false],
        ['b', false],
        ['c', false],
      ],
    );
    // 20 000 is b or c: both undecided, but a is in neither combination.
    assert.deepEqual([...matchRefunds(refunds, 20_000)], [['a', false]]);
    assert.deepEqual([...matchRefunds(refunds, 30_000)], [['a', true]]);
  });

  it('decides nothing when no combination adds up or the gateway shows less than we recorded', () => {
    assert.equal(matchRefunds(refunds, 15_000).size, 0);
    assert.equal(matchRefunds(refunds, -1).size, 0);
    assert.equal(matchRefunds(refunds, 60_000).size, 0);
  });
});

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`refunds are settled by evidence only (${kind})`, () => {
    let stack: Stack;
    const notices: PaymentNotice[] = [];
    before(async () => {
      stack = await startStack({
        store: kind,
        signer: { gateway: { timeoutMs: 1500 }, hooks: recordingHooks(notices) },
      });
    });
    afterEach(async () => {
      await setGatewayFaults(stack, '');
    });
    after(async () => {
      await stack.close();
    });

    it('issue 11 §2: a first send answered 409 Duplicate is failed and released, and a retry with the same key records no phantom refund', async () => {
      const orderRef = nextRef('D');
      const { transactionId } = await payOrder(stack, orderRef, 400_000, '409-duplicate@refund');

      const first = await refundCall(stack, orderRef, 400_000, `${orderRef}-k`);
      const again = await refundCall(stack, orderRef, 400_000, `${orderRef}-k`);

      assert.deepEqual([first.status, first.json.error?.code], [422, 'gateway_refused']);
      assert.deepEqual([again.status, again.json.error?.code], [422, 'gateway_refused']);
      const order = await shown(stack, orderRef);
      assert.deepEqual(
        order.operations.filter((op: Loose) => op.kind === 'refund').map((op: Loose) => op.state),
        ['failed'],
      );
      assert.deepEqual(
        [order.payments[0].refunded, order.payments[0].refundPending, order.payments[0].refundable],
        [0, 0, 400_000],
      );
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 0);
      await eventually(() => eventsOf(notices, orderRef).includes('refund_failed') || undefined);
    });

    it('keeps a refund whose re-send is refused as unknown, and lets the query decide it never happened (no phantom success)', async () => {
      const orderRef = nextRef('P');
      // The first send gets a 500 (nothing done); the re-send with the same key gets 409 Duplicate.
      const { transactionId } = await payOrder(stack, orderRef, 300_000, '500@refund');

      const first = await refundCall(stack, orderRef, 100_000, `${orderRef}-k`);
      await setGatewayFaults(stack, '409-duplicate@refund');
      const retry = await refundCall(stack, orderRef, 100_000, `${orderRef}-k`);

      assert.deepEqual([first.status, first.json.error?.code], [502, 'outcome_unknown']);
      assert.match(first.json.error.message, /unknown.*being checked/);
      assert.deepEqual([retry.status, retry.json.error?.code], [422, 'gateway_refused']);
      const payment = (await shown(stack, orderRef)).payments[0];
      assert.deepEqual(
        [payment.refunded, payment.refundPending, payment.refundable],
        [0, 0, 300_000],
      );
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 0);
    });

    it('records a re-send refused as a duplicate as succeeded only because the query shows the refund', async () => {
      const orderRef = nextRef('S');
      const { transactionId } = await payOrder(stack, orderRef, 300_000, '');
      // The refund is made, but its answer is lost (socket reset after the work).
      await setGatewayFaults(stack, 'reset@refund');
      const first = await refundCall(stack, orderRef, 120_000, `${orderRef}-k`);
      await setGatewayFaults(stack, '');

      const retry = await refundCall(stack, orderRef, 120_000, `${orderRef}-k`);

      assert.deepEqual([first.status, first.json.error?.code], [502, 'outcome_unknown']);
      assert.equal(retry.status, 201, JSON.stringify(retry.json));
      assert.equal(retry.json.operation.state, 'succeeded');
      assert.match(retry.json.operation.detail, /settled by query/);
      assert.equal(retry.json.payment.refunded, 120_000);
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 120_000);
    });

    it('shows a refund without an answer as unknown (admin API, hooks), then the background pass settles it as succeeded', async () => {
      const orderRef = nextRef('U');
      const { transactionId } = await payOrder(stack, orderRef, 500_000, '');
      await refundCall(stack, orderRef, 100_000, `${orderRef}-a`);
      await setGatewayFaults(stack, 'reset@refund');

      const lost = await refundCall(stack, orderRef, 150_000, `${orderRef}-b`);
      const before = await shown(stack, orderRef);
      await setGatewayFaults(stack, '');
      await stack.signer.sweepNow();
      const afterPass = await shown(stack, orderRef);

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      const unknown = before.operations.find((op: Loose) => op.state === 'unknown');
      assert.deepEqual([unknown.kind, unknown.amount], ['refund', 150_000]);
      assert.match(unknown.note, /may or may not have happened/);
      assert.deepEqual(
        [before.payments[0].refunded, before.payments[0].refundPending],
        [100_000, 150_000],
      );
      assert.deepEqual(
        before.payments[0].outcomeUnknown.map((u: Loose) => [u.kind, u.amount]),
        [['refund', 150_000]],
      );
      assert.deepEqual(
        [afterPass.payments[0].refunded, afterPass.payments[0].refundPending],
        [250_000, 0],
      );
      assert.deepEqual(afterPass.payments[0].outcomeUnknown, []);
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 250_000);
      const refunded = await eventually(() => {
        const mine = notices.filter(n => n.orderRef === orderRef && n.event === 'refunded');
        return mine.length === 2 ? mine : undefined;
      });
      assert.deepEqual(
        refunded.map(n => [n.operation?.amount, n.refunded]),
        [
          [100_000, 100_000],
          [150_000, 250_000],
        ],
      );
      assert.ok(eventsOf(notices, orderRef).includes('refund_unknown'));
      assert.equal(new Set(refunded.map(n => n.id)).size, 2, 'one notice id per refund');
    });

    it('answers 504 outcome_unknown after a refund timeout, and the admin query settles it as succeeded', async () => {
      const orderRef = nextRef('T');
      const { transactionId } = await payOrder(stack, orderRef, 200_000, 'delay:4000@refund');

      const timedOut = await refundCall(stack, orderRef, 200_000, `${orderRef}-k`);
      const queried = await admin(stack, 'POST', `/admin/orders/${orderRef}/query`, {});

      assert.deepEqual([timedOut.status, timedOut.json.error?.code], [504, 'outcome_unknown']);
      assert.equal(queried.status, 200, JSON.stringify(queried.json));
      assert.deepEqual(
        [queried.json.payment.refunded, queried.json.payment.refundPending],
        [200_000, 0],
      );
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 200_000);
    });

    it('releases an unknown refund that the gateway shows never happened, and tells the merchant', async () => {
      const orderRef = nextRef('N');
      const { transactionId } = await payOrder(stack, orderRef, 200_000, '500@refund');

      const lost = await refundCall(stack, orderRef, 200_000, `${orderRef}-k`);
      const held = (await shown(stack, orderRef)).payments[0];
      await stack.signer.sweepNow();
      const released = await shown(stack, orderRef);

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.deepEqual([held.refundPending, held.refundable], [200_000, 0]);
      assert.deepEqual(
        [released.payments[0].refunded, released.payments[0].refundable],
        [0, 200_000],
      );
      assert.equal(released.operations.find((op: Loose) => op.kind === 'refund').state, 'failed');
      assert.equal((await gatewayTransaction(stack, transactionId)).refunded, 0);
      await eventually(() => eventsOf(notices, orderRef).includes('refund_failed') || undefined);
    });

    it('asks again later, with backoff, about a refund the gateway query cannot answer', async () => {
      const orderRef = nextRef('B');
      await payOrder(stack, orderRef, 200_000, '');
      // Every query answered 500 (the client's own retries included).
      await setGatewayFaults(stack, 'reset@refund,500|500|500|500|500|500@query');
      await refundCall(stack, orderRef, 50_000, `${orderRef}-k`);
      const queriesBefore = await gatewayCalls(stack, 'query');

      await stack.signer.sweepNow();
      const queriesAfterFirst = await gatewayCalls(stack, 'query');
      await stack.signer.sweepNow();

      const op = (await shown(stack, orderRef)).operations.find((o: Loose) => o.kind === 'refund');
      assert.deepEqual([op.state, op.checks], ['unknown', 1]);
      assert.ok(new Date(op.nextCheckAt).getTime() > Date.now(), 'the next check waits');
      assert.ok(queriesAfterFirst > queriesBefore, 'asked at the first pass');
      assert.equal(
        await gatewayCalls(stack, 'query'),
        queriesAfterFirst,
        'not again before its time',
      );
    });
  });

  describe(`captures and voids are settled by evidence only (${kind})`, () => {
    let stack: Stack;
    const notices: PaymentNotice[] = [];
    before(async () => {
      stack = await startStack({
        store: kind,
        signer: { captureMode: 'manual', hooks: recordingHooks(notices) },
      });
    });
    afterEach(async () => {
      await setGatewayFaults(stack, '');
    });
    after(async () => {
      await stack.close();
    });

    async function authorized(orderRef: string, faults = '') {
      const paid = await payOrder(stack, orderRef, 250_000, faults, {
        card: '4012000033330026',
        body: { paymentMethod: 'INTERNATIONAL' },
      });
      await eventually(async () =>
        (await stack.store.getSession(paid.sessionId))?.status === 'authorized' ? true : undefined,
      );
      return paid;
    }

    it('keeps a capture without an answer unknown (the session authorized), then the admin query settles it: captured, paid', async () => {
      const orderRef = nextRef('C');
      const { sessionId, transactionId } = await authorized(orderRef);
      await setGatewayFaults(stack, 'reset@capture');

      const lost = await admin(stack, 'POST', `/admin/orders/${orderRef}/capture`, {});
      const statusBefore = (await stack.store.getSession(sessionId))?.status;
      const voidMeanwhile = await admin(stack, 'POST', `/admin/orders/${orderRef}/void`, {});
      await setGatewayFaults(stack, '');
      const queried = await admin(stack, 'POST', `/admin/orders/${orderRef}/query`, {});

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.equal(statusBefore, 'authorized');
      assert.deepEqual(
        [voidMeanwhile.status, voidMeanwhile.json.error?.code],
        [409, 'operation_unknown'],
      );
      assert.equal(queried.json.payment.status, 'paid');
      assert.equal(queried.json.payment.captured, 250_000);
      const capture = (await shown(stack, orderRef)).operations.find(
        (op: Loose) => op.kind === 'capture',
      );
      assert.equal(capture.state, 'succeeded');
      assert.equal((await gatewayTransaction(stack, transactionId)).state, 'captured');
      await eventually(() => {
        const events = eventsOf(notices, orderRef);
        return (events.includes('capture_unknown') && events.includes('captured')) || undefined;
      });
    });

    it('releases an unknown void the gateway shows never happened, after which a new void goes through', async () => {
      const orderRef = nextRef('V');
      const { sessionId, transactionId } = await authorized(orderRef, '500@void');

      const lost = await admin(stack, 'POST', `/admin/orders/${orderRef}/void`, {});
      await stack.signer.sweepNow();
      const afterPass = await shown(stack, orderRef);
      const again = await admin(stack, 'POST', `/admin/orders/${orderRef}/void`, {});

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.deepEqual(
        afterPass.operations.filter((op: Loose) => op.kind === 'void').map((op: Loose) => op.state),
        ['failed'],
      );
      assert.equal(again.status, 201, JSON.stringify(again.json));
      assert.equal((await stack.store.getSession(sessionId))?.status, 'voided');
      assert.equal((await gatewayTransaction(stack, transactionId)).state, 'voided');
      await eventually(() => {
        const events = eventsOf(notices, orderRef);
        return (events.includes('void_failed') && events.includes('voided')) || undefined;
      });
    });

    it('settles an unknown void as succeeded from the query (session voided), and tells the merchant once', async () => {
      const orderRef = nextRef('W');
      const { sessionId } = await authorized(orderRef);
      await setGatewayFaults(stack, 'reset@void');

      const lost = await admin(stack, 'POST', `/admin/orders/${orderRef}/void`, {});
      await setGatewayFaults(stack, '');
      await stack.signer.sweepNow();

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.equal((await stack.store.getSession(sessionId))?.status, 'voided');
      await eventually(() => eventsOf(notices, orderRef).includes('voided') || undefined);
      assert.equal(eventsOf(notices, orderRef).filter(e => e === 'voided').length, 1);
    });
  });

  for (const setting of ['capture', 'void'] as const) {
    describe(`auto capture with an unexpected authorization: ${setting} (${kind})`, () => {
      let stack: Stack;
      const notices: PaymentNotice[] = [];
      before(async () => {
        stack = await startStack({
          store: kind,
          signer: { unexpectedAuthorization: setting, hooks: recordingHooks(notices) },
        });
      });
      after(async () => {
        await stack.close();
      });

      it(`${setting === 'capture' ? 'captures' : 'voids'} it once, as an operation by system, and tells the merchant`, async () => {
        const orderRef = nextRef('A');
        const { sessionId, transactionId } = await payOrder(
          stack,
          orderRef,
          180_000,
          'status:authorized',
        );
        await eventually(async () =>
          (await stack.store.getSession(sessionId))?.status === 'authorized' ? true : undefined,
        );

        await stack.signer.sweepNow();
        await stack.signer.sweepNow();

        const session = await stack.store.getSession(sessionId);
        const gateway = await gatewayTransaction(stack, transactionId);
        const ops = (await shown(stack, orderRef)).operations.filter(
          (op: Loose) => op.kind === 'capture' || op.kind === 'void',
        );
        assert.deepEqual(
          ops.map((op: Loose) => [op.kind, op.state, op.operator]),
          [[setting, 'succeeded', 'system']],
        );
        assert.equal(await gatewayCalls(stack, setting), 1);
        if (setting === 'capture') {
          assert.equal(session?.status, 'paid');
          assert.deepEqual([gateway.state, gateway.capturedAmount], ['captured', 180_000]);
          await eventually(() => {
            const events = eventsOf(notices, orderRef);
            return (events.includes('captured') && events.includes('paid')) || undefined;
          });
        } else {
          assert.equal(session?.status, 'voided');
          assert.deepEqual([gateway.state, gateway.capturedAmount], ['voided', 0]);
          await eventually(() => eventsOf(notices, orderRef).includes('voided') || undefined);
        }
        assert.equal(eventsOf(notices, orderRef)[0], 'authorized');
      });
    });
  }
}
