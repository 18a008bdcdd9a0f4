import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  CallbackError,
  formatGatewayDateTime,
  newRequestId,
  serializeAndSign,
  signatureMatches,
  verifyCallback,
  verifyResponseSignature,
  type CallbackEnvelope,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import type { IpnAttempt } from './ledger.js';
import {
  API_KEY,
  CARD_3DS,
  CARD_NO_3DS,
  SALT,
  callApi,
  checkoutData,
  completePayment,
  eventually,
  inspect,
  ipnBarrier,
  payData,
  paymentLinkData,
  useMerchant,
  useSandbox,
  type IpnAnswer,
  type Merchant,
} from './test-support.js';

const CHECKOUT = 'api/v1/transaction/checkout';
const PAY = 'api/v1/transaction/pay';
const PAY_WITH_OPTION = 'api/v1/transaction/payWithOption';
const QUERY = 'api/v1/transaction/query';
const CREATE_LINK = 'api/v1/transaction/createPaymentLink';

/** What a test sees of a transaction through `/__sandbox/transactions/:id`. */
interface TransactionView {
  transactionID: string;
  orderID: string;
  state: string;
  resultCode: string;
  callbacks: unknown[];
}

function merchantUrls(merchant: Merchant) {
  return {
    successURL: `${merchant.url}/success`,
    failureURL: `${merchant.url}/failure`,
    cancelURL: `${merchant.url}/cancel`,
    ipnURL: `${merchant.url}/ipn`,
  };
}

/** Creates a payment and returns its id and hosted-page endpoint. */
async function createPayment(
  baseUrl: string,
  path: string,
  data: Record<string, unknown>,
): Promise<{ transactionID: string; endpoint: string }> {
  const reply = await callApi(baseUrl, path, data);
  assert.equal(reply.status, 200, reply.text);
  const { transactionID, endpoint } = reply.json.responseData as {
    transactionID: string;
    endpoint: string;
  };
  return { transactionID, endpoint };
}

async function queryStatus(baseUrl: string, transactionID: string) {
  const reply = await callApi(baseUrl, QUERY, { transactionID });
  assert.equal(reply.status, 200, reply.text);
  return reply.json.responseData as {
    transactionStatus: string;
    orderAmount: string;
    orderCurrency: string;
  };
}

async function transactionView(baseUrl: string, transactionID: string) {
  return inspect<TransactionView>(baseUrl, `transactions/${transactionID}`);
}

async function ipnAttempts(baseUrl: string, query: string) {
  return inspect<IpnAttempt[]>(baseUrl, `ipn?${query}`);
}

/** A signed API request sent with plain fetch, for tests that need the raw response stream. */
function signedFetch(
  baseUrl: string,
  path: string,
  requestData: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Response> {
  const { body, signature } = serializeAndSign(
    {
      requestID: newRequestId(),
      requestDateTime: formatGatewayDateTime(new Date()),
      requestData,
    },
    SALT,
  );
  return fetch(`${baseUrl}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: API_KEY, signature },
    body,
    signal,
  });
}

// ---- Hosted pages, read as a browser would ---------------------------------------------------------

interface Page {
  url: string;
  status: number;
  headers: Headers;
  html: string;
}

async function getPage(url: string): Promise<Page> {
  const res = await fetch(url, { redirect: 'manual' });
  return { url, status: res.status, headers: res.headers, html: await res.text() };
}

function unescapeHtml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => named[name]!);
}

function attributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([\w-]+)="([^"]*)"/g)) {
    attrs[name!] = unescapeHtml(value!);
  }
  return attrs;
}

interface HtmlForm {
  method: string;
  action: string;
  /** Every named control: input, select, textarea, button. */
  names: string[];
  /** Values of hidden inputs, as a browser would send them. */
  hidden: Record<string, string>;
}

function formsOf(html: string): HtmlForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, open, inner]) => {
    const attrs = attributes(open!);
    const names: string[] = [];
    const hidden: Record<string, string> = {};
    for (const [tag] of inner!.matchAll(/<(?:input|select|textarea|button)\b[^>]*>/g)) {
      const control = attributes(tag);
      if (control.name === undefined) continue;
      names.push(control.name);
      if (control.type === 'hidden') hidden[control.name] = control.value ?? '';
    }
    return { method: attrs.method ?? 'get', action: attrs.action ?? '', names, hidden };
  });
}

/**
 * Submits the page's form whose action ends in `/<step>`, as a browser would: hidden fields plus the
 * typed values, form-encoded, to the action the HTML names. Every typed field must exist in that form.
 */
async function submit(
  page: Page,
  step: string,
  typed: Record<string, string> = {},
): Promise<Response> {
  const form = formsOf(page.html).find(f =>
    new URL(f.action, page.url).pathname.endsWith(`/${step}`),
  );
  assert.ok(form, `the page at ${page.url} has no form for /${step}`);
  assert.equal(form.method, 'post');
  for (const name of Object.keys(typed)) {
    assert.ok(form.names.includes(name), `the /${step} form has no field "${name}"`);
  }
  return fetch(new URL(form.action, page.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.hidden, ...typed }).toString(),
    redirect: 'manual',
  });
}

/** Opens a method-choice page and follows the link for one method. */
async function chooseMethod(endpoint: string, method: string): Promise<Page> {
  const choice = await getPage(endpoint);
  assert.equal(choice.status, 200);
  const href = [...choice.html.matchAll(/<a\b[^>]*>/g)]
    .map(([tag]) => attributes(tag).href)
    .find(h => h !== undefined && new URL(h, endpoint).searchParams.get('method') === method);
  assert.ok(href, `no link for ${method} on the method choice`);
  return getPage(new URL(href, endpoint).href);
}

/** Follows a 303 that stays on the sandbox (card → OTP step). */
async function follow(res: Response, from: string): Promise<Page> {
  assert.equal(res.status, 303);
  const location = res.headers.get('location')!;
  assert.ok(!/^https?:/.test(location) || location.startsWith(new URL(from).origin), location);
  return getPage(new URL(location, from).href);
}

/** The callback in a GET redirect: a 303 to `url` with `data` and `signature` in the query. */
function redirectCallback(res: Response, url: string): CallbackEnvelope {
  assert.equal(res.status, 303, 'expected a 303 to the merchant');
  const location = res.headers.get('location')!;
  assert.ok(location.startsWith(`${url}?`), `redirected to ${location}, not ${url}`);
  const params = new URL(location).searchParams;
  return { data: params.get('data') ?? '', signature: params.get('signature') ?? '' };
}

/** The callback in a form POST page: a form to `url` with hidden data and signature, sent by a script file. */
function formCallback(status: number, headers: Headers, html: string, url: string) {
  assert.equal(status, 200);
  assert.match(headers.get('content-type') ?? '', /^text\/html/);
  const form = formsOf(html).find(f => f.action === url);
  assert.ok(form, `no form posting to ${url}`);
  assert.equal(form.method, 'post');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.deepEqual(
    scripts.map(([, attrs, body]) => [attributes(attrs!).src, body!.trim()]),
    [['/__assets/autosubmit.js', '']],
    'exactly one script, from a file, and no inline script',
  );
  assert.doesNotMatch(headers.get('content-security-policy') ?? '', /unsafe-inline/);
  return { data: form.hidden.data ?? '', signature: form.hidden.signature ?? '' };
}

/** The merchant's IPNs, verified and decoded. */
function verifiedIpns(merchant: Merchant): TransactionCallback[] {
  return merchant.ipns().map(hit => {
    assert.match(hit.contentType ?? '', /^application\/json/);
    return verifyCallback(JSON.parse(hit.body) as CallbackEnvelope, SALT) as TransactionCallback;
  });
}

/** Waits until the merchant has at least `count` IPNs, then returns them all, verified. */
async function receivedIpns(merchant: Merchant, count: number): Promise<TransactionCallback[]> {
  await eventually(() => merchant.ipns().length >= count);
  return verifiedIpns(merchant);
}

/** Finishes a payment through the inspection API; by default it answers once the IPN is delivered. */
async function completeByApi(
  baseUrl: string,
  transactionID: string,
  body: Record<string, unknown>,
  query = '?wait=ipn',
) {
  const { status, text } = await completePayment(baseUrl, transactionID, body, query);
  return {
    status,
    json: JSON.parse(text) as {
      transaction?: TransactionView;
      callback?: { location: string; envelope: CallbackEnvelope } | null;
      error?: { code: string };
    },
  };
}

const DOMESTIC_CARD = {
  cardNumber: '9704000000000018',
  cardHolderName: 'NGUYEN VAN A',
  cardIssueDate: '03/07',
  sourceType: 'VIETCOMBANK',
};
const CARD_DECLINED = { ...CARD_3DS, cardNumber: '4000000000000002' };

describe('sandbox flows over HTTP', () => {
  const sandbox = useSandbox();
  const merchant = useMerchant({ each: true });

  /** Creates a payment and opens its hosted page: the method choice, or the page for `method`. */
  async function openPage(
    path: string,
    data: Record<string, unknown>,
    method?: string,
    baseUrl = sandbox.url,
  ) {
    const { transactionID, endpoint } = await createPayment(baseUrl, path, data);
    const page = method ? await chooseMethod(endpoint, method) : await getPage(endpoint);
    return { transactionID, endpoint, page };
  }

  /** `openPage` for a payment that names the merchant's callback URLs. */
  async function openPayment(
    path: typeof CHECKOUT | typeof PAY,
    method?: string,
    overrides: Record<string, unknown> = {},
    baseUrl = sandbox.url,
  ) {
    const urls = merchantUrls(merchant);
    const data = { ...(path === PAY ? payData(urls) : checkoutData(urls)), ...overrides };
    return { urls, ...(await openPage(path, data, method, baseUrl)) };
  }

  /** Submits a card that asks for the OTP step and follows to the OTP page. */
  async function otpPageAfter(cardPage: Page, card: Record<string, string>): Promise<Page> {
    return follow(await submit(cardPage, 'card', card), cardPage.url);
  }

  describe('GET /{checkout,payWithOption,pay}/:id (hosted pages)', () => {
    it('shows the method choice in Vietnamese by default for checkout', async () => {
      const { endpoint, page } = await openPage(CHECKOUT, checkoutData());

      assert.equal(page.status, 200);
      assert.ok(endpoint.startsWith(`${sandbox.url}/checkout/`), endpoint);
      assert.match(page.html, /Chọn phương thức thanh toán/);
      assert.match(page.html, /<html lang="vi">/);
      for (const method of ['DOMESTIC', 'INTERNATIONAL', 'WALLET', 'QRPAY']) {
        assert.match(page.html, new RegExp(`\\?method=${method}&amp;lang=vi`));
      }
    });

    it('shows the method choice for payWithOption too', async () => {
      const { endpoint, page } = await openPage(
        PAY_WITH_OPTION,
        payData({ paymentMethod: undefined, language: 'vi' }),
      );

      assert.ok(endpoint.startsWith(`${sandbox.url}/payWithOption/`), endpoint);
      assert.equal(page.status, 200);
      assert.match(page.html, /Chọn phương thức thanh toán/);
    });

    it('switches to English with ?lang=en', async () => {
      const { endpoint } = await createPayment(sandbox.url, CHECKOUT, checkoutData());

      const page = await getPage(`${endpoint}?lang=en`);

      assert.match(page.html, /Choose how to pay/);
      assert.doesNotMatch(page.html, /Chọn phương thức thanh toán/);
    });

    it('speaks English when the request asked for language "en"', async () => {
      const { page } = await openPage(CHECKOUT, checkoutData({ language: 'en' }));

      assert.match(page.html, /Choose how to pay/);
      assert.match(page.html, /<html lang="en">/);
    });

    it('goes straight to the card form for an INTERNATIONAL pay', async () => {
      const { page } = await openPage(PAY, payData());

      assert.equal(page.status, 200);
      assert.doesNotMatch(page.html, /Choose how to pay/);
      const card = formsOf(page.html).find(f => f.action.includes('/card'));
      assert.ok(card, 'a card form');
      for (const name of [
        'cardNumber',
        'cardHolderName',
        'cardExpireDate',
        'cardVerificationValue',
      ]) {
        assert.ok(card.names.includes(name), name);
      }
      assert.equal(card.hidden.paymentMethod, 'INTERNATIONAL');
    });

    it('is framable: CSP frame-ancestors * and no X-Frame-Options', async () => {
      const { page } = await openPage(CHECKOUT, checkoutData());

      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors \*/);
      assert.match(csp, /default-src 'self'/);
      assert.equal(page.headers.get('x-frame-options'), null);
    });

    it("refuses framing with the deny-framing fault: frame-ancestors 'none' and X-Frame-Options DENY", async () => {
      const { page } = await openPage(
        CHECKOUT,
        checkoutData({ orderDescription: 'Order 1 sandbox:deny-framing' }),
      );

      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
    });

    it('renders an HTML-injection orderDescription as text', async () => {
      const { page } = await openPage(
        CHECKOUT,
        checkoutData({ orderDescription: '<img src=x onerror=alert(1)>' }),
      );

      assert.match(page.html, /&lt;img src=x onerror=alert\(1\)&gt;/);
      assert.doesNotMatch(page.html, /<img/);
    });

    it('answers 404 for an unknown transaction, or one opened under the wrong kind', async () => {
      const { transactionID } = await createPayment(sandbox.url, CHECKOUT, checkoutData());

      const unknown = await getPage(`${sandbox.url}/checkout/2601010000000000000000000`);
      const wrongKind = await getPage(`${sandbox.url}/pay/${transactionID}`);

      assert.equal(unknown.status, 404);
      assert.match(unknown.html, /Không tìm thấy giao dịch/);
      assert.equal(wrongKind.status, 404);
    });
  });

  describe('GET and POST /checkout/:id once the transaction has expired', () => {
    let clock: Date;
    const clockSandbox = useSandbox(() => {
      clock = new Date();
      return { now: () => clock, transactionTtlMs: 60_000 };
    });

    it('shows the expired page, and a card submitted from a stale form neither pays nor is recorded', async () => {
      const {
        transactionID,
        endpoint,
        page: cardPage,
      } = await openPayment(CHECKOUT, 'DOMESTIC', {}, clockSandbox.url);

      clock = new Date(clock.getTime() + 61_000);
      const res = await submit(cardPage, 'card', DOMESTIC_CARD);
      const expired = await getPage(endpoint);
      await ipnBarrier(clockSandbox.url, merchant);

      assert.ok(!(res.headers.get('location') ?? '').startsWith(merchant.url));
      assert.equal(expired.status, 200);
      assert.match(expired.html, /Giao dịch đã hết hạn/);
      assert.equal(formsOf(expired.html).length, 0);
      assert.equal((await queryStatus(clockSandbox.url, transactionID)).transactionStatus, '408');
      const view = await inspect<TransactionView & { account?: unknown; sourceType?: unknown }>(
        clockSandbox.url,
        `transactions/${transactionID}`,
      );
      assert.equal(view.state, 'expired');
      assert.equal(view.account, undefined, 'card details recorded on an expired transaction');
      assert.equal(view.sourceType, undefined);
      assert.equal(merchant.ipns().length, 0);
    });
  });

  describe('POST /:kind/:id/{card,otp,cancel} (card flows)', () => {
    /** Everything a finished flow must show: callback, verified data, query and IPN agree. */
    async function assertOutcome(
      transactionID: string,
      envelope: CallbackEnvelope,
      code: string,
    ): Promise<void> {
      const decoded = verifyCallback(envelope, SALT) as TransactionCallback;
      assert.equal(decoded.responseCode, code);
      assert.equal(decoded.responseData.transactionID, transactionID);

      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, code);

      const [ipn] = await receivedIpns(merchant, 1);
      assert.equal(ipn!.responseCode, code);
      assert.equal(ipn!.responseData.transactionID, transactionID);
    }

    /** Submitting the last form again must not act a second time. */
    async function assertActsOnce(
      transactionID: string,
      again: Response,
      code: string,
    ): Promise<void> {
      const location = again.headers.get('location') ?? '';
      assert.ok(!location.startsWith(merchant.url), `sent to the merchant again: ${location}`);
      assert.doesNotMatch(await again.text(), /id="callback"/);

      const view = await transactionView(sandbox.url, transactionID);
      assert.equal(view.callbacks.length, 1);
      assert.equal(view.resultCode, code);
      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, code);
      await ipnBarrier(sandbox.url, merchant);
      assert.equal(merchant.ipns().length, 1);
    }

    it('pays with the NAPAS card after the OTP step', async () => {
      const { urls, transactionID, page: cardPage } = await openPayment(CHECKOUT, 'DOMESTIC');

      const otpPage = await otpPageAfter(cardPage, DOMESTIC_CARD);
      assert.equal(otpPage.status, 200);
      assert.match(otpPage.html, /Xác thực OTP/);
      const done = await submit(otpPage, 'otp', { otp: 'otp' });

      await assertOutcome(transactionID, redirectCallback(done, urls.successURL), '200');
      await assertActsOnce(transactionID, await submit(otpPage, 'otp', { otp: 'otp' }), '200');
    });

    it('pays with the 3-D Secure card after the OTP step', async () => {
      const { urls, transactionID, page: cardPage } = await openPayment(CHECKOUT, 'INTERNATIONAL');

      const otpPage = await otpPageAfter(cardPage, CARD_3DS);
      assert.match(otpPage.html, /name="otp"/);
      const done = await submit(otpPage, 'otp', { otp: 'otp' });

      await assertOutcome(transactionID, redirectCallback(done, urls.successURL), '200');
      await assertActsOnce(transactionID, await submit(cardPage, 'card', CARD_3DS), '200');
    });

    it('pays at once with the card without 3-D Secure', async () => {
      const { urls, transactionID, page: cardPage } = await openPayment(PAY);

      const done = await submit(cardPage, 'card', CARD_NO_3DS);

      await assertOutcome(transactionID, redirectCallback(done, urls.successURL), '200');
      await assertActsOnce(transactionID, await submit(cardPage, 'card', CARD_NO_3DS), '200');
    });

    it('fails with 505 for the declined card', async () => {
      const { urls, transactionID, page: cardPage } = await openPayment(PAY);

      const done = await submit(cardPage, 'card', CARD_DECLINED);

      await assertOutcome(transactionID, redirectCallback(done, urls.failureURL), '505');
      await assertActsOnce(transactionID, await submit(cardPage, 'card', CARD_NO_3DS), '505');
    });

    it('fails with 505 for a wrong OTP', async () => {
      const { urls, transactionID, page: cardPage } = await openPayment(CHECKOUT, 'DOMESTIC');
      const otpPage = await otpPageAfter(cardPage, DOMESTIC_CARD);

      const done = await submit(otpPage, 'otp', { otp: '000000' });

      await assertOutcome(transactionID, redirectCallback(done, urls.failureURL), '505');
      await assertActsOnce(transactionID, await submit(otpPage, 'otp', { otp: 'otp' }), '505');
    });

    for (const [what, card] of [
      ['a card number that is not a test card', { ...CARD_NO_3DS, cardNumber: '4111111111111111' }],
      ['a wrong CVV', { ...CARD_3DS, cardVerificationValue: '999' }],
      ['a wrong expiry date', { ...CARD_NO_3DS, cardExpireDate: '02/39' }],
    ] as const) {
      it(`re-renders the card form with an error for ${what} and keeps the payment open`, async () => {
        const { transactionID, page: cardPage } = await openPayment(PAY);

        const res = await submit(cardPage, 'card', card);
        const html = await res.text();

        assert.equal(res.status, 400);
        assert.match(html, /class="error" role="alert"/);
        assert.ok(
          formsOf(html).some(f => f.names.includes('cardNumber')),
          'the card form again',
        );
        assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, '102');
        assert.equal((await transactionView(sandbox.url, transactionID)).state, 'processing');
        await ipnBarrier(sandbox.url, merchant);
        assert.equal(merchant.ipns().length, 0);
      });
    }

    it('cancels with 499 from the cancel button', async () => {
      const { urls, transactionID, page: choice } = await openPayment(CHECKOUT);

      const done = await submit(choice, 'cancel');

      await assertOutcome(transactionID, redirectCallback(done, urls.cancelURL), '499');
      await assertActsOnce(transactionID, await submit(choice, 'cancel'), '499');
    });

    it('sends the browser back by form POST with the callback:post fault', async () => {
      const {
        urls,
        transactionID,
        page: choice,
      } = await openPayment(CHECKOUT, undefined, {
        orderDescription: 'Order sandbox:callback:post',
      });

      const done = await submit(choice, 'cancel');
      const envelope = formCallback(done.status, done.headers, await done.text(), urls.cancelURL);

      await assertOutcome(transactionID, envelope, '499');
    });

    it('serves the auto-submit script the callback page loads', async () => {
      const res = await fetch(`${sandbox.url}/__assets/autosubmit.js`);
      const script = await res.text();

      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /javascript/);
      assert.match(script, /getElementById\('callback'\)/);
      assert.match(script, /\.submit\(\)/);
    });

    describe('with callbackMethod POST', () => {
      const postSandbox = useSandbox({ callbackMethod: 'POST' });

      it('sends the result by an auto-submitted form holding data and signature', async () => {
        const {
          urls,
          transactionID,
          page: cardPage,
        } = await openPayment(PAY, undefined, {}, postSandbox.url);

        const done = await submit(cardPage, 'card', CARD_NO_3DS);
        const envelope = formCallback(
          done.status,
          done.headers,
          await done.text(),
          urls.successURL,
        );

        const decoded = verifyCallback(envelope, SALT) as TransactionCallback;
        assert.equal(decoded.responseCode, '200');
        assert.equal(decoded.responseData.transactionID, transactionID);
        assert.equal((await queryStatus(postSandbox.url, transactionID)).transactionStatus, '200');
        const [ipn] = await receivedIpns(merchant, 1);
        assert.equal(ipn!.responseCode, '200');
      });

      it('redirects by GET for an order with the callback:get fault', async () => {
        const { urls, page: cardPage } = await openPayment(
          PAY,
          undefined,
          { orderDescription: 'Order sandbox:callback:get' },
          postSandbox.url,
        );

        const done = await submit(cardPage, 'card', CARD_DECLINED);

        const decoded = verifyCallback(redirectCallback(done, urls.failureURL), SALT);
        assert.equal(decoded.responseCode, '505');
      });
    });
  });

  describe('IPN delivery with ipnRetryDelaysMs [50, 100, 200] and a 300 ms timeout', () => {
    const DELAYS = [50, 100, 200] as const;
    const ipnSandbox = useSandbox({ ipnRetryDelaysMs: DELAYS, ipnTimeoutMs: 300 });

    /** Pays a fresh order through the inspection API and waits until its IPN delivery settles. */
    async function payAndDeliver(): Promise<IpnAttempt[]> {
      const { transactionID } = await createPayment(
        ipnSandbox.url,
        CHECKOUT,
        checkoutData({ ipnURL: `${merchant.url}/ipn` }),
      );
      const finished = await completeByApi(ipnSandbox.url, transactionID, { outcome: 'success' });
      assert.equal(finished.status, 200);
      return ipnAttempts(ipnSandbox.url, `transactionID=${transactionID}`);
    }

    /** Attempts count 1..n, share one deliveryId, and carry the envelope the merchant received. */
    function assertOneDelivery(attempts: IpnAttempt[]): void {
      assert.deepEqual(
        attempts.map(a => a.attempt),
        attempts.map((_a, i) => i + 1),
      );
      assert.equal(new Set(attempts.map(a => a.deliveryId)).size, 1);
      const received = merchant.ipns().map(hit => JSON.parse(hit.body) as CallbackEnvelope);
      assert.equal(received.length, attempts.length);
      for (const [i, attempt] of attempts.entries()) {
        assert.deepEqual(attempt.envelope, received[i]);
        assert.equal(verifyCallback(attempt.envelope, SALT).responseCode, '200');
      }
    }

    /** Milliseconds between the starts of successive attempts. */
    function gaps(attempts: IpnAttempt[]): number[] {
      return attempts.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(attempts[i]!.at));
    }

    const answer = (status: number, body: unknown) => ({
      status,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const ack = answer(200, { ipnStatus: '200', ipnDescription: 'ok' });

    /** The merchant answers the first attempt with `first`, then acknowledges: two attempts, one delivery. */
    async function deliveredAfterRetry(
      first: ReturnType<IpnAnswer>,
    ): Promise<[IpnAttempt, IpnAttempt]> {
      merchant.setIpnAnswer(n => (n === 1 ? first : ack));

      const attempts = await payAndDeliver();

      assert.equal(attempts.length, 2);
      assertOneDelivery(attempts);
      return attempts as [IpnAttempt, IpnAttempt];
    }

    it('retries after HTTP 500 twice and stops at the acknowledgement, waiting the configured delays', async () => {
      merchant.setIpnAnswer(n => (n <= 2 ? answer(500, 'boom') : ack));

      const attempts = await payAndDeliver();

      assert.equal(attempts.length, 3);
      assertOneDelivery(attempts);
      assert.deepEqual(
        attempts.map(a => [a.answer?.httpStatus, a.acknowledged]),
        [
          [500, false],
          [500, false],
          [200, true],
        ],
      );
      assert.equal(attempts[0]!.answer?.body, 'boom');
      assert.equal(attempts[2]!.answer?.ipnStatus, '200');
      const [first, second] = gaps(attempts);
      assert.ok(first! >= DELAYS[0], `first gap ${first} ms`);
      assert.ok(second! >= DELAYS[1], `second gap ${second} ms`);
    });

    it('retries after ipnStatus "404"', async () => {
      const [first] = await deliveredAfterRetry(answer(200, { ipnStatus: '404' }));

      assert.equal(first.answer?.ipnStatus, '404');
      assert.equal(first.acknowledged, false);
    });

    it('stops after ipnStatus "409"', async () => {
      merchant.setIpnAnswer(() => answer(200, { ipnStatus: '409', ipnDescription: 'done' }));

      // The delivery has settled (payAndDeliver waits for it): no retry can follow.
      const attempts = await payAndDeliver();

      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]!.acknowledged, true);
      assert.equal(merchant.ipns().length, 1);
    });

    it('retries after a 200 whose body is not JSON', async () => {
      const [first] = await deliveredAfterRetry(answer(200, 'OK'));

      assert.equal(first.answer?.httpStatus, 200);
      assert.equal(first.answer?.ipnStatus, undefined);
      assert.equal(first.acknowledged, false);
    });

    it('retries after ipnStatus "200" sent with a non-2xx status', async () => {
      const [first] = await deliveredAfterRetry(answer(503, { ipnStatus: '200' }));

      assert.equal(first.acknowledged, false);
    });

    it('times out a hanging merchant and retries', async () => {
      const attempts = await deliveredAfterRetry('hang');

      assert.equal(attempts[0].error, 'timeout');
      assert.equal(attempts[0].answer, undefined);
      assert.equal(attempts[1].acknowledged, true);
      const [gap] = gaps(attempts);
      assert.ok(gap! >= 300 + DELAYS[0], `gap ${gap} ms after a 300 ms timeout`);
    });

    it('retries after a connection reset', async () => {
      const [first, second] = await deliveredAfterRetry('reset');

      assert.ok(first.error, 'the reset is recorded');
      assert.notEqual(first.error, 'timeout');
      assert.equal(second.acknowledged, true);
    });

    it('gives up after delays.length + 1 attempts when the merchant never acknowledges', async () => {
      merchant.setIpnAnswer(() => answer(500, 'still down'));

      // The delivery has settled (payAndDeliver waits for it): it has run out of attempts.
      const attempts = await payAndDeliver();

      assert.equal(attempts.length, DELAYS.length + 1);
      assertOneDelivery(attempts);
      assert.ok(attempts.every(a => !a.acknowledged));
      assert.equal(merchant.ipns().length, DELAYS.length + 1);
      const later = await ipnAttempts(
        ipnSandbox.url,
        `transactionID=${attempts[0]!.transactionID!}`,
      );
      assert.equal(later.length, DELAYS.length + 1);
      gaps(attempts).forEach((gap, i) => assert.ok(gap >= DELAYS[i]!, `gap ${i}: ${gap} ms`));
    });
  });

  describe('flow faults in orderDescription', () => {
    /** Pays a fresh INTERNATIONAL order with the non-3DS card on the hosted page. */
    async function payOnPage(description: string) {
      const {
        urls,
        transactionID,
        page: cardPage,
      } = await openPayment(PAY, undefined, {
        orderDescription: description,
      });
      const submittedAt = Date.now();
      const res = await submit(cardPage, 'card', CARD_NO_3DS);
      const redirectedAt = Date.now();
      return { transactionID, res, urls, submittedAt, redirectedAt };
    }

    it('dup:3 sends three IPNs with identical data', async () => {
      const { transactionID } = await payOnPage('Order sandbox:dup:3');

      // The third copy is recorded only once answered: a fourth would start then, before the marker.
      await eventually(
        async () => (await ipnAttempts(sandbox.url, `transactionID=${transactionID}`)).length >= 3,
      );
      await ipnBarrier(sandbox.url, merchant);

      const bodies = merchant.ipns().map(hit => hit.body);
      assert.equal(bodies.length, 3);
      assert.equal(new Set(bodies).size, 1);
      assert.ok(verifiedIpns(merchant).every(ipn => ipn.responseCode === '200'));
      const attempts = await ipnAttempts(sandbox.url, `transactionID=${transactionID}`);
      assert.equal(new Set(attempts.map(a => a.deliveryId)).size, 3);
    });

    it('late:0.3 delivers the IPN at least 300 ms after the redirect', async () => {
      const { res, urls, submittedAt, redirectedAt } = await payOnPage('Order sandbox:late:0.3');
      redirectCallback(res, urls.successURL);
      assert.equal(merchant.ipns().length, 0, 'no IPN when the browser is redirected');

      const ipn = await eventually(() => merchant.ipns()[0]);

      // The delay starts when the payment ends, a moment before the 303 reaches the browser.
      assert.ok(ipn.at - submittedAt >= 300, `${ipn.at - submittedAt} ms after submitting`);
      assert.ok(ipn.at - redirectedAt >= 250, `${ipn.at - redirectedAt} ms after the redirect`);
      assert.equal(verifiedIpns(merchant)[0]!.responseCode, '200');
    });

    it('no-ipn redirects the browser but never notifies the merchant', async () => {
      const { transactionID, res, urls } = await payOnPage('Order sandbox:no-ipn');

      const decoded = verifyCallback(redirectCallback(res, urls.successURL), SALT);
      await ipnBarrier(sandbox.url, merchant);

      assert.equal(decoded.responseCode, '200');
      assert.equal(merchant.ipns().length, 0);
      assert.deepEqual(await ipnAttempts(sandbox.url, `transactionID=${transactionID}`), []);
      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, '200');
    });

    it('reorder sends a verified 505 IPN, then a 200 one, and query says 200', async () => {
      const { transactionID } = await payOnPage('Order sandbox:reorder');

      const ipns = await receivedIpns(merchant, 2);

      assert.deepEqual(
        ipns.map(ipn => [ipn.responseCode, ipn.responseData.transactionID]),
        [
          ['505', transactionID],
          ['200', transactionID],
        ],
      );
      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, '200');
    });

    for (const [token, field, expected] of [
      ['amount:+1', 'orderAmount', '100001'],
      ['amount:-5', 'orderAmount', '99995'],
      ['currency:USD', 'orderCurrency', 'USD'],
    ] as const) {
      it(`${token} signs an IPN and a redirect whose ${field} disagrees with the order`, async () => {
        const { transactionID, res, urls } = await payOnPage(`Order sandbox:${token}`);

        const redirect = verifyCallback(
          redirectCallback(res, urls.successURL),
          SALT,
        ) as TransactionCallback;
        const [ipn] = await receivedIpns(merchant, 1);
        const truth = await queryStatus(sandbox.url, transactionID);

        assert.equal(redirect.responseData[field], expected);
        assert.equal(ipn!.responseData[field], expected);
        assert.deepEqual([truth.orderAmount, truth.orderCurrency], ['100000', 'VND']);
      });
    }

    it('status:authorized reports responseCode 200 with transactionStatus 202', async () => {
      const { transactionID, res, urls } = await payOnPage('Order sandbox:status:authorized');

      const redirect = verifyCallback(
        redirectCallback(res, urls.successURL),
        SALT,
      ) as TransactionCallback;
      const [ipn] = await receivedIpns(merchant, 1);

      for (const decoded of [redirect, ipn!]) {
        assert.equal(decoded.responseCode, '200');
        assert.equal(decoded.responseData.transactionStatus, '202');
      }
      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, '202');
    });

    it('proto-pollution signs data that verifyCallback refuses as invalid_payload, leaving Object.prototype clean', async () => {
      const { res, urls } = await payOnPage('Order sandbox:proto-pollution');
      const redirect = redirectCallback(res, urls.successURL);
      const hit = await eventually(() => merchant.ipns()[0]);
      const ipn = JSON.parse(hit.body) as CallbackEnvelope;

      for (const envelope of [redirect, ipn]) {
        assert.ok(signatureMatches(envelope.data, envelope.signature, SALT));
        assert.match(Buffer.from(envelope.data, 'base64').toString('utf8'), /"__proto__":/);
        assert.throws(
          () => verifyCallback(envelope, SALT),
          (error: unknown) =>
            error instanceof CallbackError && error.code === 'invalid_payload' && error.signed,
        );
      }
      assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('plus-unencoded puts a raw + in the redirect, which form parsing turns into a space', async () => {
      const { res, urls } = await payOnPage('Order sandbox:plus-unencoded');

      assert.equal(res.status, 303);
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${urls.successURL}?`), location);
      const raw = /[?&]data=([^&]*)/.exec(location)![1]!;
      const signature = new URL(location).searchParams.get('signature')!;
      assert.match(raw, /\+/);
      assert.equal(verifyCallback({ data: raw, signature }, SALT).responseCode, '200');

      const parsed = new URLSearchParams(new URL(location).search).get('data')!;
      assert.match(parsed, / /);
      assert.throws(
        () => verifyCallback({ data: parsed, signature }, SALT),
        (error: unknown) => error instanceof CallbackError && error.code === 'invalid_signature',
      );
      const [ipn] = await receivedIpns(merchant, 1);
      assert.equal(ipn!.responseCode, '200');
    });

    it('ipn-first delivers the IPN before the checkout reply', async () => {
      let replyReceived = false;
      let ipnBeforeReply: boolean | undefined;
      merchant.setIpnAnswer(() => {
        ipnBeforeReply ??= !replyReceived;
        return { status: 200, body: JSON.stringify({ ipnStatus: '200' }) };
      });

      const reply = await callApi(
        sandbox.url,
        CHECKOUT,
        checkoutData({ ...merchantUrls(merchant), orderDescription: 'Order sandbox:ipn-first' }),
      );
      const replyAt = Date.now();
      replyReceived = true;

      assert.equal(reply.status, 200);
      assert.equal(ipnBeforeReply, true);
      const [hit] = merchant.ipns();
      assert.ok(hit!.at <= replyAt, `IPN at ${hit!.at}, reply at ${replyAt}`);
      const [ipn] = verifiedIpns(merchant);
      const { transactionID } = reply.json.responseData as { transactionID: string };
      assert.equal(ipn!.responseData.transactionID, transactionID);
      assert.equal(ipn!.responseCode, '200');
    });
  });

  describe('POST /api/v1/transaction/checkout with a reply fault', () => {
    const checkoutWith = (description: string, overrides: Record<string, unknown> = {}) =>
      checkoutData({ orderDescription: `Order sandbox:${description}`, ...overrides });

    async function transactionsFor(orderID: string) {
      const all = await inspect<TransactionView[]>(sandbox.url, 'transactions');
      return all.filter(t => t.orderID === orderID);
    }

    it('delay:300 holds the reply for 300 ms', async () => {
      const started = Date.now();
      const reply = await callApi(sandbox.url, CHECKOUT, checkoutWith('delay:300'));

      assert.ok(Date.now() - started >= 300, `${Date.now() - started} ms`);
      assert.equal(reply.status, 200);
    });

    it('delay:300 creates the transaction even when the client gives up first', async () => {
      const data = checkoutWith('delay:300');

      await assert.rejects(
        signedFetch(sandbox.url, CHECKOUT, data, AbortSignal.timeout(100)),
        (error: unknown) => error instanceof Error && /TimeoutError|AbortError/.test(error.name),
      );

      const [txn] = await transactionsFor(String(data.orderID));
      assert.equal(txn?.state, 'processing');
    });

    it('reset destroys the socket, though the transaction exists', async () => {
      const data = checkoutWith('reset');

      await assert.rejects(callApi(sandbox.url, CHECKOUT, data), TypeError);

      assert.equal((await transactionsFor(String(data.orderID))).length, 1);
    });

    it('500|500|ok answers HTTP 500 twice, then 200, for the same orderID', async () => {
      const data = checkoutWith('500|500|ok');

      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await callApi(sandbox.url, CHECKOUT, data));

      assert.deepEqual(
        replies.map(r => [r.status, r.json.responseCode]),
        [
          [500, '500'],
          [500, '500'],
          [200, '200'],
          [409, '409'],
        ],
      );
      assert.equal((await transactionsFor(String(data.orderID))).length, 1);
    });

    it('html-error-page answers 502 with an HTML body', async () => {
      const reply = await callApi(sandbox.url, CHECKOUT, checkoutWith('html-error-page'));

      assert.equal(reply.status, 502);
      assert.match(reply.text, /^<!doctype html>/i);
      assert.deepEqual(reply.json, {});
    });

    it('html-error-page sends Content-Type text/html', async () => {
      const res = await signedFetch(sandbox.url, CHECKOUT, checkoutWith('html-error-page'));
      await res.text();

      assert.equal(res.status, 502);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    });

    it('409-duplicate answers responseCode 409 without creating the transaction', async () => {
      const data = checkoutWith('409-duplicate');

      const reply = await callApi(sandbox.url, CHECKOUT, data);

      assert.equal(reply.status, 409);
      assert.equal(reply.json.responseCode, '409');
      assert.match(reply.json.responseMessage ?? '', /Duplicate/);
      assert.equal(verifyResponseSignature(reply.text, reply.signature, SALT), true);
      assert.equal((await transactionsFor(String(data.orderID))).length, 0);
    });

    it('huge answers a body of at least 5 MB, still signed', async () => {
      const reply = await callApi(sandbox.url, CHECKOUT, checkoutWith('huge'));

      assert.equal(reply.status, 200);
      assert.ok(Buffer.byteLength(reply.text) >= 5 * 1024 * 1024, `${reply.text.length} bytes`);
      assert.equal(verifyResponseSignature(reply.text, reply.signature, SALT), true);
    });

    it('bad-response-signature signs the reply wrongly', async () => {
      const good = await callApi(sandbox.url, CHECKOUT, checkoutData());
      const bad = await callApi(sandbox.url, CHECKOUT, checkoutWith('bad-response-signature'));

      assert.equal(verifyResponseSignature(good.text, good.signature, SALT), true);
      assert.equal(bad.status, 200);
      assert.match(bad.signature ?? '', /^[0-9a-f]{64}$/);
      assert.equal(verifyResponseSignature(bad.text, bad.signature, SALT), false);
    });

    it('foreign-endpoint-host returns an endpoint on https://evil.example', async () => {
      const reply = await callApi(sandbox.url, CHECKOUT, checkoutWith('foreign-endpoint-host'));

      const { endpoint, transactionID } = reply.json.responseData as {
        endpoint: string;
        transactionID: string;
      };
      assert.ok(endpoint.startsWith('https://evil.example/'), endpoint);
      assert.equal(new URL(endpoint).pathname, `/checkout/${transactionID}`);
      assert.equal(verifyResponseSignature(reply.text, reply.signature, SALT), true);
    });

    it('drip sends the headers at once and then the body a byte at a time', async () => {
      const data = checkoutWith('drip');
      const controller = new AbortController();
      const started = Date.now();

      const res = await signedFetch(sandbox.url, CHECKOUT, data, controller.signal);
      const headersAt = Date.now();
      const reader = res.body!.getReader();
      let bytes = 0;
      while (bytes < 4) {
        const { value, done } = await reader.read();
        assert.equal(done, false, 'the body ended early');
        bytes += value.byteLength;
      }
      const fourBytesAt = Date.now();
      controller.abort();
      await reader.cancel().catch(() => {});

      assert.equal(res.status, 200);
      assert.ok(headersAt - started < 1000, `headers after ${headersAt - started} ms`);
      assert.ok(bytes < 10, `${bytes} bytes came at once`);
      assert.ok(fourBytesAt - headersAt >= 100, `4 bytes after ${fourBytesAt - headersAt} ms`);
      assert.equal((await transactionsFor(String(data.orderID))).length, 1);
    });

    it('delay:300@query leaves checkout fast and slows the later query', async () => {
      const started = Date.now();
      const reply = await callApi(sandbox.url, CHECKOUT, checkoutWith('delay:300@query'));
      const checkoutMs = Date.now() - started;
      const { transactionID } = reply.json.responseData as { transactionID: string };

      const queryStarted = Date.now();
      const query = await callApi(sandbox.url, QUERY, { transactionID });
      const queryMs = Date.now() - queryStarted;

      assert.equal(reply.status, 200);
      assert.ok(checkoutMs < 300, `checkout took ${checkoutMs} ms`);
      assert.equal(query.status, 200);
      assert.ok(queryMs >= 300, `query took ${queryMs} ms`);
    });
  });

  describe('GET and POST /link/:code (payment links)', () => {
    const linkData = (overrides: Record<string, unknown> = {}) =>
      paymentLinkData({ ipnURL: `${merchant.url}/ipn`, ...overrides });

    async function createLink(baseUrl: string, data: Record<string, unknown>) {
      const requestID = newRequestId();
      const reply = await callApi(baseUrl, CREATE_LINK, data, { requestID });
      assert.equal(reply.status, 200, reply.text);
      const { orderNo, shortLink } = reply.json.responseData as {
        orderNo: string;
        shortLink: string;
      };
      return { requestID, orderNo, shortLink };
    }

    it('collects the requested fields and sends the link IPN', async () => {
      const { requestID, orderNo, shortLink } = await createLink(sandbox.url, linkData());
      const page = await getPage(shortLink);
      assert.equal(page.status, 200);
      const form = formsOf(page.html).find(f => f.action.includes('/pay'));
      assert.ok(form, 'a payment form');
      assert.ok(form.names.includes('fullname') && form.names.includes('email'), page.html);
      assert.ok(!form.names.includes('phone'));

      const paid = await submit(page, 'pay', {
        fullname: 'Nguyễn Văn Ă',
        email: 'a@example.com',
        method: 'NAPAS',
      });

      assert.equal(paid.status, 200);
      assert.match(await paid.text(), /Payment successful/);
      const hit = await eventually(() => merchant.ipns()[0]);
      assert.match(hit.contentType ?? '', /^application\/json/);
      // The default shape is Galaxy Pay's own example's (ledger L2): requestID, orderID = the link's orderNo.
      const decoded = verifyCallback(
        JSON.parse(hit.body) as CallbackEnvelope,
        SALT,
      ) as TransactionCallback & {
        responseData: { extraData?: Record<string, string> };
      };
      assert.equal(decoded.requestID, requestID);
      assert.equal('requestId' in decoded, false);
      assert.equal(decoded.responseCode, '200');
      assert.equal(decoded.responseData.orderID, orderNo);
      assert.equal(decoded.responseData.orderAmount, '150000');
      assert.equal(decoded.responseData.orderCurrency, 'VND');
      assert.match(decoded.responseData.transactionID, /^\d{25}$/);
      assert.equal(decoded.responseData.extraData?.fullName, 'Nguyễn Văn Ă');
      assert.equal(decoded.responseData.extraData?.email, 'a@example.com');
      assert.equal(decoded.responseData.extraData?.paymentLink, shortLink);
      const attempts = await ipnAttempts(sandbox.url, `orderNo=${orderNo}`);
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]!.acknowledged, true);
    });

    it('refuses to be paid twice', async () => {
      const { orderNo, shortLink } = await createLink(sandbox.url, linkData());
      const page = await getPage(shortLink);
      await submit(page, 'pay', { fullname: 'First Payer', email: 'first@example.com' });
      await eventually(() => merchant.ipns().length === 1);

      const again = await submit(page, 'pay', {
        fullname: 'Second Payer',
        email: 'second@example.com',
      });
      const html = await again.text();
      await ipnBarrier(sandbox.url, merchant);

      assert.match(html, /This payment link has been paid/);
      assert.doesNotMatch(html, /Payment successful/);
      assert.equal(merchant.ipns().length, 1);
      const links = await inspect<Array<{ orderNo: string; payer?: Record<string, string> }>>(
        sandbox.url,
        'links',
      );
      assert.equal(links.find(l => l.orderNo === orderNo)?.payer?.fullname, 'First Payer');
      assert.match((await getPage(shortLink)).html, /This payment link has been paid/);
    });

    it('re-renders the form with 400 when a requested field is empty', async () => {
      const { shortLink } = await createLink(sandbox.url, linkData());
      const page = await getPage(shortLink);

      const res = await submit(page, 'pay', { fullname: 'Someone', email: '  ' });
      await ipnBarrier(sandbox.url, merchant);

      assert.equal(res.status, 400);
      assert.match(await res.text(), /role="alert"/);
      assert.equal(merchant.ipns().length, 0);
    });

    it('asks only for the fields it knows and can be paid with them', async () => {
      const { orderNo, shortLink } = await createLink(
        sandbox.url,
        linkData({ paymentFields: ['fullname', 'nickname'] }),
      );
      const page = await getPage(shortLink);
      const form = formsOf(page.html).find(f => f.action.includes('/pay'));
      assert.ok(form, 'a payment form');
      assert.ok(form.names.includes('fullname'));
      assert.ok(!form.names.includes('nickname'));

      const paid = await submit(page, 'pay', { fullname: 'Tran Thi B' });

      assert.equal(paid.status, 200);
      const hit = await eventually(() => merchant.ipns()[0]);
      const decoded = verifyCallback(
        JSON.parse(hit.body) as CallbackEnvelope,
        SALT,
      ) as TransactionCallback & { responseData: { extraData?: Record<string, string> } };
      assert.equal(decoded.responseData.orderID, orderNo);
      assert.equal(decoded.responseData.extraData?.fullName, 'Tran Thi B');
    });

    describe('once expired', () => {
      let clock: Date;
      const clockSandbox = useSandbox(() => {
        clock = new Date();
        return { now: () => clock };
      });

      it('shows the expired page with 410 and cannot be paid', async () => {
        const { orderNo, shortLink } = await createLink(
          clockSandbox.url,
          linkData({ expiryDuration: 5, expiryUnit: 'MINUTE' }),
        );
        const page = await getPage(shortLink);
        assert.equal(page.status, 200);

        clock = new Date(clock.getTime() + 6 * 60 * 1000);
        const expired = await getPage(shortLink);
        const paid = await submit(page, 'pay', { fullname: 'Late', email: 'late@example.com' });
        const paidHtml = await paid.text();
        await ipnBarrier(clockSandbox.url, merchant);

        assert.equal(expired.status, 410);
        assert.match(expired.html, /This payment link has expired/);
        assert.equal(formsOf(expired.html).length, 0);
        assert.equal(paid.status, 410);
        assert.match(paidHtml, /This payment link has expired/);
        assert.equal(merchant.ipns().length, 0);
        const links = await inspect<Array<{ orderNo: string; state: string }>>(
          clockSandbox.url,
          'links',
        );
        assert.equal(links.find(l => l.orderNo === orderNo)?.state, 'open');
      });
    });
  });

  describe('/__sandbox/ inspection API', () => {
    async function newCheckout() {
      return createPayment(sandbox.url, CHECKOUT, checkoutData(merchantUrls(merchant)));
    }

    for (const [outcome, code, kind] of [
      ['success', '200', 'success'],
      ['failure', '505', 'failure'],
      ['cancel', '499', 'cancel'],
    ] as const) {
      it(`completes a payment with outcome ${outcome} and, with ?wait=ipn, answers after the IPN`, async () => {
        const { transactionID } = await newCheckout();

        const { status, json } = await completeByApi(sandbox.url, transactionID, { outcome });

        assert.equal(status, 200);
        assert.equal(json.transaction?.resultCode, code);
        assert.equal(merchant.ipns().length, 1, 'the IPN arrived before the answer');
        assert.equal(verifiedIpns(merchant)[0]!.responseCode, code);
        const callback = json.callback!;
        assert.ok(callback.location.startsWith(`${merchant.url}/${kind}?`), callback.location);
        assert.equal(verifyCallback(callback.envelope, SALT).responseCode, code);
        assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, code);
      });
    }

    it('refuses to complete a payment twice with 409 already_finished', async () => {
      const { transactionID } = await newCheckout();
      await completeByApi(sandbox.url, transactionID, { outcome: 'success' });

      const again = await completeByApi(sandbox.url, transactionID, { outcome: 'cancel' });

      assert.equal(again.status, 409);
      assert.equal(again.json.error?.code, 'already_finished');
      assert.equal((await queryStatus(sandbox.url, transactionID)).transactionStatus, '200');
      assert.equal(merchant.ipns().length, 1);
    });

    it('answers 400 for an unknown outcome and 404 for an unknown transaction', async () => {
      const { transactionID } = await newCheckout();

      const bad = await completeByApi(sandbox.url, transactionID, { outcome: 'maybe' });
      const missing = await completeByApi(sandbox.url, '2601010000000000000000000', {
        outcome: 'success',
      });

      assert.equal(bad.status, 400);
      assert.equal(missing.status, 404);
      assert.equal((await transactionView(sandbox.url, transactionID)).state, 'processing');
    });

    describe('POST /__sandbox/faults', () => {
      async function setFaults(faults: unknown) {
        const res = await fetch(`${sandbox.url}/__sandbox/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ faults }),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      }

      afterEach(async () => {
        await setFaults('');
      });

      it('sets faults for every later order', async () => {
        const set = await setFaults('no-ipn');
        const { transactionID } = await newCheckout();

        // Answered once the IPN, if any, is delivered (?wait=ipn).
        await completeByApi(sandbox.url, transactionID, { outcome: 'success' });

        assert.equal(set.status, 200);
        assert.equal(set.json.noIpn, true);
        assert.deepEqual(await inspect(sandbox.url, 'faults'), set.json);
        assert.equal(merchant.ipns().length, 0);
      });

      it('rejects an unknown token with 400 and keeps the faults in force', async () => {
        await setFaults('dup:2');

        const bad = await setFaults('dup:2,bogus');
        const notText = await setFaults(['no-ipn']);

        assert.equal(bad.status, 400);
        assert.deepEqual(bad.json.error, {
          code: 'bad_faults',
          message: 'unknown sandbox fault "bogus"',
        });
        assert.equal(notText.status, 400);
        assert.deepEqual(await inspect(sandbox.url, 'faults'), {
          api: {},
          scoped: {},
          ipnCopies: 2,
        });
      });
    });

    it('POST /__sandbox/reset forgets requests, transactions and IPN attempts', async () => {
      const { transactionID } = await newCheckout();
      await completeByApi(sandbox.url, transactionID, { outcome: 'success' });
      assert.notEqual((await inspect<unknown[]>(sandbox.url, 'requests')).length, 0);

      const res = await fetch(`${sandbox.url}/__sandbox/reset`, { method: 'POST' });

      assert.equal(res.status, 204);
      assert.deepEqual(await inspect(sandbox.url, 'requests'), []);
      assert.deepEqual(await inspect(sandbox.url, 'transactions'), []);
      assert.deepEqual(await inspect(sandbox.url, 'ipn'), []);
      const gone = await fetch(`${sandbox.url}/__sandbox/transactions/${transactionID}`);
      assert.equal(gone.status, 404);
    });
  });
});
