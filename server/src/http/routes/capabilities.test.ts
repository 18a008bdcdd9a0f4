/**
 * Issue 12 §4 through the signer, against the real sandbox on loopback (docs/gateway-fidelity.md, rows K*):
 * Query Tokens (admin route and CLI), Apple Pay merchant validation as a pass-through, and BNPL and HUB as
 * payment methods of a widget session.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Endpoint } from '@galaxy-pay/protocol';
import { ADMIN, admin } from '../../testing/admin-test-support.js';
import { run } from '../../cli.js';
import { createTestGatewayClient } from '../../testing/gateway-test-client.js';
import { API_KEY, SALT, startStack, widgetCall, type Stack } from '../../testing/test-support.js';

const CUSTOMER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjdXN0LTEifQ.c2lnbmF0dXJl';
const VALIDATION_URL = 'https://apple-pay-gateway-cert.apple.com/paymentservices/startSession';

/** Sandbox requests received on one path. */
async function received(stack: Stack, path: string) {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/requests?path=${path}`);
  return (await res.json()) as Array<{ rawBody: string; verdict: { httpStatus: number } }>;
}

describe('Query Tokens (GET /admin/customers/:customerRef/gateway-tokens)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    // A card saved at the gateway for this customer (Galaxy Pay's identity provider's customerToken).
    const gateway = createTestGatewayClient({
      baseUrl: stack.sandboxUrl,
      apiKey: API_KEY,
      salt: SALT,
      pageOrigins: [stack.sandboxUrl],
    });
    await gateway.createToken({
      paymentMethod: 'INTERNATIONAL',
      cardNumber: '5506920809243667',
      cardHolderName: 'NGUYEN VAN A',
      cardExpireDate: '01/39',
      cardVerificationValue: '100',
      customerToken: CUSTOMER_TOKEN,
    });
  });
  after(() => stack.close());

  it("K2 lists the customer's cards at the gateway, masked, never a token value", async () => {
    const res = await admin(stack, 'GET', '/admin/customers/cust-1/gateway-tokens', undefined, {
      'x-customer-token': CUSTOMER_TOKEN,
    });

    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.customerRef, 'cust-1');
    assert.equal(typeof res.json.customerID, 'string');
    assert.deepEqual(res.json.tokens, [
      {
        tokenID: res.json.tokens[0].tokenID,
        brand: res.json.tokens[0].brand,
        source: res.json.tokens[0].source,
        maskedNumber: '550692******3667',
        holderName: 'NGUYEN VAN A',
      },
    ]);
    const [call] = await received(stack, '/api/v1/tokenization/queryTokens');
    assert.deepEqual(JSON.parse(call!.rawBody).requestData, { customerToken: CUSTOMER_TOKEN });
  });

  it('K2 needs the customerToken header (400) and the admin bearer (401), without calling the gateway', async () => {
    const before = (await received(stack, '/api/v1/tokenization/queryTokens')).length;

    const missing = await admin(stack, 'GET', '/admin/customers/cust-1/gateway-tokens');
    const anonymous = await fetch(`${stack.signerUrl}/admin/customers/cust-1/gateway-tokens`, {
      headers: { 'x-customer-token': CUSTOMER_TOKEN },
    });

    assert.deepEqual([missing.status, missing.json.error.code], [400, 'customer_token_required']);
    assert.equal(anonymous.status, 401);
    assert.equal((await received(stack, '/api/v1/tokenization/queryTokens')).length, before);
  });

  it('K3 `galaxy-pay gateway-tokens <customerRef>` prints them from GALAXY_PAY_CUSTOMER_TOKEN', async () => {
    const out: string[] = [];
    const err: string[] = [];

    const code = await run(['gateway-tokens', 'cust-1'], {
      out: text => out.push(text),
      err: text => err.push(text),
      env: {
        SIGNER_URL: stack.signerUrl,
        ADMIN_TOKEN: ADMIN,
        GALAXY_PAY_CUSTOMER_TOKEN: CUSTOMER_TOKEN,
      },
      fetch,
    });
    const usage = await run(['gateway-tokens', 'cust-1'], {
      out: () => undefined,
      err: () => undefined,
      env: { SIGNER_URL: stack.signerUrl, ADMIN_TOKEN: ADMIN },
      fetch,
    });

    assert.equal(code, 0, err.join('\n'));
    assert.match(out.join('\n'), /550692\*{6}3667\s+NGUYEN VAN A/);
    assert.equal(usage, 2);
  });
});

describe('Apple Pay merchant validation (POST /apple-pay/validate-merchant)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ signer: { applePayValidationPath: Endpoint.ApplePayValidation } });
  });
  after(() => stack.close());

  it("K4 forwards Apple's validationURL and the page's domain, signed, and returns the merchant session", async () => {
    const res = await widgetCall(stack, 'POST', '/apple-pay/validate-merchant', {
      validationURL: VALIDATION_URL,
      displayName: 'Shop',
    });

    assert.equal(res.status, 200, res.text);
    const session = res.json.merchantSession as Record<string, unknown>;
    assert.equal(session.domainName, 'shop.test');
    assert.match(String(session.merchantSessionIdentifier), /^SSH/);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://shop.test');
    const [call] = await received(stack, '/api/v1/applepay/validateMerchant');
    assert.equal(call!.verdict.httpStatus, 200);
    assert.deepEqual(JSON.parse(call!.rawBody).requestData, {
      validationURL: VALIDATION_URL,
      domainName: 'shop.test',
      displayName: 'Shop',
    });
  });

  it("K4 refuses a validationURL that is not Apple's (400) without calling the gateway", async () => {
    const before = (await received(stack, '/api/v1/applepay/validateMerchant')).length;

    const res = await widgetCall(stack, 'POST', '/apple-pay/validate-merchant', {
      validationURL: 'https://169.254.169.254/latest/meta-data',
    });

    assert.deepEqual(
      [res.status, (res.json.error as { code: string }).code],
      [400, 'invalid_validation_url'],
    );
    assert.equal((await received(stack, '/api/v1/applepay/validateMerchant')).length, before);
  });

  it('K6 accepts the session wrapped under merchantSession too', async () => {
    const wrapped = await startStack({
      sandbox: { applePaySession: 'wrapped' },
      signer: { applePayValidationPath: Endpoint.ApplePayValidation },
    });
    try {
      const res = await widgetCall(wrapped, 'POST', '/apple-pay/validate-merchant', {
        validationURL: VALIDATION_URL,
      });

      assert.equal(res.status, 200, res.text);
      assert.equal((res.json.merchantSession as { domainName: string }).domainName, 'shop.test');
    } finally {
      await wrapped.close();
    }
  });

  it('K4 is off (404 apple_pay_disabled) unless a validation path is configured', async () => {
    const plain = await startStack();
    try {
      const res = await widgetCall(plain, 'POST', '/apple-pay/validate-merchant', {
        validationURL: VALIDATION_URL,
      });

      assert.deepEqual(
        [res.status, (res.json.error as { code: string }).code],
        [404, 'apple_pay_disabled'],
      );
    } finally {
      await plain.close();
    }
  });
});

describe('BNPL and HUB through the signer (POST /sessions)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  for (const [method, source] of [
    ['BNPL', 'KREDIVO'],
    ['HUB', '2C2P'],
  ] as const) {
    it(`K7 opens a ${method}/${source} session at the gateway, and the verified IPN pays it`, async () => {
      const created = await widgetCall(stack, 'POST', '/sessions', {
        orderRef: method === 'BNPL' ? 'ORDER-1' : 'ORDER-2',
        paymentMethod: method,
        sourceType: source,
      });
      assert.equal(created.status, 201, created.text);
      const transactionId = new URL(String(created.json.checkoutUrl)).pathname.split('/').pop()!;
      const [call] = (await received(stack, '/api/v1/transaction/checkout')).filter(c =>
        c.rawBody.includes(`"paymentMethod":"${method}"`),
      );
      assert.ok(call, 'the checkout request carries the method');
      assert.equal(JSON.parse(call.rawBody).requestData.sourceType, source);

      const done = await fetch(
        `${stack.sandboxUrl}/__sandbox/transactions/${transactionId}/complete?wait=ipn`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ outcome: 'success' }),
        },
      );
      assert.equal(done.status, 200);
      const session = await widgetCall(stack, 'GET', `/sessions/${String(created.json.sessionId)}`);

      assert.equal(session.json.status, 'paid', session.text);
    });
  }

  it('K7 refuses BNPL or HUB without a sourceType (400 source_type_required), and an unknown one', async () => {
    const bare = await widgetCall(stack, 'POST', '/sessions', {
      orderRef: 'ORDER-1',
      paymentMethod: 'BNPL',
    });
    const wrong = await widgetCall(stack, 'POST', '/sessions', {
      orderRef: 'ORDER-1',
      paymentMethod: 'HUB',
      sourceType: 'KREDIVO',
    });

    assert.deepEqual(
      [bare.status, (bare.json.error as { code: string }).code],
      [400, 'source_type_required'],
    );
    assert.match((bare.json.error as { message: string }).message, /KREDIVO/);
    assert.equal(wrong.status, 400);
  });
});
