import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { admin, gatewayCalls } from '../testing/admin-test-support.js';
import {
  completeInSandbox,
  eventually,
  startStack,
  transactionIdOf,
  widgetCall,
  type Stack,
} from '../testing/test-support.js';
import { mintCustomerHandle } from './customer-handle.js';

const HANDLE_SECRET = 'customer-handle-secret-0123456789abcdef';
const KEY = randomBytes(32);
const INTERNATIONAL_NO_OTP = '4012000033330026';

function ref(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

async function register(stack: Stack, orderRef: string, amount = 90_000): Promise<void> {
  const res = await admin(stack, 'POST', '/admin/orders', {
    orderRef,
    amount,
    description: orderRef,
  });
  assert.equal(res.status, 201);
}

async function handleFor(stack: Stack, customerRef: string): Promise<string> {
  const res = await admin(stack, 'POST', '/admin/customer-handles', { customerRef });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return String(res.json.handle);
}

async function sandboxPayBodies(stack: Stack): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${stack.sandboxUrl}/__sandbox/requests?path=/api/v1/transaction/pay`);
  const requests = (await res.json()) as Array<{ body?: string; rawBody?: string }>;
  return requests.map(
    r =>
      (JSON.parse(String(r.rawBody ?? r.body)) as { requestData: Record<string, unknown> })
        .requestData,
  );
}

describe('saved cards', () => {
  let stack: Stack;
  let handle: string;
  let tokenId: string;

  before(async () => {
    stack = await startStack({
      signer: { savedCards: { encryptionKeys: [KEY], customerHandleSecret: HANDLE_SECRET } },
    });
    handle = await handleFor(stack, 'cust-1');
  });
  after(async () => {
    await stack.close();
  });

  it('saves the card an IPN delivers after PAY_WITH_CREATE_TOKEN, encrypted, and lists only the masked card', async () => {
    const orderRef = ref('SAVE');
    await register(stack, orderRef);
    const created = await widgetCall(stack, 'POST', '/sessions', {
      orderRef,
      paymentMethod: 'INTERNATIONAL',
      saveCard: true,
      customerHandle: handle,
    });
    assert.equal(created.status, 201, created.text);
    await completeInSandbox(stack, transactionIdOf(created.json.checkoutUrl), 'success', {
      card: INTERNATIONAL_NO_OTP,
    });

    const listed = await widgetCall(
      stack,
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(handle)}`,
    );

    const tokens = (await (await fetch(`${stack.sandboxUrl}/__sandbox/tokens`)).json()) as Array<{
      token: string;
    }>;
    const gatewayToken = tokens[0]!.token;
    assert.equal(listed.status, 200, listed.text);
    const cards = listed.json.cards as Array<Record<string, unknown>>;
    assert.equal(cards.length, 1);
    assert.match(String(cards[0]!.maskedNumber), /^\d{6}\*+\d{4}$/);
    assert.ok(!listed.text.includes(gatewayToken), 'the gateway token never leaves the signer');
    const stored = await stack.store.listCards('cust-1');
    assert.ok(!stored[0]!.tokenCiphertext.includes(gatewayToken));
    assert.equal((await sandboxPayBodies(stack)).at(-1)?.apiOperation, 'PAY_WITH_CREATE_TOKEN');
    tokenId = String(cards[0]!.tokenId);
  });

  it('pays with a saved card: the gateway gets sourceOfFund TOKEN and the decrypted token, and the session ends paid', async () => {
    const orderRef = ref('TOKEN');
    await register(stack, orderRef);

    const created = await widgetCall(stack, 'POST', '/sessions', {
      orderRef,
      customerHandle: handle,
      tokenId,
    });

    assert.equal(created.status, 201, created.text);
    const sent = (await sandboxPayBodies(stack)).at(-1)!;
    const tokens = (await (await fetch(`${stack.sandboxUrl}/__sandbox/tokens`)).json()) as Array<{
      token: string;
    }>;
    assert.deepEqual(
      [sent.sourceOfFund, sent.token, sent.paymentMethod],
      ['TOKEN', tokens[0]!.token, 'INTERNATIONAL'],
    );
    // A saved card without an OTP step is charged at once; the IPN settles the session.
    await eventually(async () =>
      (await stack.store.getSession(String(created.json.sessionId)))?.status === 'paid'
        ? true
        : undefined,
    );
  });

  it("refuses another customer's card with 404 saved_card_not_found and opens no session", async () => {
    const orderRef = ref('OTHER');
    await register(stack, orderRef);
    const intruder = await handleFor(stack, 'cust-2');
    const paysBefore = await gatewayCalls(stack, 'pay');

    const refused = await widgetCall(stack, 'POST', '/sessions', {
      orderRef,
      customerHandle: intruder,
      tokenId,
    });

    assert.deepEqual(
      [refused.status, refused.json.error && (refused.json.error as { code: string }).code],
      [404, 'saved_card_not_found'],
    );
    assert.deepEqual(await stack.store.listSessionsByOrder(orderRef), []);
    assert.equal(await gatewayCalls(stack, 'pay'), paysBefore);
    const theirs = await widgetCall(
      stack,
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(intruder)}`,
    );
    assert.deepEqual(theirs.json.cards, []);
  });

  it('refuses an expired, a forged and a missing customer handle', async () => {
    const orderRef = ref('H');
    await register(stack, orderRef);
    const expired = mintCustomerHandle(
      HANDLE_SECRET,
      'cust-1',
      60,
      new Date(Date.now() - 3600_000),
    ).handle;
    const forged = mintCustomerHandle(
      'another-secret-0123456789abcdef0123456',
      'cust-1',
      600,
    ).handle;

    const late = await widgetCall(
      stack,
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(expired)}`,
    );
    const fake = await widgetCall(stack, 'GET', '/customer/tokens', undefined, {
      'x-customer-handle': forged,
    });
    const none = await widgetCall(stack, 'POST', '/sessions', { orderRef, saveCard: true });

    assert.deepEqual(
      [late.status, (late.json.error as { code: string }).code],
      [401, 'customer_handle_expired'],
    );
    assert.deepEqual(
      [fake.status, (fake.json.error as { code: string }).code],
      [401, 'invalid_customer_handle'],
    );
    assert.deepEqual(
      [none.status, (none.json.error as { code: string }).code],
      [400, 'customer_handle_required'],
    );
  });

  it('charges a saved international card merchant-initiated with FAST_PAY from the admin API only', async () => {
    const orderRef = ref('FAST');
    await register(stack, orderRef, 45_000);

    const charged = await admin(stack, 'POST', '/admin/fast-pay', {
      orderRef,
      customerRef: 'cust-1',
      tokenId,
    });
    const wrongCustomer = await admin(stack, 'POST', '/admin/fast-pay', {
      orderRef: ref('X'),
      customerRef: 'cust-2',
      tokenId,
    });
    const fromWidget = await widgetCall(stack, 'POST', '/admin/fast-pay', {
      orderRef,
      customerRef: 'cust-1',
      tokenId,
    });

    assert.equal(charged.status, 201, JSON.stringify(charged.json));
    assert.equal(charged.json.payment.status, 'paid');
    assert.equal((await sandboxPayBodies(stack)).at(-1)?.apiOperation, 'FAST_PAY');
    assert.deepEqual(
      [wrongCustomer.status, wrongCustomer.json.error.code],
      [404, 'saved_card_not_found'],
    );
    assert.equal(fromWidget.status, 401);
  });

  it("refuses to delete another customer's card, then deletes the owner's at the gateway too", async () => {
    const intruder = await handleFor(stack, 'cust-2');

    const refused = await widgetCall(stack, 'POST', `/customer/tokens/${tokenId}/delete`, {
      customerHandle: intruder,
    });
    const stillThere = await stack.store.listCards('cust-1');
    const deleted = await widgetCall(stack, 'POST', `/customer/tokens/${tokenId}/delete`, {
      customerHandle: handle,
    });

    assert.deepEqual(
      [refused.status, (refused.json.error as { code: string }).code],
      [404, 'saved_card_not_found'],
    );
    assert.equal(stillThere.length, 1);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(await stack.store.listCards('cust-1'), []);
    const tokens = (await (
      await fetch(`${stack.sandboxUrl}/__sandbox/tokens`)
    ).json()) as unknown[];
    assert.equal(tokens.length, 0);
  });
});

describe('QR and wallets', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  it('opens a QRPAY session through payWithQR and serves its QR code as an SVG image until it is paid', async () => {
    const orderRef = ref('QR');
    await register(stack, orderRef, 35_000);

    const created = await widgetCall(stack, 'POST', '/sessions', {
      orderRef,
      paymentMethod: 'QRPAY',
    });

    assert.equal(created.status, 201, created.text);
    const qr = created.json.qr as { imageUrl: string; data: string; expiresAt: string };
    assert.equal(qr.expiresAt, created.json.expiresAt);
    assert.match(qr.data, /^000201/);
    const image = await fetch(qr.imageUrl);
    assert.equal(image.status, 200);
    assert.match(String(image.headers.get('content-type')), /^image\/svg\+xml/);
    assert.equal(image.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.match(await image.text(), /^<svg/);
    assert.equal(await gatewayCalls(stack, 'payWithQR'), 1);

    await completeInSandbox(stack, transactionIdOf(created.json.checkoutUrl), 'success');
    await eventually(async () => ((await fetch(qr.imageUrl)).status === 410 ? true : undefined));
  });

  it('sends a wallet through the hosted flow with its sourceType', async () => {
    const orderRef = ref('WAL');
    await register(stack, orderRef, 35_000);

    const created = await widgetCall(stack, 'POST', '/sessions', {
      orderRef,
      paymentMethod: 'WALLET',
      sourceType: 'MOMO',
    });

    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.qr, undefined);
  });

  it('answers 404 qr_not_found for the QR of a session that has none', async () => {
    const orderRef = ref('NOQR');
    await register(stack, orderRef, 35_000);
    const created = await widgetCall(stack, 'POST', '/sessions', { orderRef });

    const res = await widgetCall(
      stack,
      'GET',
      `/sessions/${String(created.json.sessionId)}/qr.svg`,
    );

    assert.deepEqual(
      [res.status, (res.json.error as { code: string }).code],
      [404, 'qr_not_found'],
    );
  });
});
