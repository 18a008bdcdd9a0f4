/**
 * Saved cards (`customer-handle`), QR payments (`payment-method="QRPAY"`) and the COOP warning (T35), against
 * the real signer and sandbox. These features live in the lazily loaded extras module.
 */

import { expect, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import sinon from 'sinon';
import type { GalaxyPayButton } from './galaxy-pay-button.js';
import {
  axeViolations,
  button,
  checkoutOf,
  closeAndCancel,
  completePayment,
  customerHandle,
  dialogOf,
  payButton,
  record,
  recorded,
  saveCard,
  sessionPosts,
  shadow,
  stack,
  until,
} from './test-helpers.js';

const customerRef = () => `cust-${Math.random().toString(36).slice(2, 10)}`;

/** A button for the extras: English, modal unless told. */
const extrasButton = (
  attributes: { handle?: string; method?: string; signer?: string; mode?: string } = {},
) =>
  button({
    lang: 'en',
    mode: attributes.mode,
    signer: attributes.signer,
    customerHandle: attributes.handle,
    paymentMethod: attributes.method,
  });

const chooser = (el: GalaxyPayButton) => shadow(el).querySelector<HTMLFormElement>('form.pick');
const radios = (form: HTMLFormElement) => [
  ...form.querySelectorAll<HTMLInputElement>('input[type=radio]'),
];
const saveBox = (form: HTMLFormElement) =>
  form.querySelector<HTMLInputElement>('input[type=checkbox]')!;

afterEach(() => sinon.restore());

describe('saved cards (customer-handle)', () => {
  it('lists the saved cards (masked number and brand only) and pays with the chosen one', async () => {
    const ref = customerRef();
    const { cards } = await saveCard(ref);
    expect(cards).to.have.length(1);
    const handle = await customerHandle(ref);
    const spy = sinon.spy(window, 'fetch');
    const { el, events } = await recorded(extrasButton({ handle }));

    payButton(el).click();
    const form = await until(() => chooser(el));
    expect(dialogOf(el).open).to.equal(true);
    const [saved, fresh] = radios(form);
    expect(radios(form)).to.have.length(2);
    expect(saved!.value).to.equal(cards[0]!.tokenId);
    expect(saved!.checked).to.equal(true);
    expect(saved!.closest('label')!.textContent).to.contain(cards[0]!.maskedNumber);
    expect(form.textContent).not.to.contain('SANDBOX TESTER');
    expect(fresh!.closest('label')!.textContent).to.contain('Use a new card');
    expect(saveBox(form).disabled).to.equal(true);
    expect(form.querySelector('legend')!.textContent).to.contain('Choose how to pay');
    // The handle travels in a header, never in the URL.
    const list = spy.getCalls().find(call => String(call.args[0]).endsWith('/customer/tokens'))!;
    expect((list.args[1] as RequestInit).headers).to.deep.equal({ 'x-customer-handle': handle });
    expect(await axeViolations(dialogOf(el))).to.deep.equal([]);

    const opened = oneEvent(el, 'galaxy-pay-open');
    form.querySelector<HTMLButtonElement>('.go')!.click();
    const { sessionId, mode } = (await opened).detail;
    expect(mode).to.equal('modal');
    expect(chooser(el)).to.equal(null);
    const [body] = sessionPosts(spy);
    expect(body).to.deep.include({ customerHandle: handle, tokenId: cards[0]!.tokenId });
    expect(body).not.to.have.property('saveCard', true);

    const settled = oneEvent(el, 'galaxy-pay-result');
    await completePayment(sessionId, 'success');
    expect((await settled).detail.status).to.equal('paid');
    expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
  });

  it('sends saveCard when the shopper pays with a new card and ticks "save", with the keyboard alone', async () => {
    const ref = customerRef();
    await saveCard(ref);
    const handle = await customerHandle(ref);
    const spy = sinon.spy(window, 'fetch');
    const el = await extrasButton({ handle });

    payButton(el).click();
    const form = await until(() => chooser(el));
    const fresh = radios(form)[1]!;
    fresh.focus();
    await sendKeys({ press: 'Space' });
    expect(fresh.checked).to.equal(true);
    await until(() => !saveBox(form).disabled);
    saveBox(form).focus();
    await sendKeys({ press: 'Space' });
    expect(saveBox(form).checked).to.equal(true);
    const opened = oneEvent(el, 'galaxy-pay-open');
    await sendKeys({ press: 'Tab' });
    expect(shadow(el).activeElement).to.equal(form.querySelector('.go'));
    await sendKeys({ press: 'Enter' });
    await opened;

    const [body] = sessionPosts(spy);
    expect(body).to.deep.include({ customerHandle: handle, saveCard: true });
    expect(body).not.to.have.property('tokenId');
    await closeAndCancel(el);
  });

  it('with no saved card: offers only a new card, and continues with the plain flow', async () => {
    const handle = await customerHandle(customerRef());
    const spy = sinon.spy(window, 'fetch');
    const el = await extrasButton({ handle });

    payButton(el).click();
    const form = await until(() => chooser(el));
    expect(radios(form)).to.have.length(1);
    expect(radios(form)[0]!.checked).to.equal(true);
    expect(saveBox(form).disabled).to.equal(false);
    const opened = oneEvent(el, 'galaxy-pay-open');
    form.querySelector<HTMLButtonElement>('.go')!.click();
    await opened;

    const [body] = sessionPosts(spy);
    expect(body).not.to.have.any.keys('tokenId', 'saveCard', 'customerHandle');
    await closeAndCancel(el);
  });

  for (const kind of ['forged', 'expired'] as const) {
    it(`refuses a ${kind} handle with CUSTOMER_HANDLE, lists nothing and opens no session`, async () => {
      const real = await customerHandle(customerRef(), kind === 'expired');
      // Forged: the same payload for another customer, under the real signature.
      const handle =
        kind === 'forged'
          ? real.replace(/^gpch1\.([^.]+)\./, (_m, payload: string) => {
              const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
                c: string;
              };
              claims.c = 'someone-else';
              const forged = btoa(JSON.stringify(claims))
                .replace(/\+/g, '-')
                .replace(/\//g, '_')
                .replace(/=+$/, '');
              return `gpch1.${forged}.`;
            })
          : real;
      const spy = sinon.spy(window, 'fetch');
      const { el, events } = await recorded(extrasButton({ handle }));

      payButton(el).click();
      const { detail } = await oneEvent(el, 'galaxy-pay-error');

      expect(detail).to.include({ code: 'CUSTOMER_HANDLE', retryable: false });
      expect(detail.message).to.contain(
        kind === 'expired' ? 'customer_handle_expired' : 'invalid_customer_handle',
      );
      expect(chooser(el)).to.equal(null);
      expect(dialogOf(el).open).to.equal(false);
      expect(sessionPosts(spy)).to.deep.equal([]);
      expect(events.map(e => e.type)).to.deep.equal(['close', 'error']);
    });
  }
});

describe('QR payments (payment-method="QRPAY")', () => {
  it('shows the signer QR image with a countdown, and reports the payment once', async () => {
    const el = await extrasButton({ method: 'QRPAY', mode: 'popup' });
    const open = sinon.spy(window, 'open');
    const intervals = sinon.spy(window, 'setInterval');
    const cleared = sinon.spy(window, 'clearInterval');
    const closed = sinon.spy(EventSource.prototype, 'close');
    const events = record(el);

    payButton(el).click();
    const { sessionId, mode } = (await oneEvent(el, 'galaxy-pay-open')).detail;
    // A QR code is shown in the dialog, never in a popup.
    expect(mode).to.equal('modal');
    expect(open.called).to.equal(false);
    const img = await until(() => shadow(el).querySelector<HTMLImageElement>('.qr img'));
    const { signerUrl } = await stack();
    expect(img.src).to.equal(`${signerUrl}/sessions/${sessionId}/qr.svg`);
    expect(img.alt).to.contain('QR');
    await until(() => img.complete && img.naturalWidth > 0);
    const left = shadow(el).querySelector('.qr .left')!;
    expect(left.textContent).to.match(/QR code expires in \d+:\d\d/);
    expect(left.closest('[role=status],[aria-live]')).to.equal(null);
    expect(shadow(el).querySelector('iframe')).to.equal(null);
    expect(await axeViolations(dialogOf(el))).to.deep.equal([]);

    const settled = oneEvent(el, 'galaxy-pay-result');
    await completePayment(sessionId, 'success');
    expect((await settled).detail).to.include({ status: 'paid', sessionId });
    // Nothing is left to report anything more: the status stream is closed, the countdown stopped.
    expect(closed.called).to.equal(true);
    expect(intervals.called).to.equal(true);
    expect(cleared.args.map(([id]) => id)).to.include.members(intervals.returnValues);
    expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    expect(dialogOf(el).open).to.equal(false);
  });

  it('shows nothing, and leaves no timer or stream, for a flow ended while this module loaded (T38)', async () => {
    const { el, events } = await recorded(extrasButton({ method: 'QRPAY' }));
    const { showQr } = await import('./extras.js');
    const controller = new AbortController();
    controller.abort();
    const ended = { controller, base: 'http://127.0.0.1:1', orderRef: 'X', sessionId: 'gone' };
    const interval = sinon.spy(window, 'setInterval');
    const stream = sinon.spy(window, 'EventSource');

    showQr(checkoutOf(el), ended as never, {
      imageUrl: 'http://127.0.0.1:1/qr.svg',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await el.updateComplete;

    expect(events).to.deep.equal([]);
    expect(shadow(el).querySelector('.qr')).to.equal(null);
    expect(interval.called).to.equal(false);
    expect(stream.called).to.equal(false);
  });

  it('counts down, announces sparingly, and reports the expiry as galaxy-pay-cancel "timeout"', async () => {
    const { shortSignerUrl } = await stack();
    const { el, events } = await recorded(
      extrasButton({ method: 'QRPAY', signer: shortSignerUrl }),
    );
    const announced = new Set<string>();
    // Both live regions: the one inside the dialog speaks while it is open.
    for (const live of shadow(el).querySelectorAll('[role=status]')) {
      new MutationObserver(() => announced.add(live.textContent ?? '')).observe(live, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }

    payButton(el).click();
    const { sessionId } = (await oneEvent(el, 'galaxy-pay-open')).detail;
    const seen = new Set<string>();
    const left = await until(() => shadow(el).querySelector('.qr .left'));
    const timer = setInterval(() => seen.add(left.textContent ?? ''), 200);
    const { detail } = await oneEvent(el, 'galaxy-pay-cancel');
    clearInterval(timer);

    expect(detail).to.deep.equal({ reason: 'timeout', sessionId, orderRef: el.orderRef });
    expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'cancel']);
    // The visible countdown ticked every second; the live region did not.
    expect([...seen].filter(text => /\d:\d\d/.test(text)).length).to.be.greaterThan(1);
    const countdowns = [...announced].filter(text => /\d:\d\d/.test(text));
    expect(countdowns.length).to.be.lessThan(2);
    expect([...announced]).to.include('The QR code has expired. Checking…');
  });
});

describe('COOP same-origin (T35)', () => {
  it('warns once when the popup is cut off at once, and still completes through the signer', async () => {
    const realFetch = window.fetch.bind(window);
    // The page's own headers, as a merchant server with COOP same-origin would send them.
    sinon
      .stub(window, 'fetch')
      .callsFake((input, init) =>
        init?.method === 'HEAD'
          ? Promise.resolve(
              new Response(null, { headers: { 'cross-origin-opener-policy': 'same-origin' } }),
            )
          : realFetch(input, init),
      );
    const warn = sinon.stub(console, 'warn');
    const open = sinon.spy(window, 'open');
    // The element reading the page's policy off that answer: the COOP check has run.
    const policyRead = sinon.spy(Headers.prototype, 'get').withArgs('cross-origin-opener-policy');

    for (let round = 0; round < 2; round++) {
      const { el, events } = await recorded(extrasButton({ mode: 'popup' }));
      el.closeGrace = 300;
      payButton(el).click();
      const { sessionId } = (await oneEvent(el, 'galaxy-pay-open')).detail;
      // What COOP does to the opener's handle: `closed` right after the navigation.
      (open.returnValues[round] as Window).close();
      await until(() => policyRead.callCount === round + 1);
      expect(events.map(e => e.type)).to.deep.equal(['open']);

      const settled = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');
      expect((await settled).detail.status).to.equal('paid');
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    }
    const coop = warn
      .getCalls()
      .filter(call => String(call.args[0]).includes('Cross-Origin-Opener'));
    expect(coop).to.have.length(1);
  });
});
