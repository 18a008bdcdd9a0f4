/**
 * Issue 11 §2 and §8: a refund, void or capture is recorded as done only on evidence (its own success
 * answer, or a query answer that shows it); a definite refusal releases it; an unknown outcome stays
 * unknown, is shown as such, and is settled by the gateway's query (background pass or admin query). With
 * auto capture, an authorization the gateway answered instead is captured or voided, never left held.
 */

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PaymentNotice } from '../delivery/notices.js';
import {
  authorizedOrder,
  gatewayCalls,
  operate,
  paidOrder,
  refundOrder,
  refundWithLostAnswer,
  shownOrder,
  type Loose,
} from '../testing/admin-test-support.js';
import {
  eventually,
  sandboxTransaction,
  setGatewayFaults,
  uniqueRef,
  useStack,
  type Stack,
  type StackOptions,
  type StoreKind,
} from '../testing/test-support.js';
import { matchRefunds } from './query.js';

/** What the sandbox (the gateway) holds for a transaction. */
async function gatewayTransaction(
  stack: Stack,
  transactionId: string,
): Promise<{ state: string; capturedAmount: number; refunded: number }> {
  const txn = (await sandboxTransaction(stack, transactionId)) as Loose;
  return {
    state: String(txn.state),
    capturedAmount: Number(txn.capturedAmount),
    refunded: (txn.refunds as Array<{ amount: number }>).reduce((sum, r) => sum + r.amount, 0),
  };
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

/**
 * A stack for the enclosing `describe` whose merchant hooks record every notice into `notices`; the
 * sandbox's faults are cleared after each test.
 */
function useNoticedStack(kind: StoreKind, signer: StackOptions['signer']) {
  const notices: PaymentNotice[] = [];
  const stack = useStack({ store: kind, signer: { ...signer, hooks: recordingHooks(notices) } });
  afterEach(() => setGatewayFaults(stack(), ''));
  return { stack, notices };
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
    const { stack, notices } = useNoticedStack(kind, { gateway: { timeoutMs: 1500 } });

    it('issue 11 §2: a first send answered 409 Duplicate is failed and released, and a retry with the same key records no phantom refund', async () => {
      const orderRef = uniqueRef('D');
      const { transactionId } = await paidOrder(stack(), orderRef, 400_000, {
        faults: '409-duplicate@refund',
      });

      const first = await refundOrder(stack(), orderRef, 400_000, `${orderRef}-k`);
      const again = await refundOrder(stack(), orderRef, 400_000, `${orderRef}-k`);

      assert.deepEqual([first.status, first.json.error?.code], [422, 'gateway_refused']);
      assert.deepEqual([again.status, again.json.error?.code], [422, 'gateway_refused']);
      const order = await shownOrder(stack(), orderRef);
      assert.deepEqual(
        order.operations.filter((op: Loose) => op.kind === 'refund').map((op: Loose) => op.state),
        ['failed'],
      );
      assert.deepEqual(
        [order.payments[0].refunded, order.payments[0].refundPending, order.payments[0].refundable],
        [0, 0, 400_000],
      );
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 0);
      await eventually(() => eventsOf(notices, orderRef).includes('refund_failed') || undefined);
    });

    it('keeps a refund whose re-send is refused as unknown, and lets the query decide it never happened (no phantom success)', async () => {
      const orderRef = uniqueRef('P');
      // The first send gets a 500 (nothing done); the re-send with the same key gets 409 Duplicate.
      const { transactionId } = await paidOrder(stack(), orderRef, 300_000, {
        faults: '500@refund',
      });

      const first = await refundOrder(stack(), orderRef, 100_000, `${orderRef}-k`);
      await setGatewayFaults(stack(), '409-duplicate@refund');
      const retry = await refundOrder(stack(), orderRef, 100_000, `${orderRef}-k`);

      assert.deepEqual([first.status, first.json.error?.code], [502, 'outcome_unknown']);
      assert.match(first.json.error.message, /unknown.*being checked/);
      assert.deepEqual([retry.status, retry.json.error?.code], [422, 'gateway_refused']);
      const payment = (await shownOrder(stack(), orderRef)).payments[0];
      assert.deepEqual(
        [payment.refunded, payment.refundPending, payment.refundable],
        [0, 0, 300_000],
      );
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 0);
    });

    it('records a re-send refused as a duplicate as succeeded only because the query shows the refund', async () => {
      const orderRef = uniqueRef('S');
      const { transactionId } = await paidOrder(stack(), orderRef, 300_000);

      // The refund is made, but its answer is lost (socket reset after the work); then the re-send.
      const { first, retry } = await refundWithLostAnswer(stack(), orderRef, 120_000);

      assert.deepEqual([first.status, first.json.error?.code], [502, 'outcome_unknown']);
      assert.equal(retry.status, 201, JSON.stringify(retry.json));
      assert.equal(retry.json.operation.state, 'succeeded');
      assert.match(retry.json.operation.detail, /settled by query/);
      assert.equal(retry.json.payment.refunded, 120_000);
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 120_000);
    });

    it('shows a refund without an answer as unknown (admin API, hooks), then the background pass settles it as succeeded', async () => {
      const orderRef = uniqueRef('U');
      const { transactionId } = await paidOrder(stack(), orderRef, 500_000);
      await refundOrder(stack(), orderRef, 100_000, `${orderRef}-a`);
      await setGatewayFaults(stack(), 'reset@refund');

      const lost = await refundOrder(stack(), orderRef, 150_000, `${orderRef}-b`);
      const before = await shownOrder(stack(), orderRef);
      await setGatewayFaults(stack(), '');
      await stack().signer.sweepNow();
      const afterPass = await shownOrder(stack(), orderRef);

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
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 250_000);
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
      const orderRef = uniqueRef('T');
      const { transactionId } = await paidOrder(stack(), orderRef, 200_000, {
        faults: 'delay:4000@refund',
      });

      const timedOut = await refundOrder(stack(), orderRef, 200_000, `${orderRef}-k`);
      const queried = await operate(stack(), orderRef, 'query');

      assert.deepEqual([timedOut.status, timedOut.json.error?.code], [504, 'outcome_unknown']);
      assert.equal(queried.status, 200, JSON.stringify(queried.json));
      assert.deepEqual(
        [queried.json.payment.refunded, queried.json.payment.refundPending],
        [200_000, 0],
      );
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 200_000);
    });

    it('releases an unknown refund that the gateway shows never happened, and tells the merchant', async () => {
      const orderRef = uniqueRef('N');
      const { transactionId } = await paidOrder(stack(), orderRef, 200_000, {
        faults: '500@refund',
      });

      const lost = await refundOrder(stack(), orderRef, 200_000, `${orderRef}-k`);
      const held = (await shownOrder(stack(), orderRef)).payments[0];
      await stack().signer.sweepNow();
      const released = await shownOrder(stack(), orderRef);

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.deepEqual([held.refundPending, held.refundable], [200_000, 0]);
      assert.deepEqual(
        [released.payments[0].refunded, released.payments[0].refundable],
        [0, 200_000],
      );
      assert.equal(released.operations.find((op: Loose) => op.kind === 'refund').state, 'failed');
      assert.equal((await gatewayTransaction(stack(), transactionId)).refunded, 0);
      await eventually(() => eventsOf(notices, orderRef).includes('refund_failed') || undefined);
    });

    it('asks again later, with backoff, about a refund the gateway query cannot answer', async () => {
      const orderRef = uniqueRef('B');
      await paidOrder(stack(), orderRef, 200_000);
      // Every query answered 500 (the client's own retries included).
      await setGatewayFaults(stack(), 'reset@refund,500|500|500|500|500|500@query');
      await refundOrder(stack(), orderRef, 50_000, `${orderRef}-k`);
      const queriesBefore = await gatewayCalls(stack(), 'query');

      await stack().signer.sweepNow();
      const queriesAfterFirst = await gatewayCalls(stack(), 'query');
      await stack().signer.sweepNow();

      const op = (await shownOrder(stack(), orderRef)).operations.find(
        (o: Loose) => o.kind === 'refund',
      );
      assert.deepEqual([op.state, op.checks], ['unknown', 1]);
      assert.ok(new Date(op.nextCheckAt).getTime() > Date.now(), 'the next check waits');
      assert.ok(queriesAfterFirst > queriesBefore, 'asked at the first pass');
      assert.equal(
        await gatewayCalls(stack(), 'query'),
        queriesAfterFirst,
        'not again before its time',
      );
    });
  });

  describe(`captures and voids are settled by evidence only (${kind})`, () => {
    const { stack, notices } = useNoticedStack(kind, { captureMode: 'manual' });
    const authorized = (orderRef: string, faults = '') =>
      authorizedOrder(stack(), orderRef, faults);

    it('keeps a capture without an answer unknown (the session authorized), then the admin query settles it: captured, paid', async () => {
      const orderRef = uniqueRef('C');
      const { sessionId, transactionId } = await authorized(orderRef);
      await setGatewayFaults(stack(), 'reset@capture');

      const lost = await operate(stack(), orderRef, 'capture');
      const statusBefore = (await stack().store.getSession(sessionId))?.status;
      const voidMeanwhile = await operate(stack(), orderRef, 'void');
      await setGatewayFaults(stack(), '');
      const queried = await operate(stack(), orderRef, 'query');

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.equal(statusBefore, 'authorized');
      assert.deepEqual(
        [voidMeanwhile.status, voidMeanwhile.json.error?.code],
        [409, 'operation_unknown'],
      );
      assert.equal(queried.json.payment.status, 'paid');
      assert.equal(queried.json.payment.captured, 250_000);
      const capture = (await shownOrder(stack(), orderRef)).operations.find(
        (op: Loose) => op.kind === 'capture',
      );
      assert.equal(capture.state, 'succeeded');
      assert.equal((await gatewayTransaction(stack(), transactionId)).state, 'captured');
      await eventually(() => {
        const events = eventsOf(notices, orderRef);
        return (events.includes('capture_unknown') && events.includes('captured')) || undefined;
      });
    });

    it('releases an unknown void the gateway shows never happened, after which a new void goes through', async () => {
      const orderRef = uniqueRef('V');
      const { sessionId, transactionId } = await authorized(orderRef, '500@void');

      const lost = await operate(stack(), orderRef, 'void');
      await stack().signer.sweepNow();
      const afterPass = await shownOrder(stack(), orderRef);
      const again = await operate(stack(), orderRef, 'void');

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.deepEqual(
        afterPass.operations.filter((op: Loose) => op.kind === 'void').map((op: Loose) => op.state),
        ['failed'],
      );
      assert.equal(again.status, 201, JSON.stringify(again.json));
      assert.equal((await stack().store.getSession(sessionId))?.status, 'voided');
      assert.equal((await gatewayTransaction(stack(), transactionId)).state, 'voided');
      await eventually(() => {
        const events = eventsOf(notices, orderRef);
        return (events.includes('void_failed') && events.includes('voided')) || undefined;
      });
    });

    it('settles an unknown void as succeeded from the query (session voided), and tells the merchant once', async () => {
      const orderRef = uniqueRef('W');
      const { sessionId } = await authorized(orderRef);
      await setGatewayFaults(stack(), 'reset@void');

      const lost = await operate(stack(), orderRef, 'void');
      await setGatewayFaults(stack(), '');
      await stack().signer.sweepNow();

      assert.deepEqual([lost.status, lost.json.error?.code], [502, 'outcome_unknown']);
      assert.equal((await stack().store.getSession(sessionId))?.status, 'voided');
      await eventually(() => eventsOf(notices, orderRef).includes('voided') || undefined);
      assert.equal(eventsOf(notices, orderRef).filter(e => e === 'voided').length, 1);
    });
  });

  for (const setting of ['capture', 'void'] as const) {
    describe(`auto capture with an unexpected authorization: ${setting} (${kind})`, () => {
      const { stack, notices } = useNoticedStack(kind, { unexpectedAuthorization: setting });

      it(`${setting === 'capture' ? 'captures' : 'voids'} it once, as an operation by system, and tells the merchant`, async () => {
        const orderRef = uniqueRef('A');
        const { sessionId, transactionId } = await paidOrder(stack(), orderRef, 180_000, {
          faults: 'status:authorized',
        });
        await eventually(async () =>
          (await stack().store.getSession(sessionId))?.status === 'authorized' ? true : undefined,
        );

        await stack().signer.sweepNow();
        await stack().signer.sweepNow();

        const session = await stack().store.getSession(sessionId);
        const gateway = await gatewayTransaction(stack(), transactionId);
        const ops = (await shownOrder(stack(), orderRef)).operations.filter(
          (op: Loose) => op.kind === 'capture' || op.kind === 'void',
        );
        assert.deepEqual(
          ops.map((op: Loose) => [op.kind, op.state, op.operator]),
          [[setting, 'succeeded', 'system']],
        );
        assert.equal(await gatewayCalls(stack(), setting), 1);
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
