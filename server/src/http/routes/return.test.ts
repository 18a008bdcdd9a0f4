import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeCallback, type CallbackEnvelope } from '@galaxy-pay/protocol';
import type { PaymentEvent, Session } from '../../store/store.js';
import {
  MERCHANT_ORIGIN,
  SALT,
  completeInSandbox,
  gatewayCallbackFor,
  openTestSession,
  startStack,
  type Stack,
} from '../../testing/test-support.js';

const XSS = '<img src=x onerror=alert(1)>';

/** Orders that never get an IPN: whatever changes a session here came from the return page's query. */
const CATALOG = {
  ...Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [
      `R-${i}`,
      { amount: 250_000, description: `Đơn ${i} sandbox:no-ipn` },
    ]),
  ),
  'XSS-1': { amount: 250_000, description: `Áo ${XSS} sandbox:no-ipn` },
  // The query is refused too (a signed 409), so nothing but the redirect could change the session.
  'PLUS-1': {
    amount: 250_000,
    description: 'Đơn sandbox:plus-unencoded,no-ipn,409-duplicate@query',
  },
};

interface Page {
  status: number;
  headers: Headers;
  html: string;
}

/** Loads a return URL as a browser inside the merchant's iframe would: no cookies, redirects not followed. */
async function load(url: string, form?: Record<string, string>): Promise<Page> {
  const res = await fetch(url, {
    redirect: 'manual',
    ...(form
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        }
      : {}),
  });
  return { status: res.status, headers: res.headers, html: await res.text() };
}

/** The data the page hands its inline script (an inert `application/json` script element). */
function pageMessage(html: string): unknown {
  const match = /<script type="application\/json" id="galaxy-pay-return">([^<]*)<\/script>/.exec(
    html,
  );
  assert.ok(match, 'the page carries its message as application/json');
  return JSON.parse(match[1]!);
}

function returnUrl(
  stack: Stack,
  session: Session,
  kind: 'result' | 'cancel',
  envelope?: CallbackEnvelope,
) {
  const query = envelope
    ? `?data=${encodeURIComponent(envelope.data)}&signature=${envelope.signature}`
    : '';
  return `${stack.signerUrl}/return/${session.id}/${kind}${query}`;
}

function shape(events: PaymentEvent[]): Array<[string, boolean, string]> {
  return events.map(e => [e.kind, e.verified, e.verdict]);
}

describe('GET|POST /return/:id/:kind', () => {
  let stack: Stack;
  let next = 0;
  const nextRef = () => `R-${next++}`;

  before(async () => {
    stack = await startStack({ catalog: CATALOG });
  });
  after(() => stack.close());

  /** A session whose payment the sandbox has finished (no IPN), and the browser callback it produced. */
  async function finished(orderRef = nextRef(), extra: Record<string, unknown> = {}) {
    const session = await openTestSession(stack, orderRef, extra);
    const { callback } = await completeInSandbox(stack, String(session.transactionId), 'success');
    assert.ok(callback, 'the sandbox sends the browser back');
    return { session, callback };
  }

  describe('with valid signed data from the gateway', () => {
    it('T19 renders the page on GET, and the session changes only through the query the page triggered', async () => {
      const { session, callback } = await finished();
      const pendingBefore = await stack.store.getSession(session.id);

      const page = await load(callback.location);

      assert.equal(pendingBefore?.status, 'pending');
      assert.equal(page.status, 200, page.html);
      assert.match(String(page.headers.get('content-type')), /^text\/html/);
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
      assert.deepEqual(shape(await stack.store.listEvents(session.id)), [
        ['result', true, 'ignored'],
        ['query', true, 'applied'],
      ]);
      const ipns = (await (
        await fetch(`${stack.sandboxUrl}/__sandbox/ipn?transactionID=${session.transactionId}`)
      ).json()) as unknown[];
      assert.deepEqual(ipns, []);
    });

    it('T37 accepts the same fields as a form POST without any cookie, and settles through the query', async () => {
      const { session, callback } = await finished();
      const sent = new URL(callback.location).searchParams;

      const page = await load(`${stack.signerUrl}/return/${session.id}/result`, {
        data: String(sent.get('data')),
        signature: String(sent.get('signature')),
      });

      assert.equal(page.status, 200, page.html);
      assert.equal(page.headers.get('set-cookie'), null);
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
      assert.deepEqual(shape(await stack.store.listEvents(session.id)), [
        ['result', true, 'ignored'],
        ['query', true, 'applied'],
      ]);
    });

    it('T37 posts {type, sessionId, nonce} to exactly the merchant origin, never "*"', async () => {
      const { session, callback } = await finished();

      const page = await load(callback.location);

      assert.deepEqual(pageMessage(page.html), {
        origin: MERCHANT_ORIGIN,
        message: { type: 'galaxy-pay:return', sessionId: session.id, nonce: session.nonce },
      });
      assert.match(page.html, /\.postMessage\(info\.message, info\.origin\)/);
      assert.doesNotMatch(page.html, /['"]\*['"]/);
      const scriptNonce = /<script nonce="([^"]+)">/.exec(page.html)?.[1];
      assert.ok(scriptNonce);
      assert.match(
        String(page.headers.get('content-security-policy')),
        new RegExp(`script-src 'nonce-${scriptNonce.replace(/[+/]/g, '\\$&')}'`),
      );
    });

    it('T37 is framable by the merchant origin only, keeps the opener, is never cached and sets no cookie', async () => {
      const { callback } = await finished();

      const page = await load(callback.location);

      const csp = String(page.headers.get('content-security-policy'));
      const ancestors = csp
        .split(';')
        .map(d => d.trim())
        .find(d => d.startsWith('frame-ancestors '));
      assert.equal(ancestors, `frame-ancestors ${MERCHANT_ORIGIN}`);
      assert.equal(page.headers.get('x-frame-options'), null);
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'unsafe-none');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.equal(page.headers.get('set-cookie'), null);
    });

    it('T19 in redirect mode answers 303 to the merchant returnUrl with the session id', async () => {
      const { session, callback } = await finished(nextRef(), {
        returnUrl: `${MERCHANT_ORIGIN}/thanks`,
      });

      const page = await load(callback.location);

      assert.equal(page.status, 303);
      assert.equal(
        page.headers.get('location'),
        `${MERCHANT_ORIGIN}/thanks?galaxy_pay_session=${session.id}`,
      );
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
    });

    it('T19 never renders gateway strings: an <img onerror> in the description and the message stays out', async () => {
      const session = await openTestSession(stack, 'XSS-1');
      const res = await fetch(
        `${stack.sandboxUrl}/__sandbox/transactions/${session.transactionId}/complete`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ outcome: 'failure', code: '505', message: XSS }),
        },
      );
      const { callback } = (await res.json()) as { callback: { location: string } };

      const page = await load(callback.location);

      assert.equal(page.status, 200, page.html);
      const stored = await stack.store.getSession(session.id);
      assert.deepEqual([stored?.status, stored?.message], ['failed', XSS]);
      assert.equal(page.html.includes('<img'), false);
      assert.equal(page.html.includes('onerror'), false);
    });
  });

  describe('with forged, tampered or foreign data', () => {
    let session: Session;
    let foreign: CallbackEnvelope;
    before(async () => {
      foreign = (await finished()).callback.envelope;
    });
    beforeEach(async () => {
      // A session per case (the page queries the gateway at most once per interval and session); its
      // payment is still open at the gateway, so a query finds nothing to settle.
      session = await openTestSession(stack, nextRef());
    });

    const tamper = (envelope: CallbackEnvelope): CallbackEnvelope => ({
      data: `${envelope.data.slice(0, 10)}${envelope.data[10] === 'A' ? 'B' : 'A'}${envelope.data.slice(11)}`,
      signature: envelope.signature,
    });
    const cases: Array<
      [
        string,
        (s: Session) => { envelope?: CallbackEnvelope; fields?: Record<string, string> },
        Array<[string, boolean, string]>,
      ]
    > = [
      [
        'tampered data',
        s => ({ envelope: tamper(encodeCallback(gatewayCallbackFor(s), SALT)) }),
        [['result', false, 'bad_signature']],
      ],
      [
        'data signed with another salt',
        s => ({ envelope: encodeCallback(gatewayCallbackFor(s), 'another-salt') }),
        [['result', false, 'bad_signature']],
      ],
      [
        'a forged form POST',
        s => {
          const forged = encodeCallback(gatewayCallbackFor(s), 'another-salt');
          return { fields: { data: forged.data, signature: forged.signature } };
        },
        [['result', false, 'bad_signature']],
      ],
      [
        'data but no signature',
        s => ({ fields: { data: encodeCallback(gatewayCallbackFor(s), SALT).data } }),
        [['result', false, 'malformed']],
      ],
      [
        'a valid signature from another order',
        () => ({ envelope: foreign }),
        [['result', true, 'needs_review']],
      ],
      [
        'a valid signature claiming success that the gateway does not confirm',
        s => ({ envelope: encodeCallback(gatewayCallbackFor(s), SALT) }),
        [['result', true, 'ignored']],
      ],
      ['no data at all (force-browsing the success page)', () => ({}), []],
    ];
    for (const [name, build, recorded] of cases) {
      it(`T19 changes nothing on ${name}: the page only triggers a query, and the evidence is recorded`, async () => {
        const before = await stack.store.getSession(session.id);
        const seen = (await stack.store.listEvents(session.id)).length;
        const { envelope, fields } = build(session);

        const page = fields
          ? await load(`${stack.signerUrl}/return/${session.id}/result`, fields)
          : await load(returnUrl(stack, session, 'result', envelope));

        assert.equal(page.status, 200, page.html);
        assert.deepEqual(await stack.store.getSession(session.id), before);
        assert.deepEqual(shape((await stack.store.listEvents(session.id)).slice(seen)), [
          ...recorded,
          ['query', true, 'ignored'],
        ]);
      });
    }
  });

  describe('when the page is loaded again within the query interval', () => {
    it('asks the gateway once, however often the page is reloaded', async () => {
      const session = await openTestSession(stack, nextRef());

      await load(`${stack.signerUrl}/return/${session.id}/result`);
      await load(`${stack.signerUrl}/return/${session.id}/result`);
      await load(`${stack.signerUrl}/return/${session.id}/cancel`);

      const queries = (await stack.store.listEvents(session.id)).filter(e => e.kind === 'query');
      assert.equal(queries.length, 1);
    });
  });

  describe('with data that was not percent-encoded (plus-unencoded)', () => {
    it('T15 refuses the raw + of a GET query string as a bad signature, and nothing changes', async () => {
      const { session, callback } = await finished('PLUS-1');
      const rawData = /[?&]data=([^&]*)/.exec(callback.location)?.[1];
      const before = await stack.store.getSession(session.id);

      const raw = await load(callback.location);
      const encoded = await load(returnUrl(stack, session, 'result', callback.envelope));

      assert.ok(rawData?.includes('+'), 'the fault puts a raw + in the query string');
      assert.equal(raw.status, 200, raw.html);
      assert.equal(encoded.status, 200, encoded.html);
      const after = await stack.store.getSession(session.id);
      // The refused query is only noted for the background pass's backoff: nothing else changed.
      assert.equal(after?.checkFailures, 1);
      assert.deepEqual({ ...after, checkFailures: 0, nextCheckAt: null }, before);
      // The same data percent-encoded verifies: only the transport encoding was wrong.
      assert.deepEqual(shape(await stack.store.listEvents(session.id)), [
        ['result', false, 'bad_signature'],
        ['result', true, 'ignored'],
      ]);
    });
  });

  describe('after the session is final', () => {
    it('T20 ignores a signed cancel redirect after paid: the session stays paid', async () => {
      const { session, callback } = await finished();
      await load(callback.location);
      const cancel = encodeCallback(
        gatewayCallbackFor(session, { responseCode: '499', responseMessage: 'Canceled by user' }),
        SALT,
      );

      const page = await load(returnUrl(stack, session, 'cancel', cancel));

      assert.equal(page.status, 200, page.html);
      const after = await stack.store.getSession(session.id);
      assert.deepEqual([after?.status, after?.cancelReason], ['paid', null]);
      assert.deepEqual(shape((await stack.store.listEvents(session.id)).slice(-1)), [
        ['cancel', true, 'ignored'],
      ]);
    });
  });

  describe('for a session that does not exist', () => {
    for (const [name, path] of [
      ['an unknown session id', '/return/AAAAAAAAAAAAAAAAAAAAAA/result'],
      ['a malformed session id', '/return/..%2Fadmin/result'],
    ] as const) {
      it(`T19 answers 404 to ${name}`, async () => {
        const page = await load(`${stack.signerUrl}${path}`);

        assert.equal(page.status, 404);
        assert.equal(page.headers.get('set-cookie'), null);
      });
    }

    it('T19 answers 404 to a kind other than result or cancel', async () => {
      const session = await openTestSession(stack, nextRef());

      const page = await load(`${stack.signerUrl}/return/${session.id}/paid`);

      assert.equal(page.status, 404);
    });
  });
});
