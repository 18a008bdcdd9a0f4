/**
 * Issue 12 §1 and §4 in the sandbox (docs/gateway-fidelity.md, rows L* and K*): the payment-link IPN in both
 * documented shapes, Remove Token at the API playground's path, Apple Pay merchant validation, and the
 * archived QR API. Real HTTP on loopback, requests built and signed with the real protocol code.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Endpoint,
  formatGatewayDateTime,
  newRequestId,
  signText,
  verifyCallback,
  type CallbackEnvelope,
  type PaymentLinkCallback,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import { cliExit, runCli } from './cli-test-support.js';
import {
  API_KEY,
  CARD_3DS,
  SALT,
  callApi,
  eventually,
  inspect,
  useMerchant,
  useSandbox,
  withSandbox,
  type RunningSandbox,
} from './test-support.js';

const VALIDATION_URL = 'https://apple-pay-gateway-cert.apple.com/paymentservices/startSession';

describe('payment-link IPN shapes', () => {
  const merchant = useMerchant();

  async function payLink(sandbox: RunningSandbox) {
    const orderID = newRequestId();
    const created = await callApi(sandbox.url, Endpoint.CreatePaymentLink, {
      orderID,
      orderName: 'Invoice 9',
      orderAmount: 11300,
      orderCurrency: 'VND',
      orderDescription: 'mua hang online',
      expiryDuration: 1,
      expiryUnit: 'HOUR',
      paymentMethods: ['NAPAS'],
      paymentFields: ['fullname', 'phone'],
      ipnURL: `${merchant.url}/ipn`,
    });
    assert.equal(created.status, 200, created.text);
    const { orderNo, shortLink } = created.json.responseData as {
      orderNo: string;
      shortLink: string;
    };
    const before = merchant.ipns().length;
    const paid = await fetch(`${sandbox.url}/__sandbox/links/${orderNo}/pay?wait=ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fullname: 'binh test lai', phone: '0774754323' }),
    });
    assert.equal(paid.status, 200);
    const hit = await eventually(() => merchant.ipns()[before]);
    return {
      orderID,
      orderNo,
      shortLink,
      decoded: verifyCallback(JSON.parse(hit.body) as CallbackEnvelope, SALT),
    };
  }

  it("L2 sends Galaxy Pay's example shape by default: requestID, transactionID, orderID = orderNo, orderNumber", async () => {
    await withSandbox({}, async sandbox => {
      const { orderID, orderNo, shortLink, decoded } = await payLink(sandbox);

      const ipn = decoded as TransactionCallback & {
        responseData: { extraData?: Record<string, string> };
      };
      assert.equal(typeof ipn.requestID, 'string');
      assert.equal('requestId' in ipn, false);
      assert.deepEqual(
        [
          ipn.responseData.orderID,
          ipn.responseData.orderNumber,
          ipn.responseData.orderAmount,
          ipn.responseData.orderCurrency,
        ],
        [orderNo, orderID, '11300', 'VND'],
      );
      assert.match(ipn.responseData.transactionID, /^\d{25}$/);
      assert.equal('orderNo' in ipn.responseData, false);
      assert.deepEqual(ipn.responseData.extraData, {
        fullName: 'binh test lai',
        phone: '0774754323',
        paymentLink: shortLink,
      });
    });
  });

  it("L3 sends the docs table's shape with linkIpnShape 'table': requestId, orderNo, orderReference", async () => {
    await withSandbox({ linkIpnShape: 'table' }, async sandbox => {
      const { orderID, orderNo, decoded } = await payLink(sandbox);

      const ipn = decoded as PaymentLinkCallback;
      assert.equal(typeof ipn.requestId, 'string');
      assert.equal('requestID' in ipn, false);
      assert.deepEqual(
        [ipn.responseData.orderNo, ipn.responseData.orderReference, ipn.responseData.orderAmount],
        [orderNo, orderID, '11300'],
      );
      assert.equal(ipn.responseData.extraData?.fullName, 'binh test lai');
    });
  });

  it('L3 the CLI takes --link-ipn-shape and refuses an unknown shape (exit 2)', async () => {
    const { code, stderr } = await cliExit(
      runCli(['--api-key', API_KEY, '--salt', SALT, '--link-ipn-shape', 'yaml']),
    );

    assert.equal(code, 2);
    assert.match(stderr, /--link-ipn-shape must be one of example, table/);
  });
});

describe('Remove Token (POST /api/v1/token/remove)', () => {
  const sandbox = useSandbox();

  async function newToken(): Promise<string> {
    const created = await callApi(sandbox.url, Endpoint.CreateToken, {
      paymentMethod: 'INTERNATIONAL',
      ...CARD_3DS,
    });
    assert.equal(created.status, 200, created.text);
    return String(created.json.responseData?.token);
  }

  /** The API playground's request: indented JSON (System.Text.Json WriteIndented), strings, `apiKey`. */
  async function removeAsPlayground(token: string) {
    const body = JSON.stringify(
      {
        requestID: newRequestId(),
        requestDateTime: String(formatGatewayDateTime(new Date())),
        requestData: { token },
      },
      null,
      2,
    );
    return fetch(`${sandbox.url}/api/v1/token/remove`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        apiKey: API_KEY,
        signature: signText(body, SALT),
      },
      body,
    });
  }

  it("K1 removes a token sent in the playground's shape, and refuses it once gone", async () => {
    const token = await newToken();

    const first = await removeAsPlayground(token);
    const again = await removeAsPlayground(token);

    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { responseCode: string }).responseCode, '200');
    assert.equal(again.status, 400);
    const tokens = await inspect<Array<{ token: string }>>(sandbox.url, 'tokens');
    assert.equal(
      tokens.some(t => t.token === token),
      false,
    );
  });

  it('K1 answers the signed envelope like deleteToken (signature checked on the raw text)', async () => {
    const token = await newToken();

    const forged = await callApi(sandbox.url, Endpoint.RemoveToken, { token }, { salt: 'nope' });
    const removed = await callApi(sandbox.url, Endpoint.RemoveToken, { token });

    assert.equal(forged.status, 401);
    assert.deepEqual(
      [removed.status, removed.json.responseCode, removed.json.responseData],
      [200, '200', undefined],
    );
  });
});

describe('Apple Pay merchant validation [inferred path]', () => {
  it('K5 answers an Apple validation URL with a merchant session for the domain', async () => {
    await withSandbox({}, async sandbox => {
      const reply = await callApi(sandbox.url, Endpoint.ApplePayValidation, {
        validationURL: VALIDATION_URL,
        domainName: 'shop.example',
        displayName: 'Shop',
      });

      assert.equal(reply.status, 200, reply.text);
      const session = reply.json.responseData as Record<string, unknown>;
      assert.equal(session.domainName, 'shop.example');
      assert.equal(session.displayName, 'Shop');
      assert.match(String(session.merchantSessionIdentifier), /^SSH[0-9A-F]{32}$/);
      assert.ok(Number(session.expiresAt) > Number(session.epochTimestamp));
    });
  });

  it("K5 refuses a validationURL that is not Apple's (400), and a missing domain", async () => {
    await withSandbox({}, async sandbox => {
      const foreign = await callApi(sandbox.url, Endpoint.ApplePayValidation, {
        validationURL: 'https://apple-pay-gateway.apple.com.evil.example/paymentSession',
        domainName: 'shop.example',
      });
      const noDomain = await callApi(sandbox.url, Endpoint.ApplePayValidation, {
        validationURL: VALIDATION_URL,
      });

      assert.deepEqual([foreign.status, foreign.json.responseCode], [400, '400']);
      assert.match(String(foreign.json.responseMessage), /validationURL/);
      assert.equal(noDomain.status, 400);
    });
  });

  it("K6 wraps the session under merchantSession with applePaySession 'wrapped'", async () => {
    await withSandbox({ applePaySession: 'wrapped' }, async sandbox => {
      const reply = await callApi(sandbox.url, Endpoint.ApplePayValidation, {
        validationURL: VALIDATION_URL,
        domainName: 'shop.example',
      });

      const data = reply.json.responseData as { merchantSession?: Record<string, unknown> };
      assert.equal(data.merchantSession?.domainName, 'shop.example');
    });
  });
});

describe('archived QR API (/api-ex/qrpayment/…)', () => {
  const sandbox = useSandbox();

  async function legacy(
    path: string,
    body: Record<string, unknown>,
    headers: Record<string, string | null> = {},
    salt = SALT,
  ) {
    const text = JSON.stringify(body);
    const sent: Record<string, string> = {
      'X-Caller': 'merchant-3235',
      'X-Api-Key': API_KEY,
      'X-Signature': signText(text, salt),
      'Content-Type': 'application/json',
    };
    for (const [name, value] of Object.entries(headers)) {
      if (value === null) delete sent[name];
      else sent[name] = value;
    }
    const res = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: sent, body: text });
    const raw = await res.text();
    return {
      status: res.status,
      signature: res.headers.get('x-signature'),
      raw,
      json: JSON.parse(raw) as {
        requestId: string | null;
        responseCode: string;
        responseData?: Record<string, unknown>;
      },
    };
  }

  it('K8 creates a QR with X-Caller, X-Api-Key and X-Signature, then reports it PENDING, then PAID', async () => {
    const requestId = newRequestId();
    const created = await legacy('/api-ex/qrpayment/create', {
      requestId,
      amount: 112000,
      description: 'Thanh toán hoá đơn',
      orderReference: 'TS1909',
    });
    assert.equal(created.status, 200, created.raw);
    assert.equal(created.json.requestId, requestId);
    assert.equal(created.signature, signText(created.raw, SALT));
    const { orderNo, qrCode } = created.json.responseData as { orderNo: string; qrCode: string };
    assert.match(qrCode, /^000201/);

    const pending = await legacy('/api-ex/qrpayment/query', { requestId: newRequestId(), orderNo });
    const pay = await fetch(`${sandbox.url}/__sandbox/legacy-qr/${orderNo}/pay`, {
      method: 'POST',
    });
    const paid = await legacy('/api-ex/qr/status', { requestId: newRequestId(), orderNo });

    assert.equal(pending.json.responseData?.status, 'PENDING');
    assert.equal(pay.status, 200);
    assert.deepEqual(
      [paid.status, paid.json.responseData?.status, paid.json.responseData?.amount],
      [200, 'PAID', 112000],
    );
  });

  it('K9 refuses a wrong X-Signature, a missing X-Caller and a wrong X-Api-Key (401)', async () => {
    const body = { requestId: newRequestId(), amount: 1000 };

    const forged = await legacy('/api-ex/qrpayment/create', body, {}, 'not-the-salt');
    const noCaller = await legacy('/api-ex/qrpayment/create', body, { 'X-Caller': null });
    const badKey = await legacy('/api-ex/qr/create', body, { 'X-Api-Key': 'other' });

    assert.deepEqual(
      [forged.status, noCaller.status, badKey.status],
      [401, 401, 401],
      `${forged.raw} ${noCaller.raw} ${badKey.raw}`,
    );
  });

  it('K10 answers a repeated requestId with 409 and an unknown orderNo with 404', async () => {
    const body = { requestId: newRequestId(), amount: 5000 };

    const first = await legacy('/api-ex/qrpayment/create', body);
    const repeat = await legacy('/api-ex/qrpayment/create', body);
    const unknown = await legacy('/api-ex/qrpayment/query', {
      requestId: newRequestId(),
      orderNo: '1',
    });

    assert.deepEqual([first.status, repeat.status, unknown.status], [200, 409, 404]);
  });

  it("K11 skips the X-Signature check with legacyQrSignature 'unchecked'", async () => {
    await withSandbox({ legacyQrSignature: 'unchecked' }, async lax => {
      const res = await fetch(`${lax.url}/api-ex/qrpayment/create`, {
        method: 'POST',
        headers: {
          'X-Caller': 'merchant-3235',
          'X-Api-Key': API_KEY,
          'X-Signature': 'c9656c694bba19c50df209d74686cc19d4f3569709e6e7d65452a8b5cd62d90a',
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ requestId: newRequestId(), amount: 112000 }),
      });

      assert.equal(res.status, 200);
    });
  });
});
