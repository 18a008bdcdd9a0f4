import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeCallback, type PaymentLinkCallback } from '@galaxy-pay/protocol';
import { admin } from './admin-test-support.js';
import { SALT, startStack, type Stack } from './test-support.js';

/** One clock for the sandbox and the signer, so a link can expire without waiting. */
let clock = Date.now();
const now = () => new Date(clock);

async function postIpn(stack: Stack, body: unknown) {
  const res = await fetch(`${stack.signerUrl}/ipn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function linkIpn(orderNo: string, amount: string): PaymentLinkCallback {
  return {
    requestId: 'r1',
    responseDateTime: '20300101000000',
    responseCode: '200',
    responseMessage: 'Success',
    responseData: { orderNo, orderAmount: amount, extraData: { fullName: 'Nguyễn Văn A' } },
  };
}

describe('payment links', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ sandbox: { now }, signer: { now } });
  });
  after(async () => {
    await stack.close();
  });

  async function create(body: Record<string, unknown> = {}) {
    const res = await admin(stack, 'POST', '/admin/links', {
      name: 'Áo thun',
      description: 'Áo thun size M',
      amount: 150_000,
      expiryDuration: 1,
      expiryUnit: 'HOUR',
      fields: ['fullname', 'phone'],
      ...body,
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json.link as { orderNo: string; shortLink: string; status: string };
  }

  it('creates a link at the gateway with the amount, expiry, methods and fields, and lists it', async () => {
    const link = await create();

    const listed = await admin(stack, 'GET', '/admin/links');

    assert.match(link.shortLink, /\/link\//);
    assert.equal(link.status, 'open');
    const shown = listed.json.links.find((l: { orderNo: string }) => l.orderNo === link.orderNo);
    assert.deepEqual(
      [shown.amount, shown.fields, shown.operator],
      [150_000, ['fullname', 'phone'], 'alice'],
    );
  });

  it('verifies and stores the link IPN: paid once with what the payer typed, 409 to a repeat', async () => {
    const link = await create();

    const paid = await fetch(`${stack.sandboxUrl}/__sandbox/links/${link.orderNo}/pay?wait=ipn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fullname: 'Trần Thị B', phone: '0900000000' }),
    });
    assert.equal(paid.status, 200);
    const attempts = (await (
      await fetch(`${stack.sandboxUrl}/__sandbox/ipn?orderNo=${link.orderNo}`)
    ).json()) as Array<{ envelope: { data: string; signature: string } }>;
    const repeat = await postIpn(stack, attempts[0]!.envelope);

    const shown = await admin(stack, 'GET', `/admin/links/${link.orderNo}`);
    assert.equal(shown.json.link.status, 'paid');
    assert.deepEqual(shown.json.link.payer, { fullName: 'Trần Thị B', phone: '0900000000' });
    assert.equal(repeat.json.ipnStatus, '409');
  });

  it('puts a link IPN whose amount disagrees in needs_review, never paid', async () => {
    const link = await create();

    const reply = await postIpn(stack, encodeCallback(linkIpn(link.orderNo, '1'), SALT));

    assert.equal(reply.json.ipnStatus, '200');
    assert.equal(
      (await admin(stack, 'GET', `/admin/links/${link.orderNo}`)).json.link.status,
      'needs_review',
    );
  });

  it('answers ipnStatus 404 to a verified link IPN for an unknown link, and 401 to a forged one', async () => {
    const unknown = await postIpn(stack, encodeCallback(linkIpn('NO-SUCH-LINK', '1000'), SALT));
    const forged = await postIpn(
      stack,
      encodeCallback(linkIpn('NO-SUCH-LINK', '1000'), 'not-the-salt'),
    );

    assert.deepEqual([unknown.status, unknown.json.ipnStatus], [200, '404']);
    assert.equal(forged.status, 401);
  });

  it('shows an expired link as expired; the gateway refuses to take its payment and nothing changes', async () => {
    const link = await create({ expiryDuration: 1, expiryUnit: 'MINUTE' });
    clock += 2 * 60_000;

    const payment = await fetch(
      `${stack.sandboxUrl}/__sandbox/links/${link.orderNo}/pay?wait=ipn`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      },
    );

    assert.equal(payment.status, 409);
    const shown = await admin(stack, 'GET', `/admin/links/${link.orderNo}`);
    assert.deepEqual([shown.json.link.status, shown.json.link.paidAt], ['expired', null]);
  });

  it('refuses a link with an unknown payment method (400) without calling the gateway', async () => {
    const res = await admin(stack, 'POST', '/admin/links', {
      name: 'x',
      description: 'x',
      amount: 1000,
      expiryDuration: 1,
      methods: ['BITCOIN'],
    });

    assert.deepEqual([res.status, res.json.error.code], [400, 'invalid_field']);
  });
});
