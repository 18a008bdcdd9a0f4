import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeCallback,
  signText,
  type PaymentLinkCallback,
  type PaymentLinkTransactionCallbackData,
} from '@galaxy-pay/protocol';
import { admin } from '../testing/admin-test-support.js';
import { SALT, ipnAttempts, useStack, type Stack } from '../testing/test-support.js';

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

/**
 * The `data` of Galaxy Pay's own payment-link IPN example (seed `001_…`, docs `/upc/payment-link/ipn-callback`),
 * byte for byte. It decodes to `requestID`, `transactionID`, `orderID` (the link's orderNo
 * 3258202307111689061358249), `orderNumber`, `orderAmount` "11300": not the table's `requestId`/`orderNo`.
 */
const SEED_LINK_IPN_DATA =
  'eyJyZXF1ZXN0SUQiOiJjYWRlYjBmZC1iNTZhLTQyYWMtYWFmZC1iNjhjZjdiYTgzNDQiLCJyZXNwb25zZURhdGVUaW1lIjoiMjAyMzA3MTExNDQ0MDgiLCJyZXNwb25zZUNvZGUiOiIyMDAiLCJyZXNwb25zZU1lc3NhZ2UiOiJHaWFvIGThu4tjaCB0aGFuaCB0b8OhbiB0aMOgbmggY8O0bmcuIiwicmVzcG9uc2VEYXRhIjp7InRyYW5zYWN0aW9uSUQiOiIyMzA3MTE1MDg4ODIxNzQ3MzI2NjMyNDc5Iiwib3JkZXJJRCI6IjMyNTgyMDIzMDcxMTE2ODkwNjEzNTgyNDkiLCJvcmRlck51bWJlciI6ImQwMWYyNTZjZjA4MzQ5M2VhZThkNzIxMWYzM2ZkMjU4Iiwib3JkZXJBbW91bnQiOiIxMTMwMCIsIm9yZGVyRGVzY3JpcHRpb24iOiJtdWEgaGFuZyBvbmxpbmUiLCJvcmRlckN1cnJlbmN5IjoiVk5EIiwib3JkZXJEYXRlVGltZSI6IjIwMjMwNzExMTQ0MzE2IiwiZXh0cmFEYXRhIjp7ImZ1bGxOYW1lIjoiYmluaCB0ZXN0IGxhaSIsInBob25lIjoiMDc3NDc1NDMyMyIsImVtYWlsIjoiYmluaGhudEBnYWxheHlwYXkuY29tIiwic2hpcHBpbmdBZGRyZXNzIjoia2hhIHZhbiBjYW4iLCJwYXltZW50TGluayI6Imh0dHBzOi8vdWF0LXMuZ2FsYXh5cGF5LnZuL2REdXd0RzI4bnJiQ1VXVHo5In0sImxhbmd1YWdlIjoidmkifX0=';

/** A link IPN in the shape of Galaxy Pay's example: transaction fields, `orderID` = the link's orderNo. */
function exampleLinkIpn(orderNo: string, amount: string) {
  const responseData: PaymentLinkTransactionCallbackData = {
    transactionID: '2307115088821747326632479',
    orderID: orderNo,
    orderNumber: 'd01f256cf083493eae8d7211f33fd258',
    orderAmount: amount,
    orderDescription: 'mua hang online',
    orderCurrency: 'VND',
    orderDateTime: '20230711144316',
    extraData: { fullName: 'binh test lai', phone: '0774754323', paymentLink: 'https://x/y' },
    language: 'vi',
  };
  return {
    requestID: 'cadeb0fd-b56a-42ac-aafd-b68cf7ba8344',
    responseDateTime: '20230711144408',
    responseCode: '200',
    responseMessage: 'Giao dịch thanh toán thành công.',
    responseData,
  };
}

/** Creates a link through the admin API: a T-shirt for 150,000, open for an hour, unless `body` says otherwise. */
async function createLink(stack: Stack, body: Record<string, unknown> = {}) {
  const res = await admin(stack, 'POST', '/admin/links', {
    name: 'Áo thun',
    description: 'Áo thun size M',
    amount: 150_000,
    expiryDuration: 1,
    expiryUnit: 'HOUR',
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.link as { orderNo: string; shortLink: string; status: string };
}

/** The payer fills in the sandbox's link page and pays; resolves once the IPN was delivered. */
function payLinkInSandbox(stack: Stack, orderNo: string, fields: Record<string, string> = {}) {
  return fetch(`${stack.sandboxUrl}/__sandbox/links/${orderNo}/pay?wait=ipn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
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
  const stack = useStack({ sandbox: { now }, signer: { now } });
  const create = (body: Record<string, unknown> = {}) =>
    createLink(stack(), { fields: ['fullname', 'phone'], ...body });

  it('creates a link at the gateway with the amount, expiry, methods and fields, and lists it', async () => {
    const link = await create();

    const listed = await admin(stack(), 'GET', '/admin/links');

    assert.match(link.shortLink, /\/link\//);
    assert.equal(link.status, 'open');
    const shown = listed.json.links.find((l: { orderNo: string }) => l.orderNo === link.orderNo);
    assert.deepEqual(
      [shown.amount, shown.fields, shown.operator],
      [150_000, ['fullname', 'phone'], 'alice'],
    );
  });

  it('L2 verifies and stores the link IPN the sandbox sends by default (the example shape): paid once with what the payer typed, 409 to a repeat', async () => {
    const link = await create();

    const paid = await payLinkInSandbox(stack(), link.orderNo, {
      fullname: 'Trần Thị B',
      phone: '0900000000',
    });
    assert.equal(paid.status, 200);
    const [delivered] = await ipnAttempts(stack(), { orderNo: link.orderNo });
    const decoded = delivered!.decoded as {
      requestID?: string;
      responseData: { orderID?: string };
    };
    const repeat = await postIpn(stack(), delivered!.envelope);

    assert.equal(typeof decoded.requestID, 'string');
    assert.equal(decoded.responseData.orderID, link.orderNo);
    const shown = await admin(stack(), 'GET', `/admin/links/${link.orderNo}`);
    assert.equal(shown.json.link.status, 'paid');
    assert.deepEqual(shown.json.link.payer, { fullName: 'Trần Thị B', phone: '0900000000' });
    assert.equal(repeat.json.ipnStatus, '409');
  });

  it('puts a link IPN whose amount disagrees in needs_review, never paid', async () => {
    const link = await create();

    const reply = await postIpn(stack(), encodeCallback(linkIpn(link.orderNo, '1'), SALT));

    assert.equal(reply.json.ipnStatus, '200');
    assert.equal(
      (await admin(stack(), 'GET', `/admin/links/${link.orderNo}`)).json.link.status,
      'needs_review',
    );
  });

  it('answers ipnStatus 404 to a verified link IPN for an unknown link, and 401 to a forged one', async () => {
    const unknown = await postIpn(stack(), encodeCallback(linkIpn('NO-SUCH-LINK', '1000'), SALT));
    const forged = await postIpn(
      stack(),
      encodeCallback(linkIpn('NO-SUCH-LINK', '1000'), 'not-the-salt'),
    );

    assert.deepEqual([unknown.status, unknown.json.ipnStatus], [200, '404']);
    assert.equal(forged.status, 401);
  });

  it('shows an expired link as expired; the gateway refuses to take its payment and nothing changes', async () => {
    const link = await create({ expiryDuration: 1, expiryUnit: 'MINUTE' });
    clock += 2 * 60_000;

    const payment = await payLinkInSandbox(stack(), link.orderNo);

    assert.equal(payment.status, 409);
    const shown = await admin(stack(), 'GET', `/admin/links/${link.orderNo}`);
    assert.deepEqual([shown.json.link.status, shown.json.link.paidAt], ['expired', null]);
  });

  it('refuses a link with an unknown payment method (400) without calling the gateway', async () => {
    const res = await admin(stack(), 'POST', '/admin/links', {
      name: 'x',
      description: 'x',
      amount: 1000,
      expiryDuration: 1,
      methods: ['BITCOIN'],
    });

    assert.deepEqual([res.status, res.json.error.code], [400, 'invalid_field']);
  });
});

describe('payment-link IPNs in both documented shapes (issue 12 §1)', () => {
  const stack = useStack({ sandbox: { now }, signer: { now } });
  const create = (amount: number) => createLink(stack(), { amount });

  const linkOf = async (orderNo: string) =>
    (await admin(stack(), 'GET', `/admin/links/${orderNo}`)).json.link;

  it("L1 pays the link named by the seed's own payment-link IPN example, re-signed with the test salt", async () => {
    await stack().store.createLink({
      orderNo: '3258202307111689061358249',
      linkRef: 'd01f256cf083493eae8d7211f33fd258',
      name: 'mua hang online',
      description: 'mua hang online',
      amount: 11_300,
      currency: 'VND',
      methods: ['GALAXYPAY'],
      fields: ['fullname', 'phone', 'email', 'shippingAddress'],
      shortLink: 'https://uat-s.galaxypay.vn/dDuwtG28nrbCUWTz9',
      operator: 'alice',
      createdAt: new Date(clock),
      expiresAt: new Date(clock + 3_600_000),
    });

    const reply = await postIpn(stack(), {
      data: SEED_LINK_IPN_DATA,
      signature: signText(SEED_LINK_IPN_DATA, SALT),
    });
    const repeat = await postIpn(stack(), {
      data: SEED_LINK_IPN_DATA,
      signature: signText(SEED_LINK_IPN_DATA, SALT),
    });

    assert.deepEqual([reply.status, reply.json.ipnStatus], [200, '200'], JSON.stringify(reply));
    assert.equal(repeat.json.ipnStatus, '409');
    const link = await linkOf('3258202307111689061358249');
    assert.deepEqual([link.status, link.paidAmount], ['paid', 11_300]);
    assert.deepEqual(link.payer, {
      fullName: 'binh test lai',
      phone: '0774754323',
      email: 'binhhnt@galaxypay.com',
      shippingAddress: 'kha van can',
    });
  });

  it("L1 pays an admin-created link from an IPN in the example's shape (requestID, orderID = orderNo)", async () => {
    const link = await create(11_300);

    const reply = await postIpn(
      stack(),
      encodeCallback(exampleLinkIpn(link.orderNo, '11300'), SALT),
    );

    assert.equal(reply.json.ipnStatus, '200', JSON.stringify(reply.json));
    assert.equal((await linkOf(link.orderNo)).status, 'paid');
  });

  it("L1 pays an admin-created link from an IPN in the table's shape (requestId, orderNo)", async () => {
    const link = await create(25_000);

    const reply = await postIpn(stack(), encodeCallback(linkIpn(link.orderNo, '25000'), SALT));

    assert.equal(reply.json.ipnStatus, '200');
    assert.equal((await linkOf(link.orderNo)).status, 'paid');
  });

  it('L1 puts an example-shaped link IPN with another amount or currency in needs_review', async () => {
    const short = await create(40_000);
    const dollars = await create(40_000);
    const usd = exampleLinkIpn(dollars.orderNo, '40000');
    usd.responseData.orderCurrency = 'USD';

    await postIpn(stack(), encodeCallback(exampleLinkIpn(short.orderNo, '4000'), SALT));
    await postIpn(stack(), encodeCallback(usd, SALT));

    assert.equal((await linkOf(short.orderNo)).status, 'needs_review');
    assert.equal((await linkOf(dollars.orderNo)).status, 'needs_review');
  });

  it('L1 still answers 404 to an example-shaped IPN naming neither a session nor a link', async () => {
    const reply = await postIpn(stack(), encodeCallback(exampleLinkIpn('NO-SUCH-LINK', '1'), SALT));

    assert.deepEqual([reply.status, reply.json.ipnStatus], [200, '404']);
  });
});

describe("payment-link IPNs end to end with the sandbox's table shape", () => {
  const stack = useStack({ sandbox: { linkIpnShape: 'table' } });

  it("L3 pays a link created through the admin API when the sandbox sends the table's shape", async () => {
    const { orderNo } = await createLink(stack(), {
      name: 'Bình',
      description: 'Bình gốm',
      amount: 90_000,
      expiryUnit: undefined,
    });

    const paid = await payLinkInSandbox(stack(), orderNo, { fullname: 'Lê Văn C' });

    assert.equal(paid.status, 200);
    const [delivered] = await ipnAttempts(stack(), { orderNo });
    assert.equal(typeof (delivered!.decoded as { requestId?: string }).requestId, 'string');
    assert.equal(delivered!.answer?.ipnStatus, '200');
    const link = (await admin(stack(), 'GET', `/admin/links/${orderNo}`)).json.link;
    assert.deepEqual([link.status, link.payer], ['paid', { fullName: 'Lê Văn C' }]);
  });
});
