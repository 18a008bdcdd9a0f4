import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { admin, gatewayCalls, INTERNATIONAL_NO_OTP } from '../testing/admin-test-support.js';
import {
  completeInSandbox,
  eventually,
  sentRequestData,
  transactionIdOf,
  uniqueRef,
  useStack,
  widgetCall,
  type Stack,
} from '../testing/test-support.js';
import { mintCustomerHandle } from './customer-handle.js';

const HANDLE_SECRET = 'customer-handle-secret-0123456789abcdef';
const KEY = randomBytes(32);

/** Registers a new order (`prefix` and random hex) through the admin API; returns its reference. */
async function newOrder(stack: Stack, prefix: string, amount = 90_000): Promise<string> {
  const orderRef = uniqueRef(prefix);
  const res = await admin(stack, 'POST', '/admin/orders', {
    orderRef,
    amount,
    description: orderRef,
  });
  assert.equal(res.status, 201);
  return orderRef;
}

async function handleFor(stack: Stack, customerRef: string): Promise<string> {
  const res = await admin(stack, 'POST', '/admin/customer-handles', { customerRef });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return String(res.json.handle);
}

/** The `requestData` of every `transaction/pay` call the sandbox received. */
const sandboxPayBodies = (stack: Stack) => sentRequestData(stack, 'pay');

/** The gateway tokens the sandbox holds. */
async function sandboxTokens(stack: Stack): Promise<Array<{ token: string }>> {
  return (await (await fetch(`${stack.sandboxUrl}/__sandbox/tokens`)).json()) as Array<{
    token: string;
  }>;
}

/** An error answer as `[status, code]`. */
function refusal(reply: { status: number; json: Record<string, unknown> }): [number, unknown] {
  return [reply.status, (reply.json.error as { code?: unknown } | undefined)?.code];
}

describe('saved cards', () => {
  const stack = useStack({
    signer: { savedCards: { encryptionKeys: [KEY], customerHandleSecret: HANDLE_SECRET } },
  });
  let handle: string;
  let tokenId: string;

  before(async () => {
    handle = await handleFor(stack(), 'cust-1');
  });

  it('saves the card an IPN delivers after PAY_WITH_CREATE_TOKEN, encrypted, and lists only the masked card', async () => {
    const orderRef = await newOrder(stack(), 'SAVE');
    const created = await widgetCall(stack(), 'POST', '/sessions', {
      orderRef,
      paymentMethod: 'INTERNATIONAL',
      saveCard: true,
      customerHandle: handle,
    });
    assert.equal(created.status, 201, created.text);
    await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success', {
      card: INTERNATIONAL_NO_OTP,
    });

    const listed = await widgetCall(
      stack(),
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(handle)}`,
    );

    const tokens = await sandboxTokens(stack());
    const gatewayToken = tokens[0]!.token;
    assert.equal(listed.status, 200, listed.text);
    const cards = listed.json.cards as Array<Record<string, unknown>>;
    assert.equal(cards.length, 1);
    assert.match(String(cards[0]!.maskedNumber), /^\d{6}\*+\d{4}$/);
    assert.ok(!listed.text.includes(gatewayToken), 'the gateway token never leaves the signer');
    const stored = await stack().store.listCards('cust-1');
    assert.ok(!stored[0]!.tokenCiphertext.includes(gatewayToken));
    assert.equal((await sandboxPayBodies(stack())).at(-1)?.apiOperation, 'PAY_WITH_CREATE_TOKEN');
    tokenId = String(cards[0]!.tokenId);
  });

  it('pays with a saved card: the gateway gets sourceOfFund TOKEN and the decrypted token, and the session ends paid', async () => {
    const orderRef = await newOrder(stack(), 'TOKEN');

    const created = await widgetCall(stack(), 'POST', '/sessions', {
      orderRef,
      customerHandle: handle,
      tokenId,
    });

    assert.equal(created.status, 201, created.text);
    const sent = (await sandboxPayBodies(stack())).at(-1)!;
    const tokens = await sandboxTokens(stack());
    assert.deepEqual(
      [sent.sourceOfFund, sent.token, sent.paymentMethod],
      ['TOKEN', tokens[0]!.token, 'INTERNATIONAL'],
    );
    // A saved card without an OTP step is charged at once; the IPN settles the session.
    await eventually(async () =>
      (await stack().store.getSession(String(created.json.sessionId)))?.status === 'paid'
        ? true
        : undefined,
    );
  });

  it("refuses another customer's card with 404 saved_card_not_found and opens no session", async () => {
    const orderRef = await newOrder(stack(), 'OTHER');
    const intruder = await handleFor(stack(), 'cust-2');
    const paysBefore = await gatewayCalls(stack(), 'pay');

    const refused = await widgetCall(stack(), 'POST', '/sessions', {
      orderRef,
      customerHandle: intruder,
      tokenId,
    });

    assert.deepEqual(refusal(refused), [404, 'saved_card_not_found']);
    assert.deepEqual(await stack().store.listSessionsByOrder(orderRef), []);
    assert.equal(await gatewayCalls(stack(), 'pay'), paysBefore);
    const theirs = await widgetCall(
      stack(),
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(intruder)}`,
    );
    assert.deepEqual(theirs.json.cards, []);
  });

  it('refuses an expired, a forged and a missing customer handle', async () => {
    const orderRef = await newOrder(stack(), 'H');
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
      stack(),
      'GET',
      `/customer/tokens?handle=${encodeURIComponent(expired)}`,
    );
    const fake = await widgetCall(stack(), 'GET', '/customer/tokens', undefined, {
      'x-customer-handle': forged,
    });
    const none = await widgetCall(stack(), 'POST', '/sessions', { orderRef, saveCard: true });

    assert.deepEqual(refusal(late), [401, 'customer_handle_expired']);
    assert.deepEqual(refusal(fake), [401, 'invalid_customer_handle']);
    assert.deepEqual(refusal(none), [400, 'customer_handle_required']);
  });

  it('charges a saved international card merchant-initiated with FAST_PAY from the admin API only', async () => {
    const orderRef = await newOrder(stack(), 'FAST', 45_000);

    const charged = await admin(stack(), 'POST', '/admin/fast-pay', {
      orderRef,
      customerRef: 'cust-1',
      tokenId,
    });
    const wrongCustomer = await admin(stack(), 'POST', '/admin/fast-pay', {
      orderRef: uniqueRef('X'),
      customerRef: 'cust-2',
      tokenId,
    });
    const fromWidget = await widgetCall(stack(), 'POST', '/admin/fast-pay', {
      orderRef,
      customerRef: 'cust-1',
      tokenId,
    });

    assert.equal(charged.status, 201, JSON.stringify(charged.json));
    assert.equal(charged.json.payment.status, 'paid');
    assert.equal((await sandboxPayBodies(stack())).at(-1)?.apiOperation, 'FAST_PAY');
    assert.deepEqual(refusal(wrongCustomer), [404, 'saved_card_not_found']);
    assert.equal(fromWidget.status, 401);
  });

  it("refuses to delete another customer's card, then deletes the owner's at the gateway too", async () => {
    const intruder = await handleFor(stack(), 'cust-2');

    const refused = await widgetCall(stack(), 'POST', `/customer/tokens/${tokenId}/delete`, {
      customerHandle: intruder,
    });
    const stillThere = await stack().store.listCards('cust-1');
    const deleted = await widgetCall(stack(), 'POST', `/customer/tokens/${tokenId}/delete`, {
      customerHandle: handle,
    });

    assert.deepEqual(refusal(refused), [404, 'saved_card_not_found']);
    assert.equal(stillThere.length, 1);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(await stack().store.listCards('cust-1'), []);
    const tokens = await sandboxTokens(stack());
    assert.equal(tokens.length, 0);
  });
});

describe('QR and wallets', () => {
  const stack = useStack();

  it('opens a QRPAY session through payWithQR and serves its QR code as an SVG image until it is paid', async () => {
    const orderRef = await newOrder(stack(), 'QR', 35_000);

    const created = await widgetCall(stack(), 'POST', '/sessions', {
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
    assert.equal(await gatewayCalls(stack(), 'payWithQR'), 1);

    await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success');
    await eventually(async () => ((await fetch(qr.imageUrl)).status === 410 ? true : undefined));
  });

  it('sends a wallet through the hosted flow with its sourceType', async () => {
    const orderRef = await newOrder(stack(), 'WAL', 35_000);

    const created = await widgetCall(stack(), 'POST', '/sessions', {
      orderRef,
      paymentMethod: 'WALLET',
      sourceType: 'MOMO',
    });

    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.qr, undefined);
  });

  it('answers 404 qr_not_found for the QR of a session that has none', async () => {
    const orderRef = await newOrder(stack(), 'NOQR', 35_000);
    const created = await widgetCall(stack(), 'POST', '/sessions', { orderRef });

    const res = await widgetCall(
      stack(),
      'GET',
      `/sessions/${String(created.json.sessionId)}/qr.svg`,
    );

    assert.deepEqual(refusal(res), [404, 'qr_not_found']);
  });
});
