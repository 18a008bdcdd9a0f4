import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  admin,
  authorizedOrder,
  gatewayCalls,
  operate,
  paidOrder,
  refundOrder,
} from '../testing/admin-test-support.js';
import { uniqueRef, useStack, type StoreKind } from '../testing/test-support.js';

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`admin refunds (${kind})`, () => {
    const stack = useStack({ store: kind });

    it('refunds part of a paid order, records who did it, and replays the same Idempotency-Key without a second refund', async () => {
      const orderRef = uniqueRef('R');
      await paidOrder(stack(), orderRef, 500_000);

      const first = await refundOrder(stack(), orderRef, 200_000, 'k-1');
      const again = await refundOrder(stack(), orderRef, 200_000, 'k-1');

      assert.equal(first.status, 201, JSON.stringify(first.json));
      assert.deepEqual(
        [first.json.operation.state, first.json.operation.operator, first.json.operation.amount],
        ['succeeded', 'alice', 200_000],
      );
      assert.equal('raw' in first.json.operation, false, 'the gateway reply stays in the store');
      assert.deepEqual(
        [first.json.payment.refunded, first.json.payment.refundable],
        [200_000, 300_000],
      );
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.json.operation.id, first.json.operation.id);
      assert.equal(await gatewayCalls(stack(), 'refund'), 1);
    });

    it('refuses a refund above what remains with 409 refund_exceeds_captured, before calling the gateway, changing nothing', async () => {
      const orderRef = uniqueRef('R');
      await paidOrder(stack(), orderRef, 300_000);
      await refundOrder(stack(), orderRef, 100_000, `${orderRef}-a`);
      const callsBefore = await gatewayCalls(stack(), 'refund');
      const shownBefore = await admin(stack(), 'GET', `/admin/orders/${orderRef}`);

      const refused = await refundOrder(stack(), orderRef, 200_001, `${orderRef}-b`);

      assert.equal(refused.status, 409);
      assert.equal(refused.json.error.code, 'refund_exceeds_captured');
      assert.match(refused.json.error.requestId, /^[0-9a-f-]{36}$/);
      assert.equal(await gatewayCalls(stack(), 'refund'), callsBefore);
      assert.deepEqual(
        (await admin(stack(), 'GET', `/admin/orders/${orderRef}`)).json,
        shownBefore.json,
      );
    });

    it('refuses the same Idempotency-Key for another amount with 422 idempotency_key_reused', async () => {
      const orderRef = uniqueRef('R');
      await paidOrder(stack(), orderRef, 300_000);
      await refundOrder(stack(), orderRef, 1_000, `${orderRef}-k`);

      const reused = await refundOrder(stack(), orderRef, 2_000, `${orderRef}-k`);

      assert.deepEqual([reused.status, reused.json.error.code], [422, 'idempotency_key_reused']);
    });

    it('never refunds more than captured when ten refunds race', async () => {
      const orderRef = uniqueRef('R');
      await paidOrder(stack(), orderRef, 100_000);

      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          refundOrder(stack(), orderRef, 30_000, `${orderRef}-${i}`),
        ),
      );

      assert.equal(replies.filter(r => r.status === 201).length, 3);
      assert.ok(
        replies.every(r => r.status === 201 || r.json.error?.code === 'refund_exceeds_captured'),
      );
      const shown = await admin(stack(), 'GET', `/admin/orders/${orderRef}`);
      assert.equal(shown.json.payments[0].refunded, 90_000);
    });
  });

  describe(`admin capture and void (${kind})`, () => {
    const stack = useStack({ store: kind, signer: { captureMode: 'manual' } });

    it('keeps an authorize-only payment authorized, then captures it once: paid, and a second capture is 409 already_captured', async () => {
      const orderRef = uniqueRef('C');
      const { sessionId } = await authorizedOrder(stack(), orderRef);

      const captured = await operate(stack(), orderRef, 'capture');
      const twice = await operate(stack(), orderRef, 'capture');

      assert.equal(captured.status, 201, JSON.stringify(captured.json));
      assert.equal(captured.json.payment.status, 'paid');
      assert.equal((await stack().store.getSession(sessionId))?.lateSuccess, false);
      assert.deepEqual([twice.status, twice.json.error.code], [409, 'already_captured']);
      assert.equal(await gatewayCalls(stack(), 'capture'), 1);
    });

    it('refuses to void a captured payment with 409 already_captured and no gateway call', async () => {
      const orderRef = uniqueRef('C');
      await authorizedOrder(stack(), orderRef);
      await operate(stack(), orderRef, 'capture');
      const voidsBefore = await gatewayCalls(stack(), 'void');

      const refused = await operate(stack(), orderRef, 'void');

      assert.deepEqual([refused.status, refused.json.error.code], [409, 'already_captured']);
      assert.equal(await gatewayCalls(stack(), 'void'), voidsBefore);
    });

    it('voids an authorization (status voided), after which capture is 409 already_voided', async () => {
      const orderRef = uniqueRef('V');
      const { sessionId } = await authorizedOrder(stack(), orderRef);

      const voided = await operate(stack(), orderRef, 'void');
      const capture = await operate(stack(), orderRef, 'capture');

      assert.equal(voided.status, 201, JSON.stringify(voided.json));
      assert.equal((await stack().store.getSession(sessionId))?.status, 'voided');
      assert.deepEqual([capture.status, capture.json.error.code], [409, 'already_voided']);
    });

    it('refuses to refund an authorization that is not captured (409 not_captured)', async () => {
      const orderRef = uniqueRef('C');
      await authorizedOrder(stack(), orderRef);

      const refused = await refundOrder(stack(), orderRef, 1, orderRef);

      assert.deepEqual([refused.status, refused.json.error.code], [409, 'not_captured']);
    });
  });
}

describe('admin queries, reconcile and access', () => {
  const stack = useStack();

  /** An order paid at the gateway whose IPN never comes: the signer still shows it pending. */
  async function paidWithoutIpn(prefix: string): Promise<string> {
    const orderRef = uniqueRef(prefix);
    await paidOrder(stack(), orderRef, 10_000, { faults: 'no-ipn', wait: false });
    return orderRef;
  }

  it('queries the gateway for an order, reconciles a payment whose IPN never came, and keeps an audit row', async () => {
    const orderRef = await paidWithoutIpn('Q');

    const queried = await operate(stack(), orderRef, 'query');

    assert.equal(queried.status, 200, JSON.stringify(queried.json));
    assert.deepEqual(
      [queried.json.payment.status, queried.json.gateway.transactionStatus],
      ['paid', '200'],
    );
    const shown = await admin(stack(), 'GET', `/admin/orders/${orderRef}`);
    assert.deepEqual(
      shown.json.operations.map((op: { kind: string; operator: string }) => [op.kind, op.operator]),
      [['query', 'alice']],
    );
  });

  it('reconciles every stale pending session through POST /admin/reconcile', async () => {
    const orderRef = await paidWithoutIpn('S');

    const result = await admin(stack(), 'POST', '/admin/reconcile', { olderThanSeconds: 0 });

    const mine = result.json.results.find((r: { orderRef: string }) => r.orderRef === orderRef);
    assert.deepEqual([mine.before, mine.after], ['pending', 'paid']);
  });

  it('answers 401 without the bearer token and sends no CORS headers to a merchant origin', async () => {
    const res = await fetch(`${stack().signerUrl}/admin/orders`, {
      headers: { origin: 'http://shop.test' },
    });

    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('refuses a malformed x-operator with 400 invalid_operator', async () => {
    const res = await admin(stack(), 'GET', '/admin/orders', undefined, {
      'x-operator': 'bad name',
    });

    assert.deepEqual([res.status, res.json.error.code], [400, 'invalid_operator']);
  });

  it('answers 404 order_not_found for an operation on an unknown order', async () => {
    const res = await operate(stack(), 'NOPE-1', 'void');

    assert.deepEqual([res.status, res.json.error.code], [404, 'order_not_found']);
  });
});
