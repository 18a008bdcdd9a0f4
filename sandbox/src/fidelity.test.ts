/**
 * The sandbox options that play each reading of what Galaxy Pay leaves undocumented or split
 * (docs/gateway-fidelity.md, rows R*, C* and M*).
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import {
  Endpoint,
  formatGatewayDateTime,
  signText,
  verifyResponseSignature,
} from '@galaxy-pay/protocol';
import { legacyFlattenSignature } from './fidelity.js';
import { cliExit, runCli, withCli } from './cli-test-support.js';
import {
  API_KEY,
  SALT,
  callApi,
  checkoutData,
  completePayment,
  inspect,
  newOrderId,
  payData,
  useMerchant,
  withSandbox,
  type ApiResult,
} from './test-support.js';

/** A reply as it came off the wire: header names with their casing. */
async function rawReply(
  baseUrl: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  rawHeaderNames: string[];
  headers: Record<string, string>;
  text: string;
}> {
  const url = new URL(`${baseUrl}/${path}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', chunk => (text += chunk));
      res.on('end', () => {
        const names = res.rawHeaders.filter((_, i) => i % 2 === 0);
        const flat: Record<string, string> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          flat[res.rawHeaders[i]!.toLowerCase()] = res.rawHeaders[i + 1]!;
        }
        resolve({ status: res.statusCode ?? 0, rawHeaderNames: names, headers: flat, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed checkout request body and its headers. */
function signedCheckout(): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    requestID: newOrderId().replace(/[^A-Za-z0-9]/g, ''),
    requestDateTime: formatGatewayDateTime(new Date()),
    requestData: checkoutData(),
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      apikey: API_KEY,
      signature: signText(body, SALT),
    },
  };
}

describe('sandbox fidelity options', () => {
  describe('responseSignature (ledger R2–R7)', () => {
    it('R2 signature (default): every reply, errors included, carries `signature` = sha256(raw body + salt)', async () => {
      await withSandbox({}, async ({ url }) => {
        const okReply = await callApi(url, Endpoint.Checkout, checkoutData());
        const refused = await callApi(url, Endpoint.Checkout, checkoutData(), { apiKey: 'wrong' });

        assert.equal(okReply.status, 200);
        assert.equal(okReply.signature, signText(okReply.text, SALT));
        assert.equal(refused.status, 401);
        assert.equal(refused.signature, signText(refused.text, SALT));
      });
    });

    it('R3 Signature: the same value under the header name spelled `Signature` on the wire', async () => {
      await withSandbox({ responseSignature: 'Signature' }, async ({ url }) => {
        const { body, headers } = signedCheckout();

        const reply = await rawReply(url, Endpoint.Checkout, body, headers);

        assert.equal(reply.status, 200);
        assert.ok(reply.rawHeaderNames.includes('Signature'), reply.rawHeaderNames.join(', '));
        assert.ok(!reply.rawHeaderNames.includes('signature'));
        assert.ok(verifyResponseSignature(reply.text, reply.headers.signature, SALT));
      });
    });

    it('R4 uppercase: the same value in upper-case hex', async () => {
      await withSandbox({ responseSignature: 'uppercase' }, async ({ url }) => {
        const reply = await callApi(url, Endpoint.Checkout, checkoutData());

        assert.equal(reply.signature, signText(reply.text, SALT).toUpperCase());
        assert.ok(verifyResponseSignature(reply.text, reply.signature, SALT));
      });
    });

    it('R5 none: no signature header on any reply', async () => {
      await withSandbox({ responseSignature: 'none' }, async ({ url }) => {
        const okReply = await callApi(url, Endpoint.Checkout, checkoutData());
        const refused = await callApi(url, Endpoint.Checkout, checkoutData({ orderAmount: 'x' }));

        assert.deepEqual([okReply.status, okReply.signature], [200, null]);
        assert.deepEqual([refused.status, refused.signature], [400, null]);
      });
    });

    it('R6 success-only: a 200 reply is signed, a refusal is not', async () => {
      await withSandbox({ responseSignature: 'success-only' }, async ({ url }) => {
        const okReply = await callApi(url, Endpoint.Checkout, checkoutData());
        const refused = await callApi(url, Endpoint.Checkout, checkoutData({ orderAmount: 'x' }));

        assert.ok(verifyResponseSignature(okReply.text, okReply.signature, SALT));
        assert.deepEqual([refused.status, refused.signature], [400, null]);
      });
    });

    it('R7 legacy-flatten: a `signature` header by the v1/v2 formula, which sha256(body + salt) does not match', async () => {
      await withSandbox({ responseSignature: 'legacy-flatten' }, async ({ url }) => {
        const reply = await callApi(url, Endpoint.Checkout, checkoutData());

        assert.equal(reply.signature, legacyFlattenSignature(reply.text, SALT));
        assert.equal(verifyResponseSignature(reply.text, reply.signature, SALT), false);
      });
    });

    it('R7 the legacy formula reproduces the legacy guide 2.0 worked example (dd3c7de9…d95654fa)', () => {
      // Galaxy Pay's legacy guide 2.0 example request, signed with salt GO@2021 (protocol notes §4.5).
      const legacy = {
        billNumber: '205249008064',
        orderAmount: 100000,
        orderCurrency: 'VND',
        orderDescription: 'DEMO TRANSACTION',
        language: 'vi',
        cardType: 'atm',
        bank: '970437',
        otp: 'on',
        request: 'purchase',
        client_ip_addr: '1.1.1.1',
        order_timestamp: 1646797594,
        uphParameters: { ip: '1.1.1.1', agent: 'Chrome 96.0', device: 'Windows' },
        signature: 'not part of what is signed',
      };

      const signature = legacyFlattenSignature(JSON.stringify(legacy), SALT);

      assert.ok(signature.startsWith('dd3c7de9') && signature.endsWith('d95654fa'), signature);
    });
  });

  describe('checkoutCallbackUrls (ledger C1–C3)', () => {
    const merchant = useMerchant();

    /** Opens a checkout that names the merchant's URLs, pays it, and returns what the sandbox did. */
    async function payCheckout(url: string, data: Record<string, unknown>) {
      const reply: ApiResult = await callApi(url, Endpoint.Checkout, data);
      const transactionID = String(reply.json.responseData?.transactionID);
      const paid = { outcome: 'success', card: '9704000000000018' };
      const { text } = await completePayment(url, transactionID, paid, '?wait=ipn');
      const finished = JSON.parse(text) as { callback: { url: string } | null };
      const ipns = await inspect<unknown[]>(url, `ipn?transactionID=${transactionID}`);
      return { callback: finished.callback, ipns };
    }

    const urls = (merchantUrl: string) => ({
      successURL: `${merchantUrl}/from-request/result`,
      failureURL: `${merchantUrl}/from-request/result`,
      cancelURL: `${merchantUrl}/from-request/cancel`,
      ipnURL: `${merchantUrl}/ipn/from-request`,
    });

    it('C1 honour (default): the checkout request’s own URLs get the redirect and the IPN', async () => {
      await withSandbox({}, async ({ url }) => {
        const { callback, ipns } = await payCheckout(url, checkoutData(urls(merchant.url)));

        assert.equal(callback?.url, `${merchant.url}/from-request/result`);
        assert.equal(ipns.length, 1);
      });
    });

    it('C2 ignore, no URLs configured: no redirect and no IPN at all', async () => {
      await withSandbox({ checkoutCallbackUrls: 'ignore' }, async ({ url }) => {
        const { callback, ipns } = await payCheckout(url, checkoutData(urls(merchant.url)));

        assert.equal(callback, null);
        assert.equal(ipns.length, 0);
      });
    });

    it('C3 ignore, with the merchant’s configured URLs: those are used instead', async () => {
      const configured = {
        successURL: `${merchant.url}/configured/result`,
        ipnURL: `${merchant.url}/ipn/configured`,
      };
      await withSandbox(
        { checkoutCallbackUrls: 'ignore', merchantUrls: configured },
        async ({ url }) => {
          const { callback, ipns } = await payCheckout(url, checkoutData(urls(merchant.url)));

          assert.equal(callback?.url, configured.successURL);
          assert.deepEqual(
            (ipns as Array<{ url: string }>).map(i => i.url),
            [configured.ipnURL],
          );
        },
      );
    });

    it('C3 ignore applies to checkout only: pay keeps the URLs its table documents', async () => {
      await withSandbox({ checkoutCallbackUrls: 'ignore' }, async ({ url }) => {
        const reply = await callApi(
          url,
          Endpoint.Pay,
          payData({ paymentMethod: 'DOMESTIC', ...urls(merchant.url) }),
        );
        const transactionID = String(reply.json.responseData?.transactionID);
        const res = await fetch(`${url}/__sandbox/transactions/${transactionID}/complete`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ outcome: 'success', card: '9704000000000018' }),
        });
        const finished = (await res.json()) as { callback: { url: string } | null };

        assert.equal(finished.callback?.url, `${merchant.url}/from-request/result`);
      });
    });
  });

  describe('managementOrderId (ledger M2–M4)', () => {
    interface Payment {
      transactionID: string;
      orderID: string;
    }

    async function complete(url: string, transactionID: string): Promise<void> {
      const res = await fetch(`${url}/__sandbox/transactions/${transactionID}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'success', card: '4012000033330026' }),
      });
      assert.equal(res.status, 200, await res.text());
    }

    /** A captured (or, with `authorizeOnly`, authorized) international payment of 100 000 VND. */
    async function payment(url: string, authorizeOnly = false): Promise<Payment> {
      const data = payData(authorizeOnly ? { isAutoCapture: 'false' } : {});
      const reply = await callApi(url, Endpoint.Pay, data);
      const transactionID = String(reply.json.responseData?.transactionID);
      await complete(url, transactionID);
      return { transactionID, orderID: String(data.orderID) };
    }

    function management(paid: Payment, orderID: string, orderAmount = 10_000) {
      return {
        transactionID: paid.transactionID,
        orderID,
        orderAmount,
        orderCurrency: 'VND',
        orderDateTime: formatGatewayDateTime(new Date()),
        orderDescription: 'DEMO REFUND TRANSACTION',
      };
    }

    const codeOf = (reply: ApiResult) => [reply.status, reply.json.responseCode];

    it('M2 either (default): refunds under the original orderID (twice) and under new references are accepted; a reference repeated is 409', async () => {
      await withSandbox({}, async ({ url }) => {
        const paid = await payment(url);
        const reference = 'REFUND0001';

        const results = [
          await callApi(url, Endpoint.Refund, management(paid, paid.orderID)),
          await callApi(url, Endpoint.Refund, management(paid, paid.orderID)),
          await callApi(url, Endpoint.Refund, management(paid, reference)),
          await callApi(url, Endpoint.Refund, management(paid, reference)),
        ];

        assert.deepEqual(results.map(codeOf), [
          [200, '200'],
          [200, '200'],
          [200, '200'],
          [409, '409'],
        ]);
      });
    });

    it('M3 original: only the original orderID is accepted (a new reference is 400 naming orderID), for refund and capture alike', async () => {
      await withSandbox({ managementOrderId: 'original' }, async ({ url }) => {
        const paid = await payment(url);
        const held = await payment(url, true);

        const newRef = await callApi(url, Endpoint.Refund, management(paid, 'REFUND0002'));
        const original = await callApi(url, Endpoint.Refund, management(paid, paid.orderID));
        const captureNew = await callApi(
          url,
          Endpoint.Capture,
          management(held, 'CAPTURE0001', 100_000),
        );
        const captureOriginal = await callApi(
          url,
          Endpoint.Capture,
          management(held, held.orderID, 100_000),
        );

        assert.deepEqual(codeOf(newRef), [400, '400']);
        assert.match(String(newRef.json.responseMessage), /orderID/);
        assert.deepEqual(codeOf(original), [200, '200']);
        assert.deepEqual(codeOf(captureNew), [400, '400']);
        assert.deepEqual(codeOf(captureOriginal), [200, '200']);
      });
    });

    it('M4 unique: the original orderID is a 409 duplicate, a new reference is accepted once, for refund, void and capture', async () => {
      await withSandbox({ managementOrderId: 'unique' }, async ({ url }) => {
        const paid = await payment(url);
        const toVoid = await payment(url, true);
        const toCapture = await payment(url, true);

        const results = [
          await callApi(url, Endpoint.Refund, management(paid, paid.orderID)),
          await callApi(url, Endpoint.Refund, management(paid, 'REFUND0003')),
          await callApi(url, Endpoint.Refund, management(paid, 'REFUND0003')),
          await callApi(url, Endpoint.Refund, management(paid, 'REFUND0004')),
          await callApi(url, Endpoint.Void, management(toVoid, toVoid.orderID, 100_000)),
          await callApi(url, Endpoint.Void, management(toVoid, 'VOID0001', 100_000)),
          await callApi(url, Endpoint.Capture, management(toCapture, toCapture.orderID, 100_000)),
          await callApi(url, Endpoint.Capture, management(toCapture, 'CAPTURE0002', 100_000)),
        ];

        assert.deepEqual(results.map(codeOf), [
          [409, '409'],
          [200, '200'],
          [409, '409'],
          [200, '200'],
          [409, '409'],
          [200, '200'],
          [409, '409'],
          [200, '200'],
        ]);
      });
    });
  });

  describe('the CLI flags', () => {
    it('--response-signature none --management-order-id original --checkout-callback-urls ignore: applied', async () => {
      const args = [
        ...['--api-key', API_KEY, '--salt', SALT, '--port', '0'],
        ...['--response-signature', 'none', '--management-order-id', 'original'],
        ...['--checkout-callback-urls', 'ignore'],
      ];

      await withCli(args, async url => {
        const reply = await callApi(url, Endpoint.Checkout, checkoutData());

        assert.deepEqual([reply.status, reply.signature], [200, null]);
      });
    });

    for (const flag of [
      '--response-signature',
      '--checkout-callback-urls',
      '--management-order-id',
    ]) {
      it(`${flag} with an unknown value exits 2 naming the flag and the value`, async () => {
        const { code, stderr } = await cliExit(
          runCli(['--api-key', API_KEY, '--salt', SALT, flag, 'bogus']),
        );

        assert.equal(code, 2);
        assert.match(stderr, new RegExp(`${flag} must be one of .*not "bogus"`));
      });
    }
  });
});
