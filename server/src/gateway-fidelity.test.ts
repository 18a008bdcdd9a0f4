/**
 * The signer against every reading of what Galaxy Pay leaves undocumented (docs/gateway-fidelity.md):
 * how replies are signed (R*), checkout callback URLs the gateway may ignore (C*), and the orderID of
 * refunds, voids and captures (M*). Each case runs the real signer code against the real sandbox.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatGatewayDateTime, type CheckoutRequestData } from '@galaxy-pay/protocol';
import { createSandbox, type SandboxOptions } from '@galaxy-pay/sandbox';
import {
  authorizedOrder,
  gatewayCalls,
  operate,
  paidOrder,
  refundOrder,
  refundWithLostAnswer,
  shownOrder,
  type Loose,
} from './testing/admin-test-support.js';
import { GatewayError, type GatewayErrorCode } from './gateway/errors.js';
import type { GatewayClientOptions } from './gateway/options.js';
import type { SignerOptions } from './signer.js';
import { createTestGatewayClient } from './testing/gateway-test-client.js';
import {
  API_KEY,
  SALT,
  eventually,
  ipnAttempts,
  requestDataOf,
  sandboxRequests,
  sandboxTransaction,
  sentRequestData,
  uniqueRef,
  useStack,
  widgetCall,
} from './testing/test-support.js';

type Mode = NonNullable<SandboxOptions['responseSignature']>;

interface Logged {
  level: 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function checkoutData(orderID: string): CheckoutRequestData {
  return {
    orderID,
    orderDescription: 'Response signature variants',
    orderDateTime: formatGatewayDateTime(new Date()),
    orderCurrency: 'VND',
    orderAmount: 100000,
    orderNetAmount: 100000,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
    paymentMethod: 'DOMESTIC',
    language: 'vi',
  };
}

/** What a call came to: `ok`, or the GatewayError code, with the client's untrusted-reply log lines. */
async function outcome(call: Promise<unknown>): Promise<'ok' | GatewayErrorCode> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return error.code;
  }
}

describe('response signature variants through the gateway client (ledger R2–R7)', () => {
  /** Per mode, in enforce and in log mode: a successful checkout, then the same orderID again (409). */
  const expected: Record<Mode, { enforce: [string, string]; log: [string, string]; why?: string }> =
    {
      signature: { enforce: ['ok', 'gateway_duplicate'], log: ['ok', 'gateway_duplicate'] },
      Signature: { enforce: ['ok', 'gateway_duplicate'], log: ['ok', 'gateway_duplicate'] },
      uppercase: { enforce: ['ok', 'gateway_duplicate'], log: ['ok', 'gateway_duplicate'] },
      none: {
        enforce: ['upstream_untrusted', 'upstream_untrusted'],
        log: ['ok', 'gateway_duplicate'],
        why: 'carries no signature header',
      },
      'success-only': {
        enforce: ['ok', 'upstream_untrusted'],
        log: ['ok', 'gateway_duplicate'],
        why: 'carries no signature header',
      },
      'legacy-flatten': {
        enforce: ['upstream_untrusted', 'upstream_untrusted'],
        log: ['ok', 'gateway_duplicate'],
        why: 'signature does not verify',
      },
    };

  for (const [mode, expect] of Object.entries(expected) as Array<[Mode, (typeof expected)[Mode]]>) {
    describe(`sandbox responseSignature: ${mode}`, () => {
      const sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, responseSignature: mode });
      let baseUrl: string;
      before(async () => {
        baseUrl = await sandbox.listen(0, '127.0.0.1');
      });
      after(async () => {
        await sandbox.close();
      });

      for (const setting of ['enforce', 'log'] as const) {
        it(`${setting}: a success answers ${expect[setting][0]}, a 409 refusal answers ${expect[setting][1]}`, async () => {
          const logs: Logged[] = [];
          const options: GatewayClientOptions = {
            baseUrl,
            apiKey: API_KEY,
            salt: SALT,
            pageOrigins: [new URL(baseUrl).origin],
            verifyResponseSignature: setting,
            logger: {
              warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
              error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
            },
          };
          const client = createTestGatewayClient(options);
          const orderID = uniqueRef('RS');

          const first = await outcome(client.checkout(checkoutData(orderID)));
          const again = await outcome(client.checkout(checkoutData(orderID)));

          assert.deepEqual([first, again], expect[setting]);
          const untrusted = logs.filter(l => l.obj.event === 'gateway_untrusted_reply');
          if (!expect.why) {
            assert.deepEqual(untrusted, []);
            return;
          }
          assert.ok(untrusted.length > 0, 'the mismatch is logged');
          for (const line of untrusted) {
            assert.equal(line.obj.check, 'response_signature');
            assert.equal(line.obj.mode, setting);
            assert.equal(line.level, setting === 'log' ? 'warn' : 'error');
            assert.match(line.msg, new RegExp(expect.why));
          }
        });
      }
    });
  }
});

describe('checkout callback URLs the gateway ignores: payments settle by query alone (ledger C4–C6)', () => {
  /** The signer's clock runs this far ahead of the wall clock (the widget's poll asks once per 5 s). */
  let ahead = 0;
  const stack = useStack({
    // No merchant URLs configured at the gateway either: no redirect and no IPN reach the signer.
    sandbox: { checkoutCallbackUrls: 'ignore' },
    signer: {
      now: () => new Date(Date.now() + ahead),
      reconcile: { staleAfterMs: 0, intervalMs: 3_600_000 },
    },
  });

  /** Opens a checkout for a new order and pays it on the hosted page (no callback follows). */
  async function paidWithoutCallbacks(): Promise<{ sessionId: string; transactionId: string }> {
    const { callback, ...paid } = await paidOrder(stack(), uniqueRef('CB'), 120_000);
    assert.equal(callback, null, 'the gateway sends the shopper nowhere');
    return paid;
  }

  /** No IPN was sent for the transaction, though the signer's checkout did send its own URLs. */
  async function assertNothingReachedTheSigner(sessionId: string, transactionId: string) {
    const ipns = await ipnAttempts(stack(), { transactionID: transactionId });
    assert.deepEqual(ipns, [], 'no IPN was sent');
    const session = await stack().store.getSession(sessionId);
    const checkouts = await sandboxRequests(stack(), '/api/v1/transaction/checkout');
    const sent = checkouts.find(r => requestDataOf(r).orderID === session?.gatewayOrderId);
    assert.ok(sent && /"ipnURL":"[^"]+\/ipn"/.test(sent.rawBody), 'the signer did send its URLs');
    assert.match(sent.rawBody, /"successURL":"[^"]+\/return\//);
  }

  const status = async (sessionId: string) => (await stack().store.getSession(sessionId))?.status;

  it("C4 settles on the widget's status poll (GET /sessions/:id) once the shopper is back from the hosted page", async () => {
    const { sessionId, transactionId } = await paidWithoutCallbacks();
    assert.equal(await status(sessionId), 'pending');

    ahead += 6_000; // past the poll's query interval
    const polled = await widgetCall(stack(), 'GET', `/sessions/${sessionId}`);

    assert.equal(polled.status, 200);
    assert.equal(polled.json.status, 'paid');
    await assertNothingReachedTheSigner(sessionId, transactionId);
  });

  it('C5 settles when the shopper closes the dialog (POST /sessions/:id/cancel asks the gateway first): paid, not cancelled', async () => {
    const { sessionId, transactionId } = await paidWithoutCallbacks();

    const closed = await widgetCall(stack(), 'POST', `/sessions/${sessionId}/cancel`, {
      reason: 'closed',
    });

    assert.equal(closed.status, 200, closed.text);
    assert.equal(closed.json.status, 'paid');
    await assertNothingReachedTheSigner(sessionId, transactionId);
  });

  it('C6 settles by the background pass when nobody asks (sweepNow)', async () => {
    const { sessionId, transactionId } = await paidWithoutCallbacks();

    await stack().signer.sweepNow();

    await eventually(async () => ((await status(sessionId)) === 'paid' ? true : undefined));
    await assertNothingReachedTheSigner(sessionId, transactionId);
  });
});

describe('orderID of refunds, voids and captures (ledger M1, M5–M7)', () => {
  /** A manual-capture signer with its `managementOrderId` (default if none), against such a gateway. */
  const useManagementOrderIds = (
    gateway: SandboxOptions['managementOrderId'],
    signer?: SignerOptions['managementOrderId'],
  ) =>
    useStack({
      sandbox: { managementOrderId: gateway },
      signer: { captureMode: 'manual', ...(signer ? { managementOrderId: signer } : {}) },
    });

  describe('default per-operation, against a gateway that wants a new orderID for every call (sandbox unique)', () => {
    const stack = useManagementOrderIds('unique');

    it('M5 two equal partial refunds each carry their own orderID, neither the payment’s: both are made', async () => {
      const orderRef = uniqueRef('M');
      const held = await authorizedOrder(stack(), orderRef);
      assert.equal((await operate(stack(), orderRef, 'capture')).status, 201);
      const session = await stack().store.getSession(held.sessionId);
      assert.ok(session);
      const calls = (await sentRequestData(stack(), 'refund')).length;

      const first = await refundOrder(stack(), orderRef, 100_000, `${orderRef}-1`);
      const second = await refundOrder(stack(), orderRef, 100_000, `${orderRef}-2`);

      assert.equal(first.status, 201, JSON.stringify(first.json));
      assert.equal(second.status, 201, JSON.stringify(second.json));
      const refunds = (await sentRequestData(stack(), 'refund')).slice(calls);
      const orderIds = refunds.map(r => r.orderID);
      assert.equal(new Set(orderIds).size, 2);
      assert.ok(!orderIds.includes(session.gatewayOrderId));
      assert.deepEqual(
        [first.json.operation.gatewayRef, second.json.operation.gatewayRef],
        orderIds,
        'the audit trail shows the orderID each refund sent',
      );
    });

    it('M6 a capture and a void each send an orderID of their own (the payment’s would be a 409 duplicate): both are made', async () => {
      const toCapture = uniqueRef('MC');
      const toVoid = uniqueRef('MV');
      const held = await authorizedOrder(stack(), toCapture);
      await authorizedOrder(stack(), toVoid);

      const captured = await operate(stack(), toCapture, 'capture');
      const voided = await operate(stack(), toVoid, 'void');

      assert.equal(captured.status, 201, JSON.stringify(captured.json));
      assert.equal(captured.json.payment.status, 'paid');
      assert.equal(voided.status, 201, JSON.stringify(voided.json));
      const session = await stack().store.getSession(held.sessionId);
      const capture = (await sentRequestData(stack(), 'capture')).at(-1)!;
      assert.equal(capture.transactionID, held.transactionId);
      assert.notEqual(capture.orderID, session?.gatewayOrderId);
      assert.equal(capture.orderID, captured.json.operation.gatewayRef);
    });

    it('M7 a re-send of a refund whose answer was lost carries the same orderID: the gateway refuses it as a duplicate and refunds once', async () => {
      const orderRef = uniqueRef('MR');
      const held = await authorizedOrder(stack(), orderRef);
      assert.equal((await operate(stack(), orderRef, 'capture')).status, 201);
      const calls = (await sentRequestData(stack(), 'refund')).length;

      // The refund is made, its answer lost; then the re-send.
      const { first, retry } = await refundWithLostAnswer(stack(), orderRef, 50_000);

      assert.deepEqual([first.status, first.json.error?.code], [502, 'outcome_unknown']);
      assert.equal(retry.status, 201, JSON.stringify(retry.json));
      assert.equal(retry.json.operation.state, 'succeeded');
      const refunds = (await sentRequestData(stack(), 'refund')).slice(calls);
      assert.equal(refunds.length, 2);
      assert.equal(refunds[0]!.orderID, refunds[1]!.orderID);
      const txn = (await sandboxTransaction(stack(), held.transactionId)) as Loose;
      assert.deepEqual(
        (txn.refunds as Loose[]).map(r => r.amount),
        [50_000],
        'refunded once',
      );
    });
  });

  describe('original, against a gateway that wants the payment’s orderID (sandbox original)', () => {
    const stack = useManagementOrderIds('original', 'original');

    it('M1 refund and capture send the payment’s own orderID and are made', async () => {
      const orderRef = uniqueRef('MO');
      const held = await authorizedOrder(stack(), orderRef);
      const session = await stack().store.getSession(held.sessionId);

      const captured = await operate(stack(), orderRef, 'capture');
      const refunded = await refundOrder(stack(), orderRef, 10_000, `${orderRef}-k`);

      assert.equal(captured.status, 201, JSON.stringify(captured.json));
      assert.equal(refunded.status, 201, JSON.stringify(refunded.json));
      assert.equal(
        (await sentRequestData(stack(), 'capture')).at(-1)!.orderID,
        session?.gatewayOrderId,
      );
      assert.equal(
        (await sentRequestData(stack(), 'refund')).at(-1)!.orderID,
        session?.gatewayOrderId,
      );
    });
  });

  describe('default per-operation, against a gateway that wants the payment’s orderID (sandbox original)', () => {
    const stack = useManagementOrderIds('original');

    it('M5 fails safe: a refund or capture refused for its orderID is a definite refusal (422), nothing moves, the amount is free again', async () => {
      const capturedRef = uniqueRef('MS');
      const heldRef = uniqueRef('MH');
      await paidOrder(stack(), capturedRef, 200_000); // a domestic card: captured at once
      const held = await authorizedOrder(stack(), heldRef);

      const refunded = await refundOrder(stack(), capturedRef, 50_000, `${capturedRef}-k`);
      const captured = await operate(stack(), heldRef, 'capture');

      assert.deepEqual([refunded.status, refunded.json.error?.code], [422, 'gateway_refused']);
      const payment = (await shownOrder(stack(), capturedRef)).payments[0];
      assert.deepEqual(
        [payment.refunded, payment.refundPending, payment.refundable],
        [0, 0, 200_000],
      );
      assert.deepEqual([captured.status, captured.json.error?.code], [422, 'gateway_refused']);
      assert.equal((await stack().store.getSession(held.sessionId))?.status, 'authorized');
      assert.equal(await gatewayCalls(stack(), 'capture'), 1);
    });
  });
});
