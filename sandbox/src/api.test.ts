import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Endpoint,
  formatGatewayDateTime,
  newRequestId,
  signText,
  verifyCallback,
  verifyResponseSignature,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import type { RequestRecord } from './ledger.js';
import {
  API_KEY,
  CARD_3DS,
  CARD_NO_3DS as VISA_CARD,
  SALT,
  callApi,
  checkoutData,
  completePayment,
  eventually,
  inspect,
  paymentLinkData,
  payData,
  readReply,
  useMerchant,
  useSandbox,
  type ApiResult,
  type CallOptions,
  type Hit,
} from './test-support.js';

const VISA_NO_OTP = VISA_CARD.cardNumber;
const MASTER_CARD = { ...CARD_3DS, cardHolderName: 'TRAN THI B' };

/** A transaction as `GET /__sandbox/transactions/:id` shows it (dates as ISO strings). */
interface TransactionView {
  transactionID: string;
  orderID: string;
  state: string;
  amount: number;
  capturedAmount: number;
  refunds: Array<{ orderID: string; amount: number }>;
  data: Record<string, unknown>;
}

interface CompleteReply {
  transaction: TransactionView;
  callback: { kind: string; method: string; url: string; location: string } | null;
}

interface SavedTokenView {
  token: string;
  accountNumber: string;
  customerToken?: string;
}

/** What a test sent (the exact body text and requestID) and what came back. */
interface Sent extends ApiResult {
  body: string;
  requestID: string;
}

const gateway = useSandbox();
const merchant = useMerchant();

/** A signed call through `callApi`, remembering the exact body text it sent. */
async function send(
  path: string,
  requestData: Record<string, unknown>,
  options: CallOptions & { baseUrl?: string } = {},
): Promise<Sent> {
  const { baseUrl = gateway.url, ...callOptions } = options;
  const requestID = callOptions.requestID ?? newRequestId();
  const requestDateTime = callOptions.requestDateTime ?? formatGatewayDateTime(new Date());
  const signedBody = JSON.stringify({ requestID, requestDateTime, requestData });
  const result = await callApi(baseUrl, path, requestData, {
    ...callOptions,
    requestID,
    requestDateTime,
  });
  const body = callOptions.tamper ? callOptions.tamper(signedBody) : signedBody;
  return { ...result, body, requestID };
}

/** POSTs an exact body text with exactly these headers (plus the JSON content type). */
async function postRaw(
  path: string,
  body: string,
  headers: Record<string, string>,
  baseUrl = gateway.url,
): Promise<ApiResult> {
  const res = await fetch(`${baseUrl}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
  });
  return readReply(res);
}

/** POSTs a hand-built body text, correctly signed with the merchant's key and salt. */
function postSigned(path: string, body: string, baseUrl = gateway.url): Promise<ApiResult> {
  return postRaw(path, body, { apikey: API_KEY, signature: signText(body, SALT) }, baseUrl);
}

function assertSigned(result: ApiResult): void {
  assert.ok(
    verifyResponseSignature(result.text, result.signature, SALT),
    `the reply's signature header ${String(result.signature)} does not match its body`,
  );
}

/** A 200 reply with the documented envelope; returns `responseData`. */
function assertOk(result: Sent): Record<string, unknown> {
  assert.equal(result.status, 200, result.text);
  assert.equal(result.json.responseCode, '200');
  assert.equal(result.json.responseMessage, 'Success');
  assert.equal(result.json.requestID, result.requestID);
  assert.match(String(result.json.responseDateTime), /^\d{14}$/);
  assertSigned(result);
  return result.json.responseData ?? {};
}

/** A refusal: HTTP status, the same responseCode, the message naming the field, still signed. */
function assertRefused(result: ApiResult, status: number, field?: string): void {
  assert.equal(result.status, status, result.text);
  assert.equal(result.json.responseCode, String(status));
  if (field !== undefined) {
    assert.ok(
      String(result.json.responseMessage).includes(field),
      `"${String(result.json.responseMessage)}" should name ${field}`,
    );
  }
  assertSigned(result);
}

/** The inspection API shows the request, with exactly this raw body, and the verdict. */
async function assertRecorded(
  path: string,
  body: string,
  status: number,
  field?: string,
  baseUrl = gateway.url,
): Promise<RequestRecord> {
  const records = await inspect<RequestRecord[]>(baseUrl, 'requests');
  const matching = records.filter(r => r.rawBody === body);
  assert.equal(matching.length, 1, 'exactly one recorded request has this raw body');
  const record = matching[0]!;
  assert.equal(record.path, `/${path}`);
  assert.equal(record.method, 'POST');
  assert.equal(record.verdict.httpStatus, status);
  assert.equal(record.verdict.responseCode, String(status));
  if (field !== undefined) assert.equal(record.verdict.field, field);
  return record;
}

/** `assertRefused` and `assertRecorded` of a call `send` made: the verdict names `field`, the message `named`. */
async function assertRefusal(
  path: string,
  result: Sent,
  status: number,
  field?: string,
  named = field,
): Promise<RequestRecord> {
  assertRefused(result, status, named);
  return assertRecorded(path, result.body, status, field);
}

async function transactionCount(): Promise<number> {
  return (await inspect<TransactionView[]>(gateway.url, 'transactions')).length;
}

async function transactionsOfOrder(orderID: unknown): Promise<TransactionView[]> {
  const all = await inspect<TransactionView[]>(gateway.url, 'transactions');
  return all.filter(t => t.orderID === orderID);
}

async function query(
  transactionID: string,
  baseUrl = gateway.url,
): Promise<Record<string, unknown>> {
  return assertOk(await send(Endpoint.Query, { transactionID }, { baseUrl }));
}

/** Query reports these values for the transaction. */
async function assertQuery(
  transactionID: string,
  expected: Record<string, unknown>,
): Promise<void> {
  const status = await query(transactionID);
  for (const [field, value] of Object.entries(expected)) assert.equal(status[field], value, field);
}

async function complete(
  transactionID: string,
  outcome: Record<string, unknown>,
  baseUrl = gateway.url,
): Promise<CompleteReply> {
  const { status, text } = await completePayment(baseUrl, transactionID, outcome);
  assert.equal(status, 200, text);
  return JSON.parse(text) as CompleteReply;
}

interface Created {
  transactionID: string;
  orderID: string;
  amount: number;
}

async function createCheckout(overrides: Record<string, unknown> = {}): Promise<Created> {
  const data = checkoutData(overrides);
  const responseData = assertOk(await send(Endpoint.Checkout, data));
  return {
    transactionID: String(responseData.transactionID),
    orderID: String(data.orderID),
    amount: Number(data.orderAmount),
  };
}

/** A checkout paid in full (auto-captured) through the inspection API. */
async function capturedPayment(amount = 100000): Promise<Created> {
  const created = await createCheckout({
    orderAmount: amount,
    orderNetAmount: amount,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
  });
  await complete(created.transactionID, { outcome: 'success' });
  return created;
}

/** An international card payment with isAutoCapture "false", authorized but not captured. */
async function authorizedPayment(): Promise<Created> {
  const data = payData({ isAutoCapture: 'false' });
  const responseData = assertOk(await send(Endpoint.Pay, data));
  const transactionID = String(responseData.transactionID);
  await complete(transactionID, { outcome: 'success', card: VISA_NO_OTP });
  return { transactionID, orderID: String(data.orderID), amount: Number(data.orderAmount) };
}

/** `requestData` of refund, void and capture for a transaction. */
function managementData(
  created: Created,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    transactionID: created.transactionID,
    orderID: created.orderID,
    orderAmount: created.amount,
    orderCurrency: 'VND',
    orderDateTime: formatGatewayDateTime(new Date()),
    orderDescription: 'DEMO REFUND TRANSACTION',
    ...overrides,
  };
}

async function createToken(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return assertOk(
    await send(Endpoint.CreateToken, { paymentMethod: 'INTERNATIONAL', ...VISA_CARD, ...extra }),
  );
}

/** Checks a hosted-page URL: the sandbox's own origin, `/<page>/<transactionID>`, and it serves HTML. */
async function assertEndpoint(endpoint: unknown, page: string, transactionID: string) {
  assert.equal(typeof endpoint, 'string');
  const url = new URL(String(endpoint));
  assert.equal(url.origin, new URL(gateway.url).origin);
  assert.equal(url.pathname, `/${page}/${transactionID}`);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR), table-driven. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let value = n << 8;
  for (let bit = 0; bit < 8; bit++) value = value & 0x8000 ? (value << 1) ^ 0x1021 : value << 1;
  return value & 0xffff;
});

function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc = ((crc << 8) ^ CRC_TABLE[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** Splits an EMV QR payload into its top-level ID → value fields, insisting it is well formed. */
function emvFields(payload: string): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < payload.length) {
    const id = payload.slice(at, at + 2);
    const length = Number(payload.slice(at + 2, at + 4));
    assert.ok(/^\d{2}$/.test(id) && Number.isInteger(length), `bad EMV field at ${at}`);
    fields.set(id, payload.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  assert.equal(at, payload.length, 'the EMV fields end exactly at the end of the payload');
  return fields;
}

async function assertQrPayment(paymentMethod: string, sourceType: string): Promise<void> {
  const data = payData({ paymentMethod, sourceType, orderAmount: 123456, orderCurrency: 'VND' });

  const responseData = assertOk(await send(Endpoint.PayWithQr, data));

  const transactionID = String(responseData.transactionID);
  assert.match(transactionID, /^\d{25}$/);
  await assertEndpoint(responseData.endpoint, 'qr', transactionID);
  const qrCode = String(responseData.qrCode);
  assert.ok(qrCode.startsWith('000201'), qrCode);
  assert.equal(qrCode.slice(-4), crc16CcittFalse(qrCode.slice(0, -4)));
  const fields = emvFields(qrCode);
  assert.equal(fields.get('54'), '123456');
  assert.equal(fields.get('53'), '704');
  assert.equal(fields.get('63'), qrCode.slice(-4));
  const status = await query(transactionID);
  assert.equal(status.transactionStatus, '102');
  assert.equal(status.paymentMethod, paymentMethod);
  assert.equal(status.sourceType, sourceType);
}

/** Order descriptions in Vietnamese with emoji and characters JSON has to escape. */
const descriptionUnit = fc.constantFrom(
  'Thanh toán ',
  'đơn hàng ',
  'Nguyễn Văn Ă ',
  'ữ',
  'Đ',
  'ệ',
  'ơ',
  'ư',
  'ạ',
  ' ',
  'a',
  '7',
  '🙂',
  '🎉',
  '👍🏽',
  '🇻🇳',
  '👨‍👩‍👧',
  '"',
  '\\',
  '/',
  '<b>',
  '\u2028',
  '\t',
);

/** Escapes every non-ASCII character as `\uXXXX`: the same JSON value as a different text. */
function escapeNonAscii(json: string): string {
  return json.replace(
    /[\u0080-\uffff]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

describe('Galaxy Pay sandbox API over HTTP', () => {
  describe('POST /api/v1/transaction/checkout', () => {
    describe('with a valid signed order', () => {
      it('answers 200 with the echoed requestID, a 14-digit responseDateTime and a verifiable signature header', async () => {
        const result = await send(Endpoint.Checkout, checkoutData());

        const responseData = assertOk(result);

        assert.deepEqual(Object.keys(result.json).sort(), [
          'requestID',
          'responseCode',
          'responseData',
          'responseDateTime',
          'responseMessage',
        ]);
        assert.deepEqual(Object.keys(responseData).sort(), ['endpoint', 'transactionID']);
      });

      it('returns a 25-digit transactionID and a /checkout/<id> endpoint on the sandbox origin', async () => {
        const result = await send(Endpoint.Checkout, checkoutData());

        const responseData = assertOk(result);

        assert.match(String(responseData.transactionID), /^\d{25}$/);
        await assertEndpoint(responseData.endpoint, 'checkout', String(responseData.transactionID));
      });

      it('records the request with its raw body and a 200 verdict, and creates a processing transaction', async () => {
        const data = checkoutData();

        const result = await send(Endpoint.Checkout, data);

        const responseData = assertOk(result);
        await assertRecorded(Endpoint.Checkout, result.body, 200);
        const [txn, ...others] = await transactionsOfOrder(data.orderID);
        assert.equal(others.length, 0);
        assert.equal(txn?.transactionID, responseData.transactionID);
        assert.equal(txn?.state, 'processing');
      });
    });

    describe('with numbers sent as JSON strings, as the .NET sample does', () => {
      it('accepts the order and stores the amount', async () => {
        const data = checkoutData({
          apiVersion: '2',
          orderNumber: 205249008064,
          orderAmount: '250000',
          orderNetAmount: '240000',
          orderFeeAmount: '20000',
          orderDiscountAmount: '10000',
        });

        const requestDateTime = Number(formatGatewayDateTime(new Date()));
        const result = await send(Endpoint.Checkout, data, { requestDateTime });

        const responseData = assertOk(result);
        await assertQuery(String(responseData.transactionID), {
          orderAmount: '250000',
          orderNumber: '205249008064',
        });
      });
    });

    describe('with unknown extra fields, as Galaxy Pay samples send', () => {
      it('accepts the order', async () => {
        const data = checkoutData({
          apiOperation: 'PAY',
          sourceOfFund: 'CARD',
          promotionCode: 'TET2025',
          nested: { anything: [1, 2, 3] },
        });

        const result = await send(Endpoint.Checkout, data);

        assertOk(result);
        assert.equal((await transactionsOfOrder(data.orderID)).length, 1);
      });
    });

    describe('with an orderID that was already used', () => {
      it('answers 409 with responseCode 409 and leaves the first transaction unchanged', async () => {
        const first = await createCheckout({ orderDescription: 'FIRST' });

        const result = await send(
          Endpoint.Checkout,
          checkoutData({
            orderID: first.orderID,
            orderAmount: 200000,
            orderNetAmount: 200000,
            orderDescription: 'SECOND',
          }),
        );

        assertRefused(result, 409, 'orderID');
        assert.equal(result.json.requestID, result.requestID);
        await assertRecorded(Endpoint.Checkout, result.body, 409, 'requestData.orderID');
        const transactions = await transactionsOfOrder(first.orderID);
        assert.equal(transactions.length, 1);
        await assertQuery(first.transactionID, {
          orderAmount: '100000',
          orderDescription: 'FIRST',
          transactionStatus: '102',
        });
      });
    });

    describe('with a wrong API key', () => {
      it('answers 401 Invalid API Key, signed, and records the verdict', async () => {
        const result = await send(Endpoint.Checkout, checkoutData(), { apiKey: 'not-the-key' });

        await assertRefusal(Endpoint.Checkout, result, 401);
        assert.match(String(result.json.responseMessage), /Invalid API Key/);
      });
    });

    describe('without an apiKey header', () => {
      it('answers 401 Invalid API Key, signed, and records the verdict', async () => {
        const body = JSON.stringify({
          requestID: newRequestId(),
          requestDateTime: formatGatewayDateTime(new Date()),
          requestData: checkoutData(),
        });

        const result = await postRaw(Endpoint.Checkout, body, { signature: signText(body, SALT) });

        assertRefused(result, 401);
        assert.match(String(result.json.responseMessage), /Invalid API Key/);
        await assertRecorded(Endpoint.Checkout, body, 401);
      });
    });

    describe('signed with another salt', () => {
      it("answers 401 'Invalid Signature', signed, and records the verdict", async () => {
        const result = await send(Endpoint.Checkout, checkoutData(), { salt: 'GPAY' });

        await assertRefusal(Endpoint.Checkout, result, 401);
        assert.match(String(result.json.responseMessage), /Invalid Signature/);
      });
    });

    describe('with the body changed by one byte after signing', () => {
      it('answers 401 Invalid Signature and creates no transaction', async () => {
        const data = checkoutData();
        const countBefore = await transactionCount();

        const result = await send(Endpoint.Checkout, data, {
          tamper: body => body.replace('"orderAmount":100000', '"orderAmount":900000'),
        });

        assert.ok(result.body.includes('"orderAmount":900000'), 'the body was tampered with');
        await assertRefusal(Endpoint.Checkout, result, 401);
        assert.match(String(result.json.responseMessage), /Invalid Signature/);
        assert.equal(await transactionCount(), countBefore);
      });
    });

    describe('without a signature header', () => {
      it('answers 401 Invalid Signature, signed, and records the verdict', async () => {
        const result = await send(Endpoint.Checkout, checkoutData(), { signature: null });

        await assertRefusal(Endpoint.Checkout, result, 401);
        assert.match(String(result.json.responseMessage), /Invalid Signature/);
      });
    });

    describe('with the signature in upper-case hex', () => {
      it('accepts the request', async () => {
        const requestID = newRequestId();
        const requestDateTime = formatGatewayDateTime(new Date());
        const data = checkoutData();
        const body = JSON.stringify({ requestID, requestDateTime, requestData: data });
        const upper = signText(body, SALT).toUpperCase();

        const result = await send(Endpoint.Checkout, data, {
          requestID,
          requestDateTime,
          signature: upper,
        });

        assert.match(upper, /^[0-9A-F]{64}$/);
        assertOk(result);
        const record = await assertRecorded(Endpoint.Checkout, body, 200);
        assert.equal(record.headers.signature, upper);
      });
    });

    describe('with a correctly signed body that is not JSON', () => {
      it('answers 400 naming the body, signed, and records the verdict', async () => {
        const body = `{"requestID":"${newRequestId()}", this is not JSON`;

        const result = await postSigned(Endpoint.Checkout, body);

        assertRefused(result, 400, 'JSON');
        await assertRecorded(Endpoint.Checkout, body, 400, 'body');
      });
    });

    describe('with an envelope field missing', () => {
      for (const missing of ['requestID', 'requestDateTime', 'requestData'] as const) {
        it(`answers 400 naming ${missing}, signed, and records the verdict`, async () => {
          const envelope: Record<string, unknown> = {
            requestID: newRequestId(),
            requestDateTime: formatGatewayDateTime(new Date()),
            requestData: checkoutData(),
          };
          delete envelope[missing];
          const body = JSON.stringify(envelope);

          const result = await postSigned(Endpoint.Checkout, body);

          assertRefused(result, 400, missing);
          assert.equal(result.json.requestID, envelope.requestID ?? null);
          await assertRecorded(Endpoint.Checkout, body, 400, missing);
        });
      }
    });

    describe('with a requestDateTime that is not yyyyMMddHHmmss', () => {
      for (const requestDateTime of ['2023-07-26 17:51:52', '20231332175152', 2023]) {
        it(`answers 400 naming requestDateTime for ${JSON.stringify(requestDateTime)}`, async () => {
          const result = await send(Endpoint.Checkout, checkoutData(), { requestDateTime });

          assertRefused(result, 400, 'requestDateTime');
          assert.equal(result.json.requestID, result.requestID);
          await assertRecorded(Endpoint.Checkout, result.body, 400, 'requestDateTime');
        });
      }
    });

    describe('without a mandatory field', () => {
      // orderNetAmount, orderFeeAmount, orderDiscountAmount: see request-checks.test.ts (ledger Q4).
      const mandatory = [
        'orderID',
        'orderAmount',
        'orderCurrency',
        'orderDateTime',
        'orderDescription',
        'paymentMethod',
      ];
      for (const field of mandatory) {
        it(`answers 400 naming requestData.${field} and creates no transaction`, async () => {
          const data = checkoutData({ [field]: undefined });
          const countBefore = await transactionCount();

          const result = await send(Endpoint.Checkout, data);

          assertRefused(result, 400, `requestData.${field}`);
          assert.equal(result.json.requestID, result.requestID);
          await assertRecorded(Endpoint.Checkout, result.body, 400, `requestData.${field}`);
          assert.equal(await transactionCount(), countBefore);
        });
      }
    });

    describe('with an orderDescription of 251 characters', () => {
      it('answers 400 naming requestData.orderDescription and creates no transaction', async () => {
        const data = checkoutData({ orderDescription: 'x'.repeat(251) });

        const result = await send(Endpoint.Checkout, data);

        await assertRefusal(Endpoint.Checkout, result, 400, 'requestData.orderDescription');
        assert.equal((await transactionsOfOrder(data.orderID)).length, 0);
      });

      it('accepts one of exactly 250 characters', async () => {
        const result = await send(
          Endpoint.Checkout,
          checkoutData({ orderDescription: 'x'.repeat(250) }),
        );

        assertOk(result);
      });
    });

    describe('with a field of the wrong type', () => {
      const cases: Array<[string, unknown]> = [
        ['orderAmount', 'one hundred'],
        ['orderAmount', 100000.5],
        ['orderAmount', true],
        ['orderFeeAmount', -1],
        ['orderCurrency', 704],
        ['orderDescription', 42],
        ['orderDateTime', '2023-07-26'],
        ['paymentMethod', ['DOMESTIC']],
        ['extraData', 'none'],
        ['orderID', { id: 1 }],
      ];
      for (const [field, value] of cases) {
        it(`answers 400 naming requestData.${field} for ${JSON.stringify(value)}`, async () => {
          const data = checkoutData({ [field]: value });

          const result = await send(Endpoint.Checkout, data);

          await assertRefusal(Endpoint.Checkout, result, 400, `requestData.${field}`);
        });
      }
    });

    describe('with an unknown currency', () => {
      it('answers 400 naming requestData.orderCurrency and creates no transaction', async () => {
        const data = checkoutData({ orderCurrency: 'XYZ' });

        const result = await send(Endpoint.Checkout, data);

        await assertRefusal(Endpoint.Checkout, result, 400, 'requestData.orderCurrency');
        assert.equal((await transactionsOfOrder(data.orderID)).length, 0);
      });
    });

    describe('with an unknown sandbox fault token in orderDescription', () => {
      it('answers 400 naming requestData.orderDescription and creates no transaction', async () => {
        const data = checkoutData({ orderDescription: 'x sandbox:nonsense' });

        const result = await send(Endpoint.Checkout, data);

        assertRefused(result, 400, 'requestData.orderDescription');
        assert.match(String(result.json.responseMessage), /nonsense/);
        await assertRecorded(Endpoint.Checkout, result.body, 400, 'requestData.orderDescription');
        assert.equal((await transactionsOfOrder(data.orderID)).length, 0);
      });
    });

    describe('with arbitrary valid orders: Vietnamese, emoji, amounts up to 10^12', () => {
      it('accepts every signed order, raw UTF-8 or \\u-escaped, so the signature covers the received text', async () => {
        const orders = fc.record({
          description: fc.string({ unit: descriptionUnit, minLength: 1, maxLength: 16 }),
          amounts: fc.integer({ min: 1, max: 10 ** 12 }).chain(amount =>
            fc.record({
              amount: fc.constant(amount),
              fee: fc.integer({ min: 0, max: amount }),
              discount: fc.integer({ min: 0, max: 10 ** 9 }),
            }),
          ),
          numbersAsStrings: fc.boolean(),
          escaped: fc.boolean(),
        });

        await fc.assert(
          fc.asyncProperty(orders, async ({ description, amounts, numbersAsStrings, escaped }) => {
            const asSent = (n: number) => (numbersAsStrings ? String(n) : n);
            const data = checkoutData({
              orderDescription: description,
              orderAmount: asSent(amounts.amount),
              orderNetAmount: asSent(amounts.amount - amounts.fee + amounts.discount),
              orderFeeAmount: asSent(amounts.fee),
              orderDiscountAmount: asSent(amounts.discount),
            });
            const json = JSON.stringify({
              requestID: newRequestId(),
              requestDateTime: formatGatewayDateTime(new Date()),
              requestData: data,
            });
            const body = escaped ? escapeNonAscii(json) : json;

            const result = await postSigned(Endpoint.Checkout, body);

            assert.equal(result.status, 200, result.text);
            assertSigned(result);
            await assertQuery(String(result.json.responseData?.transactionID), {
              orderDescription: description,
              orderAmount: String(amounts.amount),
            });
          }),
          { numRuns: 50 },
        );
      });
    });
  });

  describe('POST /api/v1/transaction/pay', () => {
    describe('with apiOperation PAY', () => {
      it('returns a 25-digit transactionID and a /pay/<id> endpoint, and the payment is processing', async () => {
        const result = await send(Endpoint.Pay, payData());

        const responseData = assertOk(result);

        const transactionID = String(responseData.transactionID);
        assert.match(transactionID, /^\d{25}$/);
        await assertEndpoint(responseData.endpoint, 'pay', transactionID);
        assert.equal((await query(transactionID)).transactionStatus, '102');
      });
    });

    describe('with apiOperation PAY_WITH_CREATE_TOKEN', () => {
      it('returns a 25-digit transactionID and a /pay/<id> endpoint', async () => {
        const result = await send(Endpoint.Pay, payData({ apiOperation: 'PAY_WITH_CREATE_TOKEN' }));

        const responseData = assertOk(result);

        const transactionID = String(responseData.transactionID);
        assert.match(transactionID, /^\d{25}$/);
        await assertEndpoint(responseData.endpoint, 'pay', transactionID);
      });
    });

    describe('with apiOperation PAY_WITH_CREATE_TOKEN and a customerToken, completed with a card', () => {
      let customerToken: string;
      let transactionID: string;
      let tokenization: Record<string, unknown>;

      before(async () => {
        customerToken = `customer-${randomUUID()}`;
        const responseData = assertOk(
          await send(
            Endpoint.Pay,
            payData({
              apiOperation: 'PAY_WITH_CREATE_TOKEN',
              ipnURL: `${merchant.url}/ipn`,
              customerToken,
            }),
          ),
        );
        transactionID = String(responseData.transactionID);
        await complete(transactionID, { outcome: 'success', card: VISA_NO_OTP });
        const hit = await ipnOf(transactionID);
        const payload = verifyCallback(
          JSON.parse(hit.body) as { data: string; signature: string },
          SALT,
        ) as TransactionCallback;
        tokenization = (payload.responseData.tokenization ?? {}) as Record<string, unknown>;
      });

      it('delivers the new token, masked account and status 200 in the IPN responseData.tokenization', async () => {
        assert.match(String(tokenization.token), /^[0-9A-F]{36}$/);
        assert.equal(tokenization.accountNumber, '401200******0026');
        assert.equal(tokenization.accountBrand, 'VISA');
        assert.equal(tokenization.status, '200');
        const saved = await inspect<SavedTokenView[]>(gateway.url, 'tokens');
        assert.ok(
          saved.some(t => t.token === tokenization.token && t.customerToken === customerToken),
        );
      });

      it('lists the new token in queryTokens for that customerToken', async () => {
        const result = await send(Endpoint.QueryTokens, { customerToken });

        const responseData = assertOk(result);

        const tokens = responseData.tokens as Array<Record<string, unknown>>;
        assert.deepEqual(
          tokens.map(t => t.token),
          [tokenization.token],
        );
        assert.ok(!result.text.includes(VISA_NO_OTP), 'the full card number is never shown');
      });
    });

    describe('with apiOperation FAST_PAY and a test card', () => {
      it('charges at once: transactionStatus 200, and query reports it captured', async () => {
        const data = payData({ apiOperation: 'FAST_PAY', sourceOfFund: 'CARD', ...VISA_CARD });

        const result = await send(Endpoint.Pay, data);

        const responseData = assertOk(result);
        const transactionID = String(responseData.transactionID);
        assert.match(transactionID, /^\d{25}$/);
        assert.equal(responseData.transactionStatus, '200');
        const status = await query(transactionID);
        assert.equal(status.transactionStatus, '200');
        assert.equal(status.capturedAmount, '100000');
        assert.ok(!result.text.includes(VISA_NO_OTP));
      });
    });

    describe('with apiOperation FAST_PAY and a token from createToken', () => {
      it('charges the saved card at once: transactionStatus 200, and query reports it captured', async () => {
        const { token } = await createToken();

        const result = await send(
          Endpoint.Pay,
          payData({ apiOperation: 'FAST_PAY', sourceOfFund: 'TOKEN', token }),
        );

        const responseData = assertOk(result);
        const transactionID = String(responseData.transactionID);
        assert.equal(responseData.transactionStatus, '200');
        await assertQuery(transactionID, { transactionStatus: '200', capturedAmount: '100000' });
      });
    });

    describe('with a token that was deleted', () => {
      it('answers 400 naming requestData.token and creates no transaction', async () => {
        const { token } = await createToken();
        assertOk(await send(Endpoint.DeleteToken, { token }));
        const data = payData({ apiOperation: 'FAST_PAY', sourceOfFund: 'TOKEN', token });

        const result = await send(Endpoint.Pay, data);

        await assertRefusal(Endpoint.Pay, result, 400, 'requestData.token');
        assert.equal((await transactionsOfOrder(data.orderID)).length, 0);
      });
    });
  });

  describe('POST /api/v1/transaction/payWithOption', () => {
    describe('with a valid order and no paymentMethod', () => {
      it('returns a 25-digit transactionID and a /payWithOption/<id> endpoint', async () => {
        const result = await send(Endpoint.PayWithOption, payData({ paymentMethod: undefined }));

        const responseData = assertOk(result);

        const transactionID = String(responseData.transactionID);
        assert.match(transactionID, /^\d{25}$/);
        await assertEndpoint(responseData.endpoint, 'payWithOption', transactionID);
        assert.equal((await query(transactionID)).transactionStatus, '102');
      });
    });
  });

  describe('POST /api/v1/transaction/payWithQR', () => {
    describe('with paymentMethod QRPAY and sourceType QRPAY', () => {
      it('returns a /qr/<id> endpoint and an EMV qrCode whose CRC-16 and amount are right', async () => {
        assert.equal(crc16CcittFalse('123456789'), '29B1'); // the catalogued check value

        await assertQrPayment('QRPAY', 'QRPAY');
      });
    });

    describe('with paymentMethod WALLET and sourceType MOMO', () => {
      it('returns a /qr/<id> endpoint and an EMV qrCode whose CRC-16 and amount are right', async () => {
        await assertQrPayment('WALLET', 'MOMO');
      });
    });
  });

  describe('POST /api/v1/transaction/createPaymentLink', () => {
    describe('with a valid link request', () => {
      it('returns an orderNo and a shortLink on the sandbox origin that serves the link page', async () => {
        const data = paymentLinkData({ orderDescription: 'Áo dài lụa', language: 'vi' });

        const result = await send(Endpoint.CreatePaymentLink, data);

        const responseData = assertOk(result);

        assert.match(String(responseData.orderNo), /^\w+$/);
        const link = new URL(String(responseData.shortLink));
        assert.equal(link.origin, new URL(gateway.url).origin);
        assert.match(link.pathname, /^\/link\/[\w-]+$/);
        const page = await fetch(link);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /Áo dài lụa/);
        const links = await inspect<Array<{ orderNo: string; amount: number }>>(
          gateway.url,
          'links',
        );
        assert.equal(links.find(l => l.orderNo === responseData.orderNo)?.amount, 150000);
      });
    });
  });

  describe('POST /api/v1/transaction/query', () => {
    describe('of a transaction the shopper has not finished', () => {
      it('reports transactionStatus 102 and the order as strings', async () => {
        const created = await createCheckout({ orderDescription: 'Thanh toán đơn hàng' });

        const status = await query(created.transactionID);

        assert.equal(status.transactionID, created.transactionID);
        assert.equal(status.transactionStatus, '102');
        assert.equal(status.orderID, created.orderID);
        assert.equal(status.orderAmount, '100000');
        assert.equal(status.orderCurrency, 'VND');
        assert.equal(status.orderDescription, 'Thanh toán đơn hàng');
        assert.match(String(status.transactionDateTime), /^\d{14}$/);
        assert.equal(status.capturedAmount, '0');
        assert.equal(status.refundedAmount, '0');
      });
    });

    describe('of an unknown transactionID', () => {
      it('answers 404, signed, naming requestData.transactionID in the verdict', async () => {
        const result = await send(Endpoint.Query, { transactionID: '0'.repeat(25) });

        assertRefused(result, 404);
        assert.equal(result.json.requestID, result.requestID);
        await assertRecorded(Endpoint.Query, result.body, 404, 'requestData.transactionID');
      });
    });

    describe('with a sandbox whose clock the test controls', () => {
      let clockMs = Date.UTC(2025, 0, 15, 3, 0, 0);
      // The requests carry the real time, the sandbox the test's: no freshness check (ledger Q5).
      const clocked = useSandbox({
        now: () => new Date(clockMs),
        transactionTtlMs: 60_000,
        requestDateTimeToleranceMs: null,
      });

      async function checkoutOnClock(): Promise<string> {
        const result = await send(Endpoint.Checkout, checkoutData(), { baseUrl: clocked.url });
        return String(assertOk(result).transactionID);
      }

      it('reports a processing transaction older than transactionTtlMs as 408 expired', async () => {
        const transactionID = await checkoutOnClock();
        assert.equal((await query(transactionID, clocked.url)).transactionStatus, '102');

        clockMs += 60_001;

        const status = await query(transactionID, clocked.url);
        assert.equal(status.transactionStatus, '408');
        const txn = await inspect<TransactionView>(clocked.url, `transactions/${transactionID}`);
        assert.equal(txn.state, 'expired');
      });

      it('keeps reporting 102 while the transaction is younger than transactionTtlMs', async () => {
        const transactionID = await checkoutOnClock();

        clockMs += 59_000;

        assert.equal((await query(transactionID, clocked.url)).transactionStatus, '102');
      });

      it("reports the transaction's own transactionDateTime, not the time of the query", async () => {
        const createdAt = formatGatewayDateTime(new Date(clockMs));
        const transactionID = await checkoutOnClock();

        clockMs += 30_000;

        const status = await query(transactionID, clocked.url);
        assert.equal(status.transactionDateTime, createdAt);
        assert.notEqual(status.transactionDateTime, formatGatewayDateTime(new Date(clockMs)));
      });
    });
  });

  describe('POST /api/v1/transaction/refund', () => {
    describe('of a captured transaction, in parts', () => {
      it('accepts two partial refunds and a third for exactly the rest, and query reports the total', async () => {
        const paid = await capturedPayment(100000);

        for (const [amount, total] of [
          [30000, '30000'],
          [50000, '80000'],
          [20000, '100000'],
        ] as const) {
          const result = await send(
            Endpoint.Refund,
            managementData(paid, { orderID: `REFUND-${randomUUID()}`, orderAmount: amount }),
          );
          assertOk(result);
          assert.equal((await query(paid.transactionID)).refundedAmount, total);
        }

        const txn = await inspect<TransactionView>(
          gateway.url,
          `transactions/${paid.transactionID}`,
        );
        assert.deepEqual(
          txn.refunds.map(r => r.amount),
          [30000, 50000, 20000],
        );
      });
    });

    describe('for more than what remains', () => {
      it('answers 400 naming requestData.orderAmount and refunds nothing', async () => {
        const paid = await capturedPayment(100000);
        assertOk(
          await send(
            Endpoint.Refund,
            managementData(paid, { orderID: `REFUND-${randomUUID()}`, orderAmount: 60000 }),
          ),
        );

        const result = await send(
          Endpoint.Refund,
          managementData(paid, { orderID: `REFUND-${randomUUID()}`, orderAmount: 40001 }),
        );

        await assertRefusal(Endpoint.Refund, result, 400, 'requestData.orderAmount');
        await assertQuery(paid.transactionID, {
          refundedAmount: '60000',
          transactionStatus: '200',
        });
      });
    });

    describe('of a transaction that is still processing', () => {
      it('answers 400 and refunds nothing', async () => {
        const created = await createCheckout();

        const result = await send(Endpoint.Refund, managementData(created, { orderAmount: 1000 }));

        await assertRefusal(Endpoint.Refund, result, 400, 'requestData.transactionID', 'captured');
        await assertQuery(created.transactionID, { transactionStatus: '102', refundedAmount: '0' });
      });
    });

    describe('in another currency than the payment', () => {
      it('answers 400 naming requestData.orderCurrency and refunds nothing', async () => {
        const paid = await capturedPayment();

        const result = await send(
          Endpoint.Refund,
          managementData(paid, { orderCurrency: 'USD', orderAmount: 10 }),
        );

        await assertRefusal(Endpoint.Refund, result, 400, 'requestData.orderCurrency');
        assert.equal((await query(paid.transactionID)).refundedAmount, '0');
      });
    });

    describe('twice with the same refund reference orderID', () => {
      it('answers 409 to the second and refunds only once', async () => {
        const paid = await capturedPayment();
        const refund = managementData(paid, {
          orderID: `REFUND-${randomUUID()}`,
          orderAmount: 10000,
        });
        assertOk(await send(Endpoint.Refund, refund));

        const result = await send(Endpoint.Refund, refund);

        await assertRefusal(Endpoint.Refund, result, 409, 'requestData.orderID');
        assert.equal((await query(paid.transactionID)).refundedAmount, '10000');
      });
    });
  });

  describe('POST /api/v1/transaction/void', () => {
    describe('of an authorized payment (isAutoCapture "false")', () => {
      it('answers 200 and query moves from 202 to 210', async () => {
        const authorized = await authorizedPayment();
        assert.equal((await query(authorized.transactionID)).transactionStatus, '202');

        const result = await send(Endpoint.Void, managementData(authorized));

        assertOk(result);
        await assertQuery(authorized.transactionID, {
          transactionStatus: '210',
          capturedAmount: '0',
        });
      });
    });

    describe('of a captured payment', () => {
      it('answers 400 and the payment stays captured', async () => {
        const paid = await capturedPayment();

        const result = await send(Endpoint.Void, managementData(paid));

        await assertRefusal(Endpoint.Void, result, 400, 'requestData.transactionID', 'captured');
        assert.equal((await query(paid.transactionID)).transactionStatus, '200');
      });
    });
  });

  describe('POST /api/v1/transaction/capture', () => {
    describe('of an authorized payment', () => {
      it('answers 200 and query reports 200 with the captured amount', async () => {
        const authorized = await authorizedPayment();

        const result = await send(Endpoint.Capture, managementData(authorized));

        assertOk(result);
        await assertQuery(authorized.transactionID, {
          transactionStatus: '200',
          capturedAmount: '100000',
        });
      });
    });

    describe('of a payment that is already captured', () => {
      it('answers 400 to the second capture and the captured amount is unchanged', async () => {
        const authorized = await authorizedPayment();
        assertOk(await send(Endpoint.Capture, managementData(authorized, { orderAmount: 70000 })));

        const result = await send(Endpoint.Capture, managementData(authorized));

        await assertRefusal(Endpoint.Capture, result, 400, 'requestData.transactionID', 'captured');
        await assertQuery(authorized.transactionID, {
          transactionStatus: '200',
          capturedAmount: '70000',
        });
      });
    });
  });

  describe('POST /api/v1/tokenization/createToken', () => {
    describe('with a test card', () => {
      it('returns a token and the masked account, never the full card number', async () => {
        const result = await send(Endpoint.CreateToken, {
          paymentMethod: 'INTERNATIONAL',
          ...VISA_CARD,
        });

        const responseData = assertOk(result);

        assert.match(String(responseData.token), /^[0-9A-F]{36}$/);
        assert.equal(responseData.accountNumber, '401200******0026');
        assert.equal(responseData.accountBrand, 'VISA');
        assert.equal(responseData.accountName, 'NGUYEN VAN A');
        assert.ok(!result.text.includes(VISA_NO_OTP));
        const saved = await inspect<SavedTokenView[]>(gateway.url, 'tokens');
        assert.ok(saved.some(t => t.token === responseData.token));
      });
    });

    describe('with a wrong CVV', () => {
      it('answers 400 naming requestData.cardVerificationValue and saves no token', async () => {
        const countBefore = (await inspect<SavedTokenView[]>(gateway.url, 'tokens')).length;

        const result = await send(Endpoint.CreateToken, {
          paymentMethod: 'INTERNATIONAL',
          ...VISA_CARD,
          cardVerificationValue: '999',
        });

        await assertRefusal(Endpoint.CreateToken, result, 400, 'requestData.cardVerificationValue');
        assert.equal((await inspect<SavedTokenView[]>(gateway.url, 'tokens')).length, countBefore);
      });
    });
  });

  describe('POST /api/v1/tokenization/deleteToken', () => {
    describe('of a saved token', () => {
      it('answers 200 and the token is gone', async () => {
        const customerToken = `customer-${randomUUID()}`;
        const { token } = await createToken({ customerToken });

        const result = await send(Endpoint.DeleteToken, { token });

        assertOk(result);
        const listed = assertOk(await send(Endpoint.QueryTokens, { customerToken }));
        assert.deepEqual(listed.tokens, []);
        const saved = await inspect<SavedTokenView[]>(gateway.url, 'tokens');
        assert.ok(!saved.some(t => t.token === token));
      });
    });

    describe('of an unknown token', () => {
      it('answers 400 naming requestData.token', async () => {
        const result = await send(Endpoint.DeleteToken, { token: 'F'.repeat(36) });

        await assertRefusal(Endpoint.DeleteToken, result, 400, 'requestData.token');
      });
    });
  });

  describe('POST /api/v1/tokenization/queryTokens', () => {
    describe('for a customerToken that saved cards', () => {
      it("returns only that customer's tokens, masked, and never a full card number", async () => {
        const alice = `customer-${randomUUID()}`;
        const bob = `customer-${randomUUID()}`;
        const first = await createToken({ customerToken: alice });
        const second = assertOk(
          await send(Endpoint.CreateToken, {
            paymentMethod: 'INTERNATIONAL',
            ...MASTER_CARD,
            customerToken: alice,
          }),
        );
        const bobs = await createToken({ customerToken: bob });

        const result = await send(Endpoint.QueryTokens, { customerToken: alice });

        const responseData = assertOk(result);
        const tokens = responseData.tokens as Array<Record<string, unknown>>;
        assert.deepEqual(tokens.map(t => t.token).sort(), [first.token, second.token].sort());
        assert.ok(!tokens.some(t => t.token === bobs.token));
        assert.deepEqual(tokens.map(t => t.accountNumber).sort(), [
          '401200******0026',
          '550692******3667',
        ]);
        for (const t of tokens) assert.match(String(t.tokenID), /^\d{1,10}$/);
        assert.ok(!result.text.includes(VISA_NO_OTP));
        assert.ok(!result.text.includes(MASTER_CARD.cardNumber));
      });
    });
  });

  describe('POST /api/v1/transaction/unknownOperation', () => {
    describe('with a valid key and signature', () => {
      it('answers 404, signed, and records the verdict', async () => {
        const path = 'api/v1/transaction/unknownOperation';

        const result = await send(path, checkoutData());

        await assertRefusal(path, result, 404);
      });
    });
  });

  describe('Done when (a): POST /api/v1/transaction/checkout refuses bad requests visibly', () => {
    describe('with a wrong salt, a one-byte change after signing, and a missing mandatory field', () => {
      it('refuses them with 401, 401 and 400, and the inspection API shows each with that verdict', async () => {
        // Given
        const byte = (body: string) => body.replace('"orderFeeAmount":0', '"orderFeeAmount":1');

        // When
        const wrongSalt = await send(Endpoint.Checkout, checkoutData(), { salt: 'not-the-salt' });
        const changed = await send(Endpoint.Checkout, checkoutData(), { tamper: byte });
        const missing = await send(Endpoint.Checkout, checkoutData({ orderAmount: undefined }));

        // Then
        assertRefused(wrongSalt, 401);
        assertRefused(changed, 401);
        assertRefused(missing, 400, 'requestData.orderAmount');
        const signedBody = changed.body.replace('"orderFeeAmount":1', '"orderFeeAmount":0');
        assert.equal(differingBytes(signedBody, changed.body), 1);
        const records = await Promise.all([
          assertRecorded(Endpoint.Checkout, wrongSalt.body, 401),
          assertRecorded(Endpoint.Checkout, changed.body, 401),
          assertRecorded(Endpoint.Checkout, missing.body, 400, 'requestData.orderAmount'),
        ]);
        assert.match(records[0].verdict.message, /Invalid Signature/);
        assert.match(records[1].verdict.message, /Invalid Signature/);
        assert.match(records[2].verdict.message, /requestData\.orderAmount/);
      });
    });
  });

  describe('Done when (b): POST /__sandbox/transactions/:id/complete finishes a payment', () => {
    describe('for a checkout with successURL and ipnURL, completed successfully', () => {
      let requestID: string;
      let transactionID: string;
      let finished: CompleteReply;
      let data: Record<string, unknown>;

      before(async () => {
        data = checkoutData({
          orderDescription: 'Thanh toán đơn hàng 🎉',
          successURL: `${merchant.url}/result?shop=1`,
          ipnURL: `${merchant.url}/ipn`,
        });
        const result = await send(Endpoint.Checkout, data);
        requestID = result.requestID;
        transactionID = String(assertOk(result).transactionID);
        finished = await complete(transactionID, { outcome: 'success' });
      });

      it('produces a redirect to successURL whose data and signature verify', async () => {
        assert.ok(finished.callback, 'the complete call returns the browser callback');
        assert.equal(finished.callback.kind, 'success');
        const location = new URL(finished.callback.location);
        assert.equal(`${location.origin}${location.pathname}`, `${merchant.url}/result`);
        assert.equal(location.searchParams.get('shop'), '1');

        const payload = verifyCallback(
          {
            data: location.searchParams.get('data'),
            signature: location.searchParams.get('signature'),
          },
          SALT,
        ) as TransactionCallback;

        assert.equal(payload.requestID, requestID);
        assert.equal(payload.responseCode, '200');
        assert.equal(payload.responseData.transactionID, transactionID);
      });

      it('sends an IPN that verifyCallback accepts and that decodes to the documented field set, as strings', async () => {
        const hit = await ipnOf(transactionID);
        assert.match(hit.contentType ?? '', /^application\/json/);

        const payload = verifyCallback(
          JSON.parse(hit.body) as { data: string; signature: string },
          SALT,
        ) as TransactionCallback;

        assert.deepEqual(Object.keys(payload).sort(), [
          'requestID',
          'responseCode',
          'responseData',
          'responseDateTime',
          'responseMessage',
        ]);
        assert.deepEqual(Object.keys(payload.responseData).sort(), [
          'language',
          'orderAmount',
          'orderCurrency',
          'orderDateTime',
          'orderDescription',
          'orderID',
          'orderNumber',
          'paymentMethod',
          'sourceType',
          'transactionDateTime',
          'transactionDescription',
          'transactionID',
          'transactionStatus',
        ]);
        for (const [key, value] of Object.entries(payload)) {
          if (key !== 'responseData') assert.equal(typeof value, 'string', key);
        }
        for (const [key, value] of Object.entries(payload.responseData)) {
          assert.equal(typeof value, 'string', `responseData.${key}`);
        }
        assert.equal(payload.requestID, requestID);
        assert.equal(payload.responseCode, '200');
        assert.match(payload.responseDateTime as string, /^\d{14}$/);
        assert.equal(payload.responseData.transactionID, transactionID);
        assert.equal(payload.responseData.transactionStatus, '200');
        assert.match(payload.responseData.transactionDateTime ?? '', /^\d{14}$/);
        assert.equal(payload.responseData.orderID, data.orderID);
        assert.equal(payload.responseData.orderNumber, '205249008064');
        assert.equal(payload.responseData.orderAmount, '100000');
        assert.equal(payload.responseData.orderCurrency, 'VND');
        assert.equal(payload.responseData.orderDateTime, data.orderDateTime);
        assert.equal(payload.responseData.orderDescription, 'Thanh toán đơn hàng 🎉');
        assert.equal(payload.responseData.paymentMethod, 'DOMESTIC');
        assert.equal(payload.responseData.language, 'vi');
      });
    });
  });
});

/** The first IPN the merchant received about this transaction. */
async function ipnOf(transactionID: string): Promise<Hit> {
  const hit = await eventually(() => merchant.ipns().find(h => ipnFor(h.body, transactionID)));
  assert.ok(hit, `an IPN about ${transactionID} arrived`);
  return hit;
}

/** How many bytes differ between two UTF-8 texts of the same length. */
function differingBytes(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  assert.equal(x.length, y.length);
  return x.reduce((count, byte, i) => count + (byte === y[i] ? 0 : 1), 0);
}

/** Whether a recorded IPN body is about this transaction (decoded without trusting it: the test verifies later). */
function ipnFor(body: string, transactionID: string): boolean {
  try {
    const { data } = JSON.parse(body) as { data: string };
    return Buffer.from(data, 'base64')
      .toString('utf8')
      .includes(`"transactionID":"${transactionID}"`);
  } catch {
    return false;
  }
}
