import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyResponseSignature } from '@galaxy-pay/protocol';
import type { IpnAttempt, RequestRecord } from './ledger.js';
import {
  API_KEY,
  SALT,
  callApi,
  checkoutData,
  completePayment,
  eventually,
} from './test-support.js';
import { inspect, useMerchant, useSandbox } from './test-support.js';

const CHECKOUT = 'api/v1/transaction/checkout';

async function createCheckout(url: string, overrides: Record<string, unknown>) {
  const reply = await callApi(url, CHECKOUT, checkoutData(overrides));
  assert.equal(reply.status, 200, reply.text);
  return String(reply.json.responseData?.transactionID);
}

function complete(url: string, id: string, query = '') {
  return completePayment(url, id, { outcome: 'success', card: '9704000000000018' }, query);
}

describe('sandbox edge cases', () => {
  const gateway = useSandbox({ ipnRetryDelaysMs: [100, 100, 100], ipnTimeoutMs: 300 });
  const merchant = useMerchant();

  describe('POST /api/v1/transaction/checkout with a reply chain', () => {
    it('resets the socket for a reset step, then answers the next call', async () => {
      const data = checkoutData({ orderDescription: 'x sandbox:reset|ok' });

      await assert.rejects(callApi(gateway.url, CHECKOUT, data));
      const second = await callApi(gateway.url, CHECKOUT, data);

      assert.equal(second.status, 200);
    });

    it('answers an HTML 502 page for an html step', async () => {
      const data = checkoutData({ orderDescription: 'x sandbox:html|ok' });

      const first = await callApi(gateway.url, CHECKOUT, data);

      assert.equal(first.status, 502);
      assert.match(first.text, /^<!doctype html>/);
    });
  });

  describe('POST /api/v1/transaction/checkout with a body over 256 KB', () => {
    it('answers a signed 413 envelope and records the refusal', async () => {
      const data = checkoutData({ extraData: { note: 'x'.repeat(300 * 1024) } });

      const reply = await callApi(gateway.url, CHECKOUT, data);

      assert.equal(reply.status, 413);
      assert.equal(reply.json.responseCode, '413');
      assert.ok(verifyResponseSignature(reply.text, reply.signature, SALT));
      const records = await inspect<RequestRecord[]>(gateway.url, 'requests');
      const last = records.at(-1)!;
      assert.equal(last.path, `/${CHECKOUT}`);
      assert.equal(last.verdict.httpStatus, 413);
      assert.equal(last.headers.apikey, API_KEY);
    });
  });

  describe('POST /api/v1/transaction/payWithQR with an amount of 14 digits', () => {
    it('refuses it, since a VietQR amount holds at most 13 characters', async () => {
      const reply = await callApi(gateway.url, 'api/v1/transaction/payWithQR', {
        ...checkoutData({ orderAmount: '10000000000000' }),
        apiOperation: 'PAY',
        paymentMethod: 'QRPAY',
        sourceType: 'QRPAY',
      });

      assert.equal(reply.status, 400);
      assert.match(String(reply.json.responseMessage), /requestData\.orderAmount/);
    });
  });

  describe('global faults', () => {
    it('are read when used, not frozen into the transactions created while they were set', async () => {
      await fetch(`${gateway.url}/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ faults: 'no-ipn' }),
      });
      const id = await createCheckout(gateway.url, { ipnURL: `${merchant.url}/ipn` });
      await fetch(`${gateway.url}/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ faults: '' }),
      });

      await complete(gateway.url, id, '?wait=ipn');

      const attempts = await inspect<IpnAttempt[]>(gateway.url, `ipn?transactionID=${id}`);
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]!.acknowledged, true);
    });
  });

  describe('POST /__sandbox/reset', () => {
    it('stops IPN deliveries under way: nothing more is sent or recorded', async () => {
      merchant.setIpnAnswer(() => ({ status: 500, body: 'down' }));
      const id = await createCheckout(gateway.url, { ipnURL: `${merchant.url}/ipn-reset` });
      await complete(gateway.url, id);
      await eventually(() => merchant.hits.some(h => h.path === '/ipn-reset'));

      await fetch(`${gateway.url}/__sandbox/reset`, { method: 'POST' });
      const seenAtReset = merchant.hits.filter(h => h.path === '/ipn-reset').length;
      // A delivery started after the reset retries once its 100 ms wait is over: by then the stopped one
      // would have tried again too, since its wait began before the reset.
      const marker = await createCheckout(gateway.url, { ipnURL: `${merchant.url}/ipn-marker` });
      await complete(gateway.url, marker);
      await eventually(() => merchant.hits.filter(h => h.path === '/ipn-marker').length >= 2);

      assert.equal(merchant.hits.filter(h => h.path === '/ipn-reset').length, seenAtReset);
      const attempts = await inspect<IpnAttempt[]>(gateway.url, 'ipn');
      assert.deepEqual(
        attempts.filter(a => a.transactionID !== marker),
        [],
      );
      await fetch(`${gateway.url}/__sandbox/reset`, { method: 'POST' });
    });
  });
});

describe('sandbox expiry with an injected clock', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  // The requests carry the real time, the sandbox the test's: no freshness check (ledger Q5).
  const gateway = useSandbox({
    now: () => now,
    transactionTtlMs: 60_000,
    requestDateTimeToleranceMs: null,
  });

  it('dates an expired transaction at the end of its TTL, not when somebody looked', async () => {
    const id = await createCheckout(gateway.url, {});

    now = new Date('2026-01-01T01:00:00Z');
    const view = await inspect<{ state: string; completedAt: string }>(
      gateway.url,
      `transactions/${id}`,
    );

    assert.equal(view.state, 'expired');
    assert.equal(view.completedAt, '2026-01-01T00:01:00.000Z');
  });
});
