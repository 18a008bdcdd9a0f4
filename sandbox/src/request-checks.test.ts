/**
 * Request checks (request-checks.ts; docs/gateway-fidelity.md rows Q1–Q12) over real HTTP: Galaxy Pay's
 * official samples replayed with their exact path, header names and body text, the bad-input table, and each
 * option flipping its behaviour (with the CLI flags).
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { formatGatewayDateTime, signText, verifyResponseSignature } from '@galaxy-pay/protocol';
import type { RequestRecord } from './ledger.js';
import { cliExit, runCli, withCli } from './cli-test-support.js';
import {
  API_KEY,
  CARD_NO_3DS,
  SALT,
  checkoutData,
  inspect,
  jsonOf,
  payData,
  useSandbox,
  withSandbox,
  type ApiResult,
} from './test-support.js';

type Headers = Record<string, string>;

const CHECKOUT = '/api/v1/transaction/checkout';
const PAY = '/api/v1/transaction/pay';
const PAY_WITH_OPTION = '/api/v1/transaction/payWithOption';
const QUERY = '/api/v1/transaction/query';
const CREATE_TOKEN = '/api/v1/tokenization/createToken';

/** POSTs `body` with exactly these header names: node:http sends them in the case given. */
function post(baseUrl: string, path: string, body: string, headers: Headers): Promise<ApiResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
          const signature = res.headers.signature;
          resolve({
            status: res.statusCode ?? 0,
            signature: typeof signature === 'string' ? signature : null,
            text,
            json: jsonOf(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `ServiceBase.Post` of the .NET sample and of the API playground (HttpWebRequest). */
function dotnetHeaders(body: string): Headers {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    apiKey: API_KEY,
    signature: signText(body, SALT),
  };
}

/** The Node sample's `fetch` (`app.js`) and the Node demo's. */
function nodeHeaders(body: string): Headers {
  return {
    APIKey: API_KEY,
    Signature: signText(body, SALT),
    'content-type': 'application/json; charset=utf-8',
  };
}

/** Our own signer's headers (server/src/gateway-client.ts). */
function ourHeaders(body: string): Headers {
  return {
    apikey: API_KEY,
    signature: signText(body, SALT),
    'content-type': 'application/json',
    accept: 'application/json',
  };
}

/** POSTs `body` signed, with the headers of one client (ours by default). */
function postSigned(
  baseUrl: string,
  path: string,
  body: string,
  headersOf: (body: string) => Headers = ourHeaders,
): Promise<ApiResult> {
  return post(baseUrl, path, body, headersOf(body));
}

/** `DateTime.Now` in Asia/Ho_Chi_Minh (the samples' Dockerfile) and the Node sample's GMT+7 timestamp. */
const gmt7 = (offsetMs = 0) => formatGatewayDateTime(new Date(Date.now() + offsetMs));
const hex32 = () => randomUUID().replaceAll('-', '');

/** `JSON.stringify` matches System.Text.Json here: compact (or 2-space indented), `null` written, UTF-8 raw. */
function envelope(
  requestData: Record<string, unknown>,
  options: { requestID?: string; requestDateTime?: string | number; indent?: number } = {},
): string {
  return JSON.stringify(
    {
      requestID: options.requestID ?? hex32(),
      requestDateTime: options.requestDateTime ?? gmt7(),
      requestData,
    },
    null,
    options.indent,
  );
}

const DOTNET_EXTRA = {
  customer: {
    firstName: 'Jacob',
    lastName: 'Savannah',
    email: 'Jacob@gmail.com',
    phoneNumber: '0580821083',
    gender: 'F',
    dateOfBirth: '19920117',
    title: 'Mr',
  },
  application: { applicationID: 'V2hLZeYRHs', applicationChannel: 'Mobile' },
  airline: { recordLocator: 'VDknTdszRc', journeyType: 279182634 },
};

/**
 * `OrderData` as the .NET sample sends it (`UPC-Api/Controllers/ClientController.cs`, `Model/OrderData.cs`):
 * camelCase in declaration order, numbers written as strings, unset properties as `null`.
 */
function dotnetOrder(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiOperation: 'PAY',
    orderID: randomUUID(),
    orderNumber: String(Math.floor(Math.random() * 100000)),
    orderAmount: '10000',
    orderCurrency: 'VND',
    orderDateTime: gmt7(),
    orderDescription: 'Secure Page Demo',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    extraData: DOTNET_EXTRA,
    language: 'vi',
    successURL: 'http://localhost:9000/api/result/Demo',
    failureURL: 'http://localhost:9000/api/result/Demo',
    cancelURL: 'http://localhost:9000/api/cancel/Demo',
    ipnURL: 'http://localhost:9000/api/ipn/Demo',
    cardNumber: null,
    cardHolderName: null,
    cardExpireDate: null,
    cardVerificationValue: null,
    token: null,
    sourceOfFund: null,
    ...fields,
  };
}

/** `POST /pay` of the Node sample (`app.js`, Node.Demo/app.js): one constant orderID, no apiOperation. */
function nodeOrder(): Record<string, unknown> {
  return {
    orderID: '9144c96d599548ae88bdfd77f49b22cf',
    orderNumber: '20221103113341',
    orderAmount: '10000',
    orderCurrency: 'VND',
    orderDateTime: gmt7(),
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    language: 'vi',
    successURL: 'http://localhost:8000/api/result',
    failureURL: 'http://localhost:8000/api/result',
    pendingURL: 'http://localhost:8000/api/result',
    cancelURL: 'http://localhost:8000/api/cancel',
    ipnURL: 'https://ac7b-58-186-241-92.ap.ngrok.io/api/ipns',
    extraData: {
      customer: { firstName: 'Jacob', lastName: 'Savannah', email: 'Jacob@gmail.com' },
      billing: {
        countryCode: 'vn',
        stateProvine: 'Hồ Chí Minh',
        cityName: 'Nhà Bè',
        postalCode: '',
        streetNumber: '673',
        addressLine1: 'Đường Nguyễn Hữu Thọ',
        addressLine2: '',
      },
    },
  };
}

/** The order fields the API playground's requests start with, in its models' declaration order. */
function playgroundOrder(): Record<string, unknown> {
  return {
    apiOperation: 'PAY',
    orderID: hex32(),
    orderNumber: hex32(),
    orderAmount: 100000,
    orderCurrency: 'VND',
    orderDateTime: gmt7(),
    orderDescription: 'pay demo transaction',
  };
}

/** The fields the API playground's requests end with, `" "` where its form is left blank. */
const PLAYGROUND_BLANKS = {
  token: ' ',
  sourceOfFund: ' ',
  successURL: ' ',
  failureURL: ' ',
  cancelURL: ' ',
  ipnURL: ' ',
};

/**
 * `PayOrderRequest` as the API playground sends its defaults (branch `feature/luanlm/Docker_Nodejs_Demo`,
 * `UPC-Api/Controllers/PayController.cs`, `Model/PayOrderRequest.cs`): indented, nulls left out, GUID-sized
 * orderID and orderNumber, and `" "` for every field its form leaves blank.
 */
function playgroundPay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...playgroundOrder(),
    paymentMethod: 'WALLET',
    sourceType: 'MOMO',
    extraData: {},
    language: 'vi',
    cardNumber: ' ',
    cardHolderName: ' ',
    cardExpireDate: ' ',
    cardVerificationValue: ' ',
    ...PLAYGROUND_BLANKS,
    ...fields,
  };
}

/** `PayWithOptionOrderRequest` of the API playground. */
function playgroundPayWithOption(): Record<string, unknown> {
  return { ...playgroundOrder(), extraData: {}, language: 'vi', ...PLAYGROUND_BLANKS };
}

/** The third-party modal page's checkout (docs/protocol.md §6): no net, fee or discount amounts. */
function thirdPartyCheckout(): Record<string, unknown> {
  return {
    apiOperation: 'PAY',
    orderID: randomUUID(),
    orderNumber: String(Date.now()),
    orderAmount: 150000,
    orderCurrency: 'VND',
    orderDateTime: gmt7(),
    orderDescription: 'Thanh toán đơn hàng',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    sourceOfFund: 'CARD',
    language: 'vi',
    extraData: {},
  };
}

interface TransactionView {
  transactionID: string;
  orderID: string;
  state: string;
  kind: string;
  account?: { accountNumber: string; accountBrand: string };
}

function assertOk(result: ApiResult, what = ''): Record<string, unknown> {
  assert.equal(result.status, 200, `${what} ${result.text}`);
  assert.equal(result.json.responseCode, '200', result.text);
  assert.ok(verifyResponseSignature(result.text, result.signature, SALT), 'the reply is signed');
  return result.json.responseData ?? {};
}

function assertRefused(result: ApiResult, status: number, field: string): void {
  assert.equal(result.status, status, result.text);
  assert.equal(result.json.responseCode, String(status), result.text);
  assert.ok(
    String(result.json.responseMessage).includes(field),
    `"${String(result.json.responseMessage)}" should name ${field}`,
  );
  assert.ok(verifyResponseSignature(result.text, result.signature, SALT), 'the refusal is signed');
}

async function transactions(baseUrl: string): Promise<TransactionView[]> {
  return inspect<TransactionView[]>(baseUrl, 'transactions');
}

async function lastRecord(baseUrl: string): Promise<RequestRecord> {
  const records = await inspect<RequestRecord[]>(baseUrl, 'requests');
  return records[records.length - 1]!;
}

describe('request checks over HTTP', () => {
  const gateway = useSandbox();

  describe('official samples, replayed with their path, header names and body text (Q1–Q4, Q11)', () => {
    describe('POST /pay from the .NET sample (Merchant Checkout)', () => {
      it('creates the payment and answers a /pay/<id> endpoint', async () => {
        const body = envelope(dotnetOrder());

        const result = await postSigned(gateway.url, '/pay', body, dotnetHeaders);

        const data = assertOk(result);
        assert.match(String(data.endpoint), new RegExp(`^${gateway.url}/pay/\\d{25}$`));
        assert.equal((await lastRecord(gateway.url)).path, '/pay');
      });
    });

    describe('POST /payWithOption from the .NET sample (Pay with Options, paymentMethod null)', () => {
      it('creates the payment and answers a /payWithOption/<id> endpoint', async () => {
        const body = envelope(dotnetOrder({ paymentMethod: null, sourceType: null }));

        const result = await postSigned(gateway.url, '/payWithOption', body, dotnetHeaders);

        const data = assertOk(result);
        assert.match(String(data.endpoint), new RegExp(`^${gateway.url}/payWithOption/\\d{25}$`));
      });
    });

    describe('POST /pay from the .NET sample (Merchant Hosted Checkout: card fields, sourceOfFund null)', () => {
      it('pays with the NAPAS card it sends by default: the transaction holds that card', async () => {
        const body = envelope(
          dotnetOrder({
            cardNumber: '9704000000000018',
            cardHolderName: 'Nguyen Van A',
            cardExpireDate: '03/07',
            cardVerificationValue: '100',
          }),
        );

        const result = await postSigned(gateway.url, '/pay', body, dotnetHeaders);

        const id = String(assertOk(result).transactionID);
        const txn = await inspect<TransactionView>(gateway.url, `transactions/${id}`);
        assert.equal(txn.account?.accountNumber, '970400******0018');
      });

      it('charges an international card without 3-D Secure at once', async () => {
        const body = envelope(
          dotnetOrder({ paymentMethod: 'INTERNATIONAL', orderAmount: '250000', ...CARD_NO_3DS }),
        );

        const result = await postSigned(gateway.url, '/pay', body, dotnetHeaders);

        const id = String(assertOk(result).transactionID);
        const txn = await inspect<TransactionView>(gateway.url, `transactions/${id}`);
        assert.equal(txn.state, 'captured');
      });
    });

    describe('POST /api/v1.0/Merchant/Pay from the Node sample (APIKey, Signature, charset=utf-8)', () => {
      it('creates the payment without apiOperation, and again with the same constant orderID', async () => {
        const first = envelope(nodeOrder());
        const second = envelope(nodeOrder());

        const one = await postSigned(gateway.url, '/api/v1.0/Merchant/Pay', first, nodeHeaders);
        const two = await postSigned(gateway.url, '/api/v1.0/Merchant/Pay', second, nodeHeaders);

        const ids = [String(assertOk(one).transactionID), String(assertOk(two).transactionID)];
        assert.notEqual(ids[0], ids[1]);
        const txn = await inspect<TransactionView>(gateway.url, `transactions/${ids[0]}`);
        assert.equal(txn.kind, 'pay');
      });
    });

    describe('POST /pay from the Node demo (playground branch, Node.Demo/app.js)', () => {
      it('creates the payment', async () => {
        const body = envelope(nodeOrder());

        const result = await postSigned(gateway.url, '/pay', body, nodeHeaders);

        assertOk(result);
      });
    });

    describe('POST /api/v1/transaction/pay from the API playground (indented, orderNumber of 32, " " fields)', () => {
      it('creates the payment and keeps the 32-character orderNumber', async () => {
        const data = playgroundPay();
        const body = envelope(data, { indent: 2 });

        const result = await postSigned(gateway.url, PAY, body, dotnetHeaders);

        const id = String(assertOk(result).transactionID);
        const query = envelope({ transactionID: id }, { indent: 2 });
        const status = assertOk(await postSigned(gateway.url, QUERY, query, dotnetHeaders));
        assert.equal(status.orderNumber, data.orderNumber);
      });
    });

    describe('POST /api/v1/transaction/payWithOption from the API playground', () => {
      it('creates the payment', async () => {
        const body = envelope(playgroundPayWithOption(), { indent: 2 });

        const result = await postSigned(gateway.url, PAY_WITH_OPTION, body, dotnetHeaders);

        assertOk(result);
      });
    });

    describe('POST /api/v1/transaction/checkout without net, fee and discount amounts (third-party modal page)', () => {
      it('creates the payment', async () => {
        const body = envelope(thirdPartyCheckout());

        const result = await postSigned(gateway.url, CHECKOUT, body);

        assertOk(result);
      });
    });

    describe("POST /api/v1/tokenization/createToken with the docs' example card 5506922400634930", () => {
      it('issues a token for the Mastercard it describes', async () => {
        const body = envelope({
          paymentMethod: 'INTERNATIONAL',
          cardNumber: '5506922400634930',
          cardHolderName: 'HUYNH HUU LOC',
          cardExpireDate: '01/39',
          cardVerificationValue: '100',
        });

        const result = await postSigned(gateway.url, CREATE_TOKEN, body);

        const data = assertOk(result);
        assert.equal(data.accountBrand, 'MASTER');
        assert.equal(data.accountNumber, '550692******4930');
        assert.match(String(data.token), /^[0-9A-F]{36}$/);
      });
    });
  });

  describe('bad input (Q5–Q10)', () => {
    const DAY = 24 * 60 * 60 * 1000;
    interface Row {
      what: string;
      path: string;
      build: () => { body: string; headers: Headers };
      status: number;
      field: string;
    }
    const signed = (body: string) => ({ body, headers: ourHeaders(body) });
    /** A checkout whose requestDateTime is `offsetMs` from now (GMT+7), as a string or `asSent`. */
    const stale = (
      what: string,
      offsetMs: number,
      asSent: (text: string) => string | number = String,
    ): Row => ({
      what,
      path: CHECKOUT,
      build: () => signed(envelope(checkoutData(), { requestDateTime: asSent(gmt7(offsetMs)) })),
      status: 408,
      field: 'requestDateTime',
    });
    /** A signed checkout body (JSON, or what `bodyOf` makes) sent with the headers `headersOf` gives. */
    const mediaType = (
      what: string,
      headersOf: (body: string) => Headers,
      bodyOf = () => envelope(checkoutData()),
    ): Row => ({
      what,
      path: CHECKOUT,
      build: () => {
        const body = bodyOf();
        return { body, headers: headersOf(body) };
      },
      status: 415,
      field: 'Content-Type',
    });
    const formBody = () =>
      new URLSearchParams({
        requestID: hex32(),
        requestDateTime: gmt7(),
        requestData: JSON.stringify(checkoutData()),
      }).toString();
    const table: Row[] = [
      stale('a requestDateTime two days old', -2 * DAY),
      stale('a requestDateTime a day ahead', DAY),
      stale('a requestDateTime 16 minutes old, as a JSON number', -16 * 60_000, Number),
      {
        what: 'a requestDateTime in UTC instead of GMT+7 (seven hours behind)',
        path: '/pay',
        build: () => {
          const body = envelope(dotnetOrder(), { requestDateTime: gmt7(-7 * 60 * 60_000) });
          return { body, headers: dotnetHeaders(body) };
        },
        status: 408,
        field: 'requestDateTime',
      },
      mediaType('Content-Type text/plain', body => ({
        ...ourHeaders(body),
        'content-type': 'text/plain',
      })),
      mediaType(
        'a form body',
        body => ({ ...ourHeaders(body), 'content-type': 'application/x-www-form-urlencoded' }),
        formBody,
      ),
      mediaType('no Content-Type', body => {
        const { 'content-type': _dropped, ...headers } = ourHeaders(body);
        return headers;
      }),
      {
        what: 'card fields without sourceOfFund on /api/v1/transaction/pay',
        path: PAY,
        build: () => signed(envelope(payData(CARD_NO_3DS))),
        status: 400,
        field: 'requestData.sourceOfFund',
      },
    ];

    for (const row of table) {
      it(`answers ${row.status} naming ${row.field} for ${row.what}, and creates nothing`, async () => {
        const { body, headers } = row.build();
        const before = (await transactions(gateway.url)).length;

        const result = await post(gateway.url, row.path, body, headers);

        assertRefused(result, row.status, row.field);
        assert.equal((await transactions(gateway.url)).length, before);
        const record = await lastRecord(gateway.url);
        assert.equal(record.rawBody, body);
        assert.deepEqual(
          [record.verdict.httpStatus, record.verdict.field],
          [row.status, row.field],
        );
      });
    }

    /** Posts two checkout bodies: the first is accepted, the second refused with `status` naming `field`. */
    async function assertAcceptedThenRefused(
      accepted: string,
      refused: string,
      status: number,
      field: string,
    ): Promise<void> {
      assertOk(await postSigned(gateway.url, CHECKOUT, accepted));
      assertRefused(await postSigned(gateway.url, CHECKOUT, refused), status, field);
    }

    describe('a requestID an accepted checkout used', () => {
      it('answers 409 naming requestID for a new orderID, and creates nothing', async () => {
        const requestID = hex32();
        const first = envelope(checkoutData(), { requestID });
        assertOk(await postSigned(gateway.url, CHECKOUT, first));
        const before = (await transactions(gateway.url)).length;
        const again = envelope(checkoutData(), { requestID });

        const result = await postSigned(gateway.url, CHECKOUT, again);

        assertRefused(result, 409, 'requestID');
        assert.equal(result.json.requestID, requestID);
        assert.equal((await transactions(gateway.url)).length, before);
      });

      it("answers 409 to the very same request again (the signer's re-send after a lost reply)", async () => {
        const body = envelope(checkoutData());
        assertOk(await postSigned(gateway.url, CHECKOUT, body));

        const result = await postSigned(gateway.url, CHECKOUT, body);

        assertRefused(result, 409, 'requestID');
      });
    });

    describe('an orderNumber longer than the documented 20 characters', () => {
      it('is accepted up to 50 characters and refused at 51', async () => {
        const fifty = envelope(checkoutData({ orderNumber: 'N'.repeat(50) }));
        const fiftyOne = envelope(checkoutData({ orderNumber: 'N'.repeat(51) }));

        await assertAcceptedThenRefused(fifty, fiftyOne, 400, 'requestData.orderNumber');
      });
    });

    describe('a requestID a refused call used', () => {
      it('is accepted on the corrected call, and is used from then on', async () => {
        const requestID = hex32();
        const bad = envelope(checkoutData({ orderCurrency: 'XXX' }), { requestID });
        const good = envelope(checkoutData(), { requestID });
        const third = envelope(checkoutData(), { requestID });

        const refused = await postSigned(gateway.url, CHECKOUT, bad);
        const accepted = await postSigned(gateway.url, CHECKOUT, good);
        const duplicate = await postSigned(gateway.url, CHECKOUT, third);

        assertRefused(refused, 400, 'orderCurrency');
        assertOk(accepted);
        assertRefused(duplicate, 409, 'requestID');
      });
    });

    describe('a requestID a query used', () => {
      it('is accepted again (a read is not a duplicate: the signer re-sends a query as it is)', async () => {
        const created = envelope(checkoutData());
        const id = String(assertOk(await postSigned(gateway.url, CHECKOUT, created)).transactionID);
        const query = envelope({ transactionID: id });

        const first = await postSigned(gateway.url, QUERY, query);
        const again = await postSigned(gateway.url, QUERY, query);
        const checkoutAgain = await postSigned(gateway.url, CHECKOUT, created);

        assertOk(first);
        assertOk(again);
        assertRefused(checkoutAgain, 409, 'requestID');
      });
    });

    describe('a requestDateTime off by the tolerance (15 minutes) or less', () => {
      for (const minutes of [-14, 14]) {
        it(`is accepted at ${minutes} minutes, refused at ${minutes + Math.sign(minutes) * 2}`, async () => {
          const near = envelope(checkoutData(), { requestDateTime: gmt7(minutes * 60_000) });
          const far = envelope(checkoutData(), {
            requestDateTime: gmt7((minutes + Math.sign(minutes) * 2) * 60_000),
          });

          await assertAcceptedThenRefused(near, far, 408, 'requestDateTime');
        });
      }
    });

    describe('an orderID an earlier payment used', () => {
      it('answers 409 naming orderID on /api/v1, where the legacy paths accept it', async () => {
        const orderID = randomUUID();
        const first = envelope(payData({ orderID }));
        assertOk(await postSigned(gateway.url, PAY, first));
        const again = envelope(payData({ orderID }));
        const legacy = envelope(dotnetOrder({ orderID }));

        const refused = await postSigned(gateway.url, PAY, again);
        const accepted = await postSigned(gateway.url, '/pay', legacy, dotnetHeaders);

        assertRefused(refused, 409, 'orderID');
        assertOk(accepted);
      });
    });
  });

  describe('options, each flipping its default (Q1–Q11)', () => {
    it('legacyPaths: false answers 404 on /pay, /payWithOption and /api/v1.0/Merchant/Pay', async () => {
      const body = envelope(dotnetOrder());
      assertOk(await postSigned(gateway.url, '/payWithOption', body, dotnetHeaders), 'default');

      await withSandbox({ legacyPaths: false }, async ({ url }) => {
        for (const path of ['/pay', '/payWithOption', '/api/v1.0/Merchant/Pay']) {
          const fresh = envelope(dotnetOrder());
          const result = await postSigned(url, path, fresh, dotnetHeaders);
          assert.equal(result.status, 404, `${path}: ${result.text}`);
        }
      });
    });

    it('orderNumberMaxLength: 20 (the documented length) refuses the playground orderNumber', async () => {
      const playground = envelope(playgroundPay(), { indent: 2 });
      assertOk(await postSigned(gateway.url, PAY, playground, dotnetHeaders));

      await withSandbox({ orderNumberMaxLength: 20 }, async ({ url }) => {
        const long = envelope(playgroundPay(), { indent: 2 });
        const short = envelope(playgroundPay({ orderNumber: 'N'.repeat(20) }), { indent: 2 });

        const refused = await postSigned(url, PAY, long, dotnetHeaders);
        const accepted = await postSigned(url, PAY, short, dotnetHeaders);

        assertRefused(refused, 400, 'requestData.orderNumber');
        assertOk(accepted);
      });
    });

    describe('requireCheckoutAmounts: true', () => {
      for (const field of ['orderNetAmount', 'orderFeeAmount', 'orderDiscountAmount']) {
        it(`refuses a checkout without ${field}`, async () => {
          const body = envelope(checkoutData({ [field]: undefined }));
          assertOk(await postSigned(gateway.url, CHECKOUT, body));

          await withSandbox({ requireCheckoutAmounts: true }, async ({ url }) => {
            const again = envelope(checkoutData({ [field]: undefined }));
            const result = await postSigned(url, CHECKOUT, again);
            assertRefused(result, 400, `requestData.${field}`);
          });
        });
      }
    });

    it('requestDateTimeToleranceMs: null accepts any requestDateTime; a number sets the window', async () => {
      await withSandbox({ requestDateTimeToleranceMs: null }, async ({ url }) => {
        const old = envelope(checkoutData(), { requestDateTime: '20230726175152' });
        assertOk(await postSigned(url, CHECKOUT, old));
      });
      await withSandbox({ requestDateTimeToleranceMs: 60_000 }, async ({ url }) => {
        const twoMinutes = envelope(checkoutData(), { requestDateTime: gmt7(-120_000) });
        const result = await postSigned(url, CHECKOUT, twoMinutes);
        assertRefused(result, 408, 'requestDateTime');
      });
    });

    it('requestDateTimeToleranceMs follows the injected clock, not the host clock', async () => {
      const clock = new Date(Date.now() - 3 * 24 * 60 * 60 * 1000);
      await withSandbox({ now: () => clock }, async ({ url }) => {
        const onClock = envelope(checkoutData(), { requestDateTime: formatGatewayDateTime(clock) });
        const onHost = envelope(checkoutData());

        assertOk(await postSigned(url, CHECKOUT, onClock));
        assertRefused(await postSigned(url, CHECKOUT, onHost), 408, 'requestDateTime');
      });
    });

    it('allowDuplicateRequestId: true accepts a requestID again with a new orderID', async () => {
      const reused = hex32();
      const one = envelope(checkoutData(), { requestID: reused });
      const two = envelope(checkoutData(), { requestID: reused });
      assertOk(await postSigned(gateway.url, CHECKOUT, one));
      assertRefused(await postSigned(gateway.url, CHECKOUT, two), 409, 'requestID');

      await withSandbox({ allowDuplicateRequestId: true }, async ({ url }) => {
        const requestID = hex32();
        const first = envelope(checkoutData(), { requestID });
        const second = envelope(checkoutData(), { requestID });

        assertOk(await postSigned(url, CHECKOUT, first));
        assertOk(await postSigned(url, CHECKOUT, second));
        assert.equal((await transactions(url)).length, 2);
      });
    });

    describe('duplicateOrderId', () => {
      it("'refuse' answers 409 on the legacy paths too (the Node sample's second payment)", async () => {
        await withSandbox({ duplicateOrderId: 'refuse' }, async ({ url }) => {
          const first = envelope(nodeOrder());
          const second = envelope(nodeOrder());
          assertOk(await postSigned(url, '/pay', first, nodeHeaders));

          const result = await postSigned(url, '/pay', second, nodeHeaders);

          assertRefused(result, 409, 'orderID');
        });
      });

      it("'allow' accepts a repeated orderID on /api/v1 too", async () => {
        await withSandbox({ duplicateOrderId: 'allow' }, async ({ url }) => {
          const orderID = randomUUID();
          const first = envelope(checkoutData({ orderID }));
          const second = envelope(checkoutData({ orderID }));

          assertOk(await postSigned(url, CHECKOUT, first));
          assertOk(await postSigned(url, CHECKOUT, second));
        });
      });
    });

    it('acceptAnyContentType: true accepts a signed JSON body sent as text/plain', async () => {
      const plain = (body: string) => ({ ...ourHeaders(body), 'content-type': 'text/plain' });
      const refused = envelope(checkoutData());
      assertRefused(
        await post(gateway.url, CHECKOUT, refused, plain(refused)),
        415,
        'Content-Type',
      );

      await withSandbox({ acceptAnyContentType: true }, async ({ url }) => {
        const body = envelope(checkoutData());

        assertOk(await post(url, CHECKOUT, body, plain(body)));
      });
    });

    describe('cardWithoutSourceOfFund', () => {
      it("'card' reads card fields on /api/v1/transaction/pay as a hosted card", async () => {
        await withSandbox({ cardWithoutSourceOfFund: 'card' }, async ({ url }) => {
          const body = envelope(payData(CARD_NO_3DS));

          const id = String(assertOk(await postSigned(url, PAY, body)).transactionID);

          assert.equal(
            (await inspect<TransactionView>(url, `transactions/${id}`)).state,
            'captured',
          );
        });
      });

      it("'refuse' refuses the .NET sample's hosted card on /pay", async () => {
        await withSandbox({ cardWithoutSourceOfFund: 'refuse' }, async ({ url }) => {
          const body = envelope(dotnetOrder({ paymentMethod: 'INTERNATIONAL', ...CARD_NO_3DS }));

          const result = await postSigned(url, '/pay', body, dotnetHeaders);

          assertRefused(result, 400, 'requestData.sourceOfFund');
        });
      });
    });

    it("blankFields: 'as-sent' validates the playground's \" \" fields as they are", async () => {
      const blank = envelope(playgroundPay({ orderNumber: '42' }), { indent: 2 });
      assertOk(await postSigned(gateway.url, PAY, blank, dotnetHeaders));

      await withSandbox({ blankFields: 'as-sent' }, async ({ url }) => {
        const body = envelope(playgroundPay(), { indent: 2 });

        const result = await postSigned(url, PAY, body, dotnetHeaders);

        assertRefused(result, 400, 'requestData.sourceOfFund');
      });
    });
  });

  describe('galaxy-pay-sandbox flags', () => {
    it('each flag sets its option', async () => {
      const args = [
        ...['--api-key', API_KEY, '--salt', SALT, '--port', '0'],
        ...['--no-legacy-paths', '--order-number-max', '20', '--require-checkout-amounts'],
        ...['--request-time-tolerance', 'off', '--allow-duplicate-request-id'],
        ...['--accept-any-content-type', '--card-without-source-of-fund', 'card'],
        ...['--blank-fields', 'as-sent', '--duplicate-order-id', 'allow'],
      ];
      await withCli(args, async url => {
        const call = (
          path: string,
          data: Record<string, unknown>,
          extra: Headers = {},
          when?: string,
        ) => {
          const body = envelope(data, when ? { requestDateTime: when } : {});
          return post(url, path, body, { ...ourHeaders(body), ...extra });
        };
        const requestID = hex32();
        const same = (data: Record<string, unknown>) => {
          const body = envelope(data, { requestID });
          return postSigned(url, CHECKOUT, body);
        };
        const orderID = randomUUID();

        assert.equal((await call('/pay', dotnetOrder())).status, 404, '--no-legacy-paths');
        assertRefused(
          await call(CHECKOUT, checkoutData({ orderNumber: 'N'.repeat(21) })),
          400,
          'requestData.orderNumber',
        );
        assertRefused(
          await call(CHECKOUT, checkoutData({ orderFeeAmount: undefined })),
          400,
          'requestData.orderFeeAmount',
        );
        assertOk(
          await call(CHECKOUT, checkoutData(), {}, '20230726175152'),
          '--request-time-tolerance off',
        );
        assertOk(await same(checkoutData()));
        assertOk(await same(checkoutData()), '--allow-duplicate-request-id');
        assertOk(
          await call(CHECKOUT, checkoutData(), { 'content-type': 'text/plain' }),
          '--accept-any-content-type',
        );
        assertOk(await call(PAY, payData(CARD_NO_3DS)), '--card-without-source-of-fund card');
        assertRefused(
          await call(PAY, playgroundPay({ orderNumber: 'N'.repeat(20) })),
          400,
          'requestData.sourceOfFund',
        );
        assertOk(await call(CHECKOUT, checkoutData({ orderID })));
        assertOk(await call(CHECKOUT, checkoutData({ orderID })), '--duplicate-order-id allow');
      });
    });

    it('refuses a bad --request-time-tolerance or --card-without-source-of-fund', async () => {
      for (const [flag, value, expected] of [
        ['--request-time-tolerance', 'soon', /--request-time-tolerance must be seconds or "off"/],
        ['--card-without-source-of-fund', 'maybe', /--card-without-source-of-fund must be one of/],
        ['--order-number-max', '0', /--order-number-max must be a whole number/],
      ] as const) {
        const { code, stderr } = await cliExit(
          runCli(['--api-key', API_KEY, '--salt', SALT, flag, value]),
        );
        assert.equal(code, 2, flag);
        assert.match(stderr, expected);
      }
    });
  });
});
