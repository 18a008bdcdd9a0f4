import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createGatewayClient, type GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import { merchantHostedCheckout, type HostedCard } from './merchant-hosted.js';
import type { Session } from '../store/store.js';
import { captureLog } from '../testing/log-capture.js';
import {
  API_KEY,
  SALT,
  completeInSandbox,
  eventually,
  listAllEvents,
  startStack,
  type Stack,
} from '../testing/test-support.js';

/** Documented sandbox test cards (sandbox/README.md). */
const APPROVED: HostedCard = {
  number: '4012000033330026',
  holderName: 'NGUYEN VAN A',
  expiry: '01/39',
  cvv: '100',
};
const APPROVED_3DS: HostedCard = {
  number: '4456530000001096',
  holderName: 'NGUYEN VAN B',
  expiry: '12/30',
  cvv: '111',
};
const DECLINED: HostedCard = {
  number: '4000000000000002',
  holderName: 'NGUYEN VAN C',
  expiry: '01/39',
  cvv: '100',
};

interface RecordedRequest {
  path: string;
  rawBody: string;
  verdict: { httpStatus: number; responseCode: string };
}

/** Every string value of a JSON-ish value, keys included as `key=value`. */
function strings(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return [value, `${key}=${value}`];
  if (Array.isArray(value)) return value.flatMap(v => strings(v, key));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  }
  return [];
}

/** The text itself, and what it decodes to when it is JSON or base64-encoded JSON. */
function decodings(text: string): { text: string; json: unknown }[] {
  const out: { text: string; json: unknown }[] = [{ text, json: undefined }];
  for (const candidate of [text, Buffer.from(text, 'base64').toString('utf8')]) {
    try {
      out.push({ text: candidate, json: JSON.parse(candidate) as unknown });
    } catch {
      // not JSON
    }
  }
  return out;
}

/** Asserts that neither the card number nor the CVV is in a piece of text (raw, JSON or base64 JSON). */
function assertNoCardData(text: string, card: HostedCard, where: string): void {
  for (const { text: decoded, json } of decodings(text)) {
    assert.ok(!decoded.includes(card.number), `the card number leaked into ${where}`);
    if (card.cvv) {
      assert.ok(!decoded.includes(`"${card.cvv}"`), `the CVV leaked into ${where}`);
    }
    if (json !== undefined && card.cvv) {
      // The CVV is 3 digits: look for it as a value, not as a substring of amounts or timestamps.
      assert.ok(!strings(json).includes(card.cvv), `the CVV leaked into ${where}`);
    }
  }
}

describe('merchantHostedCheckout (Merchant Hosted Checkout, PCI DSS SAQ D) against the sandbox', () => {
  const log = captureLog('debug');
  const logger = log.logger;
  let stack: Stack;
  let gateway: GatewayClient;
  let checkout: ReturnType<typeof merchantHostedCheckout>;

  const sandboxRequests = async (): Promise<RecordedRequest[]> =>
    (await (await fetch(`${stack.sandboxUrl}/__sandbox/requests`)).json()) as RecordedRequest[];

  /** Every pending (or pending_unknown) session of an order, whatever its age. */
  const openSessionsOf = async (orderRef: string): Promise<Session[]> =>
    (await stack.store.listStalePending(new Date(Date.now() + 86_400_000), 1000)).filter(
      s => s.orderRef === orderRef,
    );

  const newOrder = async (
    amount = 250_000,
    description = 'Merchant hosted order',
  ): Promise<string> => {
    const orderRef = `MHC-${randomBytes(6).toString('hex')}`;
    await stack.store.putOrder({
      orderRef,
      amount,
      currency: 'VND',
      description,
      netAmount: amount,
      feeAmount: 0,
      discountAmount: 0,
      createdAt: new Date(),
    });
    return orderRef;
  };

  /** Card data must be nowhere in what the signer logged or stored, for this session. */
  const assertNothingLeaked = async (card: HostedCard, session?: Session) => {
    for (const line of log.lines) assertNoCardData(line, card, 'the logs');
    for (const event of await listAllEvents(stack.database!)) {
      assertNoCardData(event.raw, card, `a stored ${event.kind} event`);
      assertNoCardData(event.detail ?? '', card, `a stored ${event.kind} event's detail`);
    }
    if (session) {
      const stored = await stack.store.getSession(session.id);
      assertNoCardData(JSON.stringify(stored), card, 'the stored session');
      for (const item of await stack.store.listOutbox(session.id)) {
        assertNoCardData(item.payload, card, 'the outbox');
      }
    }
    // The whole SQLite database (and its write-ahead log), byte for byte.
    const file = stack.database!.url.slice('file:'.length);
    for (const path of [file, `${file}-wal`]) {
      if (!existsSync(path)) continue;
      assert.ok(
        !readFileSync(path).includes(Buffer.from(card.number)),
        `the card number is in ${path}`,
      );
    }
  };

  before(async () => {
    stack = await startStack({ signer: { logger } });
    gateway = createGatewayClient({
      baseUrl: stack.sandboxUrl,
      apiKey: API_KEY,
      salt: SALT,
      pageOrigins: [stack.sandboxUrl],
      logger,
    });
    checkout = merchantHostedCheckout({
      store: stack.store,
      gateway,
      publicUrl: `${stack.signerUrl}/`,
      acknowledgePciDssSaqD: true,
    });
  });
  beforeEach(async () => {
    const reset = await fetch(`${stack.sandboxUrl}/__sandbox/reset`, { method: 'POST' });
    assert.equal(reset.status, 204);
  });
  after(() => stack.close());

  describe('without the explicit PCI DSS SAQ D acknowledgement', () => {
    it('refuses with an error naming the acknowledgement, and calls no gateway', async () => {
      const refusals: unknown[] = [false, undefined, 'true', 1, null];
      for (const acknowledgePciDssSaqD of refusals) {
        assert.throws(
          () =>
            merchantHostedCheckout({
              store: stack.store,
              gateway,
              publicUrl: stack.signerUrl,
              acknowledgePciDssSaqD: acknowledgePciDssSaqD as true,
            }),
          (error: unknown) =>
            error instanceof TypeError &&
            /acknowledgePciDssSaqD: true/.test(error.message) &&
            /PCI DSS SAQ D/.test(error.message),
          `acknowledgePciDssSaqD: ${String(acknowledgePciDssSaqD)}`,
        );
      }
      assert.throws(() =>
        merchantHostedCheckout({
          store: stack.store,
          gateway,
          publicUrl: stack.signerUrl,
        } as unknown as Parameters<typeof merchantHostedCheckout>[0]),
      );

      assert.deepEqual(await sandboxRequests(), [], 'the sandbox saw no request');
    });
  });

  describe('with a card that needs no OTP (4012000033330026)', () => {
    it('pays through the real sandbox: session saved first, checkout attached, IPN settles it as paid', async () => {
      const orderRef = await newOrder(250_000);

      const result = await checkout.pay(orderRef, APPROVED);

      // The one gateway request: pay, sourceOfFund CARD, the card fields, callbacks to this signer.
      const requests = await sandboxRequests();
      assert.equal(requests.length, 1);
      assert.equal(requests[0]!.path, '/api/v1/transaction/pay');
      assert.equal(requests[0]!.verdict.responseCode, '200');
      const sent = JSON.parse(requests[0]!.rawBody) as {
        requestID: string;
        requestData: Record<string, unknown>;
      };
      const data = sent.requestData;
      assert.equal(data.apiOperation, 'PAY');
      assert.equal(data.sourceOfFund, 'CARD');
      assert.equal(data.paymentMethod, 'INTERNATIONAL');
      assert.equal(data.cardNumber, APPROVED.number);
      assert.equal(data.cardExpireDate, APPROVED.expiry);
      assert.equal(data.cardVerificationValue, APPROVED.cvv);
      assert.equal(data.cardHolderName, APPROVED.holderName);
      assert.equal(Number(data.orderAmount), 250_000);
      assert.equal(data.orderCurrency, 'VND');

      const { session } = result;
      assert.equal(sent.requestID, session.requestId);
      assert.equal(data.orderID, session.gatewayOrderId);
      // The trailing slash of publicUrl is dropped.
      assert.equal(data.ipnURL, `${stack.signerUrl}/ipn`);
      assert.equal(data.successURL, `${stack.signerUrl}/return/${session.id}/result`);
      assert.equal(data.failureURL, `${stack.signerUrl}/return/${session.id}/result`);
      assert.equal(data.cancelURL, `${stack.signerUrl}/return/${session.id}/cancel`);

      // The session as pay() returns it: the order's amount, the gateway transaction attached.
      assert.equal(session.orderRef, orderRef);
      assert.equal(session.amount, 250_000);
      assert.equal(session.currency, 'VND');
      assert.equal(session.paymentMethod, 'INTERNATIONAL');
      assert.ok(session.transactionId, 'the transaction id is attached');
      assert.equal(session.checkoutUrl, `${stack.sandboxUrl}/pay/${session.transactionId}`);
      // The gateway always answers with its page URL, even when the card needed no OTP.
      assert.equal(result.authenticationUrl, session.checkoutUrl);
      assert.ok(['pending', 'paid'].includes(session.status), session.status);

      // The sandbox finished the payment at once; its IPN reaches the signer and settles the session.
      const paid = await eventually(async () => {
        const current = await stack.store.getSession(session.id);
        return current?.status === 'paid' ? current : undefined;
      });
      assert.equal(paid.code, '200');
      assert.equal(paid.transactionId, session.transactionId);
      assert.ok(paid.paidAt);
      const events = await stack.store.listEvents(session.id);
      const ipn = events.find(e => e.kind === 'ipn' && e.verdict === 'applied');
      assert.ok(ipn, `an applied IPN is stored: ${JSON.stringify(events)}`);
      assert.equal(ipn.verified, true);
      assert.equal(ipn.transactionId, session.transactionId);
      const outbox = await stack.store.listOutbox(session.id);
      assert.deepEqual(
        outbox.map(o => o.event),
        ['paid'],
      );

      const txn = (await (
        await fetch(`${stack.sandboxUrl}/__sandbox/transactions/${session.transactionId}`)
      ).json()) as { state: string };
      assert.equal(txn.state, 'captured');

      await assertNothingLeaked(APPROVED, session);
    });
  });

  describe('with a card that needs 3-D Secure / OTP (4456530000001096)', () => {
    it('returns the authentication page and stays pending until the OTP step finishes', async () => {
      const orderRef = await newOrder(90_000);

      const { session, authenticationUrl } = await checkout.pay(orderRef, APPROVED_3DS);

      assert.equal(session.status, 'pending');
      assert.equal(authenticationUrl, `${stack.sandboxUrl}/pay/${session.transactionId}`);
      await completeInSandbox(stack, session.transactionId!, 'success', {
        card: APPROVED_3DS.number,
      });
      const paid = await eventually(async () => {
        const current = await stack.store.getSession(session.id);
        return current?.status === 'paid' ? current : undefined;
      });
      assert.equal(paid.code, '200');

      await assertNothingLeaked(APPROVED_3DS, session);
    });
  });

  describe('with the declined test card (4000000000000002)', () => {
    it('resolves, then the IPN settles the session as failed (505)', async () => {
      const orderRef = await newOrder(120_000);

      const { session } = await checkout.pay(orderRef, DECLINED);

      assert.ok(session.transactionId);
      const failed = await eventually(async () => {
        const current = await stack.store.getSession(session.id);
        return current?.status === 'failed' ? current : undefined;
      });
      assert.equal(failed.code, '505');
      assert.equal(failed.paidAt, null);
      const events = await stack.store.listEvents(session.id);
      assert.ok(events.some(e => e.kind === 'ipn' && e.verdict === 'applied' && e.verified));
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(o => o.event),
        ['failed'],
      );

      await assertNothingLeaked(DECLINED, session);
    });
  });

  describe('with malformed card input', () => {
    it('refuses before saving a session or calling the gateway, without echoing the card', async () => {
      const orderRef = await newOrder();
      const bad: Array<[string, HostedCard]> = [
        ['letters in the number', { ...APPROVED, number: '4012abcd33330026' }],
        ['spaces in the number', { ...APPROVED, number: '4012 0000 3333 0026' }],
        ['a number too short', { ...APPROVED, number: '40120000333' }],
        ['a number too long', { ...APPROVED, number: '40120000333300261234' }],
        ['an empty number', { ...APPROVED, number: '' }],
        ['expiry without the slash', { ...APPROVED, expiry: '0139' }],
        ['expiry with a dash', { ...APPROVED, expiry: '01-39' }],
        ['a one-digit month', { ...APPROVED, expiry: '1/39' }],
        ['a four-digit year', { ...APPROVED, expiry: '01/2039' }],
        ['month 13', { ...APPROVED, expiry: '13/39' }],
        ['month 00', { ...APPROVED, expiry: '00/39' }],
        ['letters in the CVV', { ...APPROVED, cvv: '1a0' }],
        ['a CVV too long', { ...APPROVED, cvv: '10000' }],
        ['a malformed issue date', { ...APPROVED, issueDate: '3/7' }],
      ];
      for (const [what, card] of bad) {
        await assert.rejects(
          checkout.pay(orderRef, card),
          (error: unknown) =>
            error instanceof TypeError &&
            /malformed/.test(error.message) &&
            (card.number === '' || !error.message.includes(card.number)) &&
            !error.message.includes(String(card.cvv)),
          what,
        );
      }

      assert.deepEqual(await sandboxRequests(), [], 'the sandbox saw no request');
      assert.deepEqual(await openSessionsOf(orderRef), [], 'no session was saved');
      await assertNothingLeaked(APPROVED);
    });

    it('refuses an unknown order before calling the gateway', async () => {
      await assert.rejects(checkout.pay('NO-SUCH-ORDER', APPROVED), /no order NO-SUCH-ORDER/);
      assert.deepEqual(await sandboxRequests(), []);
    });
  });

  describe('when the gateway answers 503 (the request may have been acted on)', () => {
    it('marks the session pending_unknown for reconciliation and rethrows', async () => {
      const orderRef = await newOrder(80_000, 'Merchant hosted order sandbox:503');

      await assert.rejects(checkout.pay(orderRef, APPROVED), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'upstream_error');
        return true;
      });

      const [session, ...others] = await openSessionsOf(orderRef);
      assert.equal(others.length, 0);
      assert.equal(session?.status, 'pending_unknown');
      await assertNothingLeaked(APPROVED, session);
    });
  });

  describe('when the pay reply fails its signature check (the gateway did take the card)', () => {
    it('logs the alert without card data, and the IPN still settles the payment', async () => {
      const orderRef = await newOrder(
        70_000,
        'Merchant hosted order sandbox:bad-response-signature',
      );
      const linesBefore = log.lines.length;

      await assert.rejects(checkout.pay(orderRef, APPROVED), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'upstream_untrusted');
        assertNoCardData(JSON.stringify(error), APPROVED, 'the error');
        return true;
      });

      const [request] = await sandboxRequests();
      const { requestData } = JSON.parse(request!.rawBody) as {
        requestData: { orderID: string };
      };
      const session = await stack.store.getSessionByGatewayOrderId(requestData.orderID);
      assert.ok(session);
      const paid = await eventually(async () => {
        const current = await stack.store.getSession(session.id);
        return current?.status === 'paid' ? current : undefined;
      });
      assert.equal(paid.code, '200');
      const logged = log.lines.slice(linesBefore).join('');
      assert.match(
        logged,
        /gateway_untrusted_reply/,
        'the alert was logged (the log check is not vacuous)',
      );
      await assertNothingLeaked(APPROVED, session);
    });
  });

  describe('when the gateway refuses the card outright (wrong CVV: a 400 naming the field)', () => {
    it('throws the gateway refusal without card data and fails the session, leaving nothing in doubt', async () => {
      const orderRef = await newOrder();
      const wrong: HostedCard = { ...APPROVED, cvv: '999' };

      const error = await checkout.pay(orderRef, wrong).then(
        () => assert.fail('the wrong CVV was accepted'),
        (e: unknown) => e,
      );

      assert.ok(error instanceof GatewayError, String(error));
      assert.equal(error.code, 'gateway_rejected');
      assert.equal(error.responseCode, '400');
      assertNoCardData(JSON.stringify(error), wrong, 'the error');
      assertNoCardData(error.message, wrong, 'the error message');
      const [request] = await sandboxRequests();
      assert.equal(request?.verdict.httpStatus, 400);
      const { requestData } = JSON.parse(request!.rawBody) as {
        requestData: { orderID: string };
      };
      const session = await stack.store.getSessionByGatewayOrderId(requestData.orderID);
      assert.ok(session, 'the session was saved before the call');
      // A definitive refusal: the gateway holds no transaction, so nothing is left pending or in doubt.
      assert.equal(session.status, 'failed');
      assert.equal(session.transactionId, null);
      assert.deepEqual(await openSessionsOf(orderRef), []);

      await assertNothingLeaked(wrong, session);
    });
  });
});
