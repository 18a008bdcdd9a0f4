import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import sinon from 'sinon';
import type { GalaxyPayButton } from './galaxy-pay-button.js';
import {
  axeViolations,
  button,
  checkoutOf,
  clickAndOpen,
  closeAndCancel,
  completePayment,
  dialogOf,
  frameOf,
  newOrder,
  payButton,
  nextMessage,
  record,
  recordedButton,
  sessionPosts,
  shadow,
  stack,
  until,
} from './test-helpers.js';

/** GET {signer}/sessions/:id calls: what a message or a closed window makes the element do. */
const statusChecks = (spy: sinon.SinonSpy) =>
  spy.getCalls().filter(call => /\/sessions\/[^/]+$/.test(String(call.args[0]))).length;

/** The popup window the element opened, through a spy on window.open. */
const popupOf = (spy: sinon.SinonSpy) => spy.returnValues[0] as Window;

/** A popup-mode button whose payment has opened: its events, the session and the popup window. */
async function popupPayment(options: { closeGrace?: number } = {}) {
  const open = sinon.spy(window, 'open');
  const { el, events } = await recordedButton({ mode: 'popup' });
  Object.assign(el, options);
  const { sessionId } = await clickAndOpen(el);
  return { el, events, sessionId, popup: popupOf(open) };
}

/** A modal payment the shopper ends on the gateway page with `outcome`, and the event that reports it. */
async function endOnGateway<Type extends 'galaxy-pay-result' | 'galaxy-pay-cancel'>(
  outcome: 'failure' | 'cancel',
  reportedAs: Type,
) {
  const el = await button({ mode: 'modal' });
  const { sessionId } = await clickAndOpen(el);
  const reported = oneEvent(el, reportedAs);
  await completePayment(sessionId, outcome);
  return { el, sessionId, detail: (await reported).detail };
}

/** Frames the tests loaded, removed after each test. */
const frames: HTMLIFrameElement[] = [];

async function loadFrame(src: string): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  frames.push(frame);
  frame.src = src;
  const loaded = oneEvent(frame, 'load');
  document.body.append(frame);
  await loaded;
  return frame;
}

/**
 * The button of the merchant page in `frame`, once that page has asked its signer about the returned
 * `sessionId` (the request is in its resource timings) and the button is idle again (the answer was handled).
 */
const askedAndIdle = (frame: HTMLIFrameElement, sessionId: string) =>
  until(() => {
    const page = frame.contentWindow!;
    const path = `/sessions/${encodeURIComponent(sessionId)}`;
    const asked = page.performance
      .getEntriesByType('resource')
      .some(entry => new URL(entry.name).pathname === path);
    const el = page.document.querySelector('galaxy-pay-button');
    return asked && el && payButton(el).getAttribute('aria-disabled') !== 'true' ? el : null;
  });

afterEach(() => {
  sinon.restore();
  for (const frame of frames.splice(0)) frame.remove();
});

describe('<galaxy-pay-button>', () => {
  describe('attributes and words', () => {
    it('shows the Vietnamese label by default and the English one with lang="en"', async () => {
      const vi = await button();
      const en = await button({ lang: 'en' });

      expect(shadow(vi).querySelector('slot')!.textContent!.trim()).to.equal('Thanh toán');
      expect(shadow(en).querySelector('slot')!.textContent!.trim()).to.equal('Pay');
    });

    it('without lang, follows <html lang>, then the browser, else Vietnamese, and never sets lang itself', async () => {
      const { signerUrl } = await stack();
      const page = document.documentElement;
      const pageLang = page.getAttribute('lang');
      const bare = () =>
        fixture<GalaxyPayButton>(
          html`<galaxy-pay-button signer=${signerUrl} order-ref=${newOrder()}></galaxy-pay-button>`,
        );
      const label = (el: GalaxyPayButton) => shadow(el).querySelector('slot')!.textContent!.trim();
      const browser = (languages: string[]) =>
        sinon.stub(Navigator.prototype, 'languages').get(() => languages);
      const fetch = sinon.spy(window, 'fetch');
      try {
        page.lang = 'en-GB';
        const english = await bare();
        await clickAndOpen(english);
        english.close();
        await oneEvent(english, 'galaxy-pay-cancel');
        page.lang = 'vi';
        const vietnamese = await bare();
        page.removeAttribute('lang');
        browser(['en-US', 'vi']);
        const fromBrowser = await bare();
        sinon.restore();
        browser(['fr-FR', 'de']);
        const neither = await bare();

        expect(label(english)).to.equal('Pay');
        expect(sessionPosts(fetch)[0]).to.include({ locale: 'en' });
        expect(label(vietnamese)).to.equal('Thanh toán');
        expect(label(fromBrowser)).to.equal('Pay');
        expect(label(neither)).to.equal('Thanh toán');
        for (const el of [english, vietnamese, fromBrowser, neither]) {
          expect(el.hasAttribute('lang')).to.equal(false);
        }
      } finally {
        if (pageLang === null) page.removeAttribute('lang');
        else page.lang = pageLang;
      }
    });

    it('uses the slotted label and the overridden strings, as text', async () => {
      const el = await fixture<GalaxyPayButton>(
        html`<galaxy-pay-button signer="/gp" order-ref="A1">Mua ngay</galaxy-pay-button>`,
      );
      el.strings = { close: '<img src=x onerror="window.pwned=1">' };
      await el.updateComplete;

      expect(el.textContent).to.equal('Mua ngay');
      expect(shadow(el).querySelector('.x')!.getAttribute('aria-label')).to.contain('<img');
      expect(shadow(el).querySelector('img')).to.equal(null);
    });

    it('sends lang, payment-method and source-type to the signer, never a price', async () => {
      const fetch = sinon.spy(window, 'fetch');
      const el = await button({ lang: 'en' });
      el.setAttribute('payment-method', 'DOMESTIC');
      el.setAttribute('source-type', '970400');

      await clickAndOpen(el);
      await closeAndCancel(el);

      const [{ clientKey, ...rest }] = sessionPosts(fetch);
      expect(rest).to.deep.equal({
        orderRef: el.orderRef,
        locale: 'en',
        paymentMethod: 'DOMESTIC',
        sourceType: '970400',
      });
      // This tab's key for the order (issue 11 §4): the same one on every later call about it.
      expect(clientKey).to.match(/^[0-9-]{16,64}$/);
      expect(Object.values(sessionStorage)).to.include(clientKey);
    });

    it('does nothing while disabled, and reflects the attribute', async () => {
      const fetch = sinon.spy(window, 'fetch');
      const { el, events } = await recordedButton();
      el.disabled = true;
      await el.updateComplete;

      payButton(el).click();
      el.open();
      expect(el.hasAttribute('disabled')).to.equal(true);
      expect(payButton(el).disabled).to.equal(true);
      // Enabled again, for another order: its payment opens, and it is the first thing the button did.
      el.disabled = false;
      el.orderRef = newOrder();
      await el.updateComplete;
      await clickAndOpen(el);

      expect(sessionPosts(fetch).map(body => body.orderRef)).to.deep.equal([el.orderRef]);
      expect(events.map(e => e.type)).to.deep.equal(['open']);
      await closeAndCancel(el);
    });

    it('dispatches CONFIG without a signer or an order reference', async () => {
      const el = await fixture<GalaxyPayButton>(html`<galaxy-pay-button></galaxy-pay-button>`);
      const error = oneEvent(el, 'galaxy-pay-error');

      el.open();

      expect((await error).detail).to.deep.equal({
        code: 'CONFIG',
        message: 'signer and order-ref are required',
        retryable: false,
      });
    });

    it('dispatches CONFIG for a signer attribute that is not a URL', async () => {
      const el = await button({ mode: 'modal' });
      el.signer = 'http://[';
      const error = oneEvent(el, 'galaxy-pay-error');

      el.open();

      expect((await error).detail).to.include({ code: 'CONFIG', retryable: false });
    });

    it('renders an order reference full of HTML as nothing but text, and the signer refuses it', async () => {
      const { el, events } = await recordedButton({
        orderRef: '"><img src=x onerror="window.pwned=1">',
      });

      payButton(el).click();
      await oneEvent(el, 'galaxy-pay-error');

      expect(events.at(-1)!.detail).to.include({ code: 'SIGNER_ERROR', retryable: false });
      expect(shadow(el).querySelector('img')).to.equal(null);
      expect((window as unknown as { pwned?: number }).pwned).to.equal(undefined);
    });

    it('reports an unreachable signer as retryable', async () => {
      const el = await button();
      el.signer = 'http://127.0.0.1:9';

      payButton(el).click();
      const { detail } = await oneEvent(el, 'galaxy-pay-error');

      expect(detail).to.include({ code: 'SIGNER_UNREACHABLE', retryable: true });
    });

    it('reports an order that is already paid', async () => {
      const orderRef = newOrder();
      const first = await button({ orderRef });
      const { sessionId } = await clickAndOpen(first);
      const settled = oneEvent(first, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');
      await settled;
      const second = await button({ orderRef });

      payButton(second).click();
      const { detail } = await oneEvent(second, 'galaxy-pay-error');

      expect(detail).to.include({ code: 'ORDER_PAID', retryable: false });
    });
  });

  describe('modal mode', () => {
    it('completes from the signer status alone, with no message at all (T34)', async () => {
      const { el, events } = await recordedButton({ mode: 'modal' });

      const { sessionId, mode } = await clickAndOpen(el);
      expect(mode).to.equal('modal');
      expect(dialogOf(el).open).to.equal(true);
      await until(() => frameOf(el)?.src.includes('/checkout/'));
      const result = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');

      const { detail } = await result;
      expect(detail).to.deep.include({
        status: 'paid',
        sessionId,
        orderRef: el.orderRef,
        amount: 150_000,
        currency: 'VND',
      });
      expect(detail.transactionId).to.be.a('string');
      expect(dialogOf(el).open).to.equal(false);
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    });

    it('shows a spinner until the gateway page has loaded', async () => {
      const el = await button({ mode: 'modal' });
      // Seen on every change, not polled: on a fast machine the page loads between two polls.
      let spinnerBesideLoadingFrame = false;
      const observer = new MutationObserver(() => {
        if (frameOf(el)?.classList.contains('loading') && shadow(el).querySelector('.spin'))
          spinnerBesideLoadingFrame = true;
      });
      observer.observe(shadow(el), { subtree: true, childList: true, attributes: true });

      payButton(el).click();
      await until(() => frameOf(el) && !frameOf(el)!.classList.contains('loading'));
      observer.disconnect();

      expect(dialogOf(el).open).to.equal(true);
      expect(spinnerBesideLoadingFrame).to.equal(true);
      expect(shadow(el).querySelector('.spin')).to.equal(null);
      el.close();
    });

    it('asks the signer when the return page posts its message, then reports once', async () => {
      // No SSE and no polling: only the message can make the element look.
      sinon.stub(window, 'EventSource').value(undefined);
      const fetch = sinon.spy(window, 'fetch');
      const { el, events } = await recordedButton({ mode: 'modal' });
      el.pollInterval = 600_000;
      const { sessionId } = await clickAndOpen(el);
      const { callback } = await completePayment(sessionId, 'success');
      expect(statusChecks(fetch)).to.equal(0);

      const message = nextMessage(event => event.data?.type === 'galaxy-pay:return');
      frameOf(el)!.src = callback!;
      await Promise.all([oneEvent(el, 'galaxy-pay-result'), message]);

      expect(statusChecks(fetch)).to.equal(1);
      expect(events.filter(e => e.type === 'result')).to.have.length(1);
    });

    it('reports a declined payment as a failed result', async () => {
      const { detail } = await endOnGateway('failure', 'galaxy-pay-result');

      expect(detail.status).to.equal('failed');
    });

    it('reports a cancellation on the gateway page as galaxy-pay-cancel', async () => {
      const { el, sessionId, detail } = await endOnGateway('cancel', 'galaxy-pay-cancel');

      expect(detail).to.deep.equal({ reason: 'gateway', sessionId, orderRef: el.orderRef });
    });

    it('closes with the close button: the signer confirms the cancellation', async () => {
      const { el, events } = await recordedButton({ mode: 'modal' });
      const { sessionId } = await clickAndOpen(el);

      shadow(el).querySelector<HTMLButtonElement>('.x')!.click();
      const { detail } = await oneEvent(el, 'galaxy-pay-cancel');

      expect(detail).to.deep.equal({ reason: 'user', sessionId, orderRef: el.orderRef });
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'cancel']);
    });

    it('close() on a payment that went through reports it as paid (T34)', async () => {
      // no-ipn: the signer learns of the payment only by asking the gateway, which cancel does first.
      const { el, events } = await recordedButton({ mode: 'modal', orderRef: newOrder('no-ipn') });
      const { sessionId } = await clickAndOpen(el);
      const settled = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');

      el.close();
      const { detail } = await settled;

      expect(detail.status).to.equal('paid');
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    });

    it('reports a verified message that disagrees with the order as NEEDS_REVIEW, never paid', async () => {
      const { el, events } = await recordedButton({
        mode: 'modal',
        orderRef: newOrder('currency_USD'),
      });
      const { sessionId } = await clickAndOpen(el);

      const settled = oneEvent(el, 'galaxy-pay-error');
      await completePayment(sessionId, 'success');
      const { detail } = await settled;

      expect(detail).to.include({ code: 'NEEDS_REVIEW', retryable: false });
      expect(events.map(e => e.type)).to.not.include('result');
    });

    it('falls back to a new window when the frame does not load in time (T36)', async () => {
      const open = sinon.spy(window, 'open');
      const { el, events } = await recordedButton({ mode: 'modal' });
      el.frameTimeout = 1;
      const error = oneEvent(el, 'galaxy-pay-error');
      const { sessionId } = await clickAndOpen(el);

      expect((await error).detail).to.include({ code: 'FRAME_TIMEOUT', retryable: true });
      await el.updateComplete;
      expect(frameOf(el)).to.equal(null);
      shadow(el).querySelector<HTMLButtonElement>('.alt')!.click();
      const popup = popupOf(open);
      await until(() => {
        try {
          return popup.location.href.includes('/checkout/');
        } catch {
          return true; // cross-origin now: navigated to the gateway
        }
      });
      expect(dialogOf(el).open).to.equal(false);
      const settled = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');

      expect((await settled).detail.status).to.equal('paid');
      expect(popup.closed).to.equal(true);
      expect(events.map(e => e.type)).to.deep.equal(['open', 'error', 'close', 'result']);
    });

    it('falls back under a page CSP without the gateway in frame-src, with no inline-style violation (T36)', async () => {
      const { signerUrl } = await stack();
      // A strict merchant policy: no inline styles at all, and (on purpose) no gateway in frame-src.
      const csp = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self' http://127.0.0.1:*",
        "frame-src 'none'",
      ].join('; ');
      const query = new URLSearchParams({
        signer: signerUrl,
        order: newOrder(),
        mode: 'modal',
        csp,
      });
      const frame = await loadFrame(`/test-pages/merchant.html?${query}`);
      const page = frame.contentWindow!;
      const el = await until(() => page.document.querySelector('galaxy-pay-button'));
      await el.updateComplete;

      payButton(el).click();
      await until(() => page.events.some(e => e.type === 'error'), 15_000);

      expect(page.events.find(e => e.type === 'error')!.detail).to.include({
        code: 'FRAME_BLOCKED',
      });
      expect(page.violations.filter(v => v !== 'frame-src')).to.deep.equal([]);
      expect(el.shadowRoot!.querySelectorAll('[style]')).to.have.length(0);
      el.close();
    });
  });

  describe('popup mode', () => {
    it('opens about:blank inside the click, navigates it to the gateway, and closes it with the result', async () => {
      const open = sinon.spy(window, 'open');
      const { el, events } = await recordedButton({ mode: 'popup' });

      payButton(el).click();
      // Synchronously, before any await: a popup opened later is blocked (T35).
      expect(open.calledOnceWith('about:blank')).to.equal(true);
      const { sessionId, mode } = (await oneEvent(el, 'galaxy-pay-open')).detail;
      expect(mode).to.equal('popup');
      const settled = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');

      expect((await settled).detail.status).to.equal('paid');
      expect(popupOf(open).closed).to.equal(true);
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    });

    it('a closed popup makes the element ask the signer, which then confirms the cancellation', async () => {
      const { el, events, sessionId, popup } = await popupPayment({ closeGrace: 300 });

      popup.close();
      const { detail } = await oneEvent(el, 'galaxy-pay-cancel');

      expect(detail).to.deep.equal({ reason: 'closed', sessionId, orderRef: el.orderRef });
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'cancel']);
    });

    it('reports a payment that lands after the popup closed (late IPN, T34)', async () => {
      const { el, events, sessionId, popup } = await popupPayment({ closeGrace: 10_000 });

      popup.close();
      await oneEvent(el, 'galaxy-pay-close');
      const settled = oneEvent(el, 'galaxy-pay-result');
      await completePayment(sessionId, 'success');

      expect((await settled).detail.status).to.equal('paid');
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    });

    it('dispatches POPUP_BLOCKED and falls back to the modal when window.open returns null (T35)', async () => {
      sinon.stub(window, 'open').returns(null);
      const { el, events } = await recordedButton({ mode: 'popup' });

      payButton(el).click();
      const { detail } = await oneEvent(el, 'galaxy-pay-open');

      expect(events[0]).to.deep.include({ type: 'error' });
      expect(events[0]!.detail).to.include({ code: 'POPUP_BLOCKED', retryable: true });
      expect(detail.mode).to.equal('modal');
      expect(dialogOf(el).open).to.equal(true);
      await closeAndCancel(el);
    });
  });

  describe('auto mode', () => {
    after(() => setViewport({ width: 800, height: 600 }));

    it('uses the modal on a wide screen', async () => {
      await setViewport({ width: 1200, height: 800 });
      const el = await button({ mode: 'auto' });

      expect((await clickAndOpen(el)).mode).to.equal('modal');
      await closeAndCancel(el);
    });

    it('uses a popup on a small screen', async () => {
      await setViewport({ width: 375, height: 700 });
      const open = sinon.spy(window, 'open');
      const el = await button({ mode: 'auto' });

      expect((await clickAndOpen(el)).mode).to.equal('popup');
      expect(open.calledOnce).to.equal(true);
      await closeAndCancel(el);
      expect(popupOf(open).closed).to.equal(true);
    });
  });

  describe('redirect mode', () => {
    it('navigates to the gateway, and on return reports the verified result once', async () => {
      const { signerUrl } = await stack();
      const query = new URLSearchParams({ signer: signerUrl, order: newOrder() });
      const returnUrl = new URL(`/test-pages/merchant.html?${query}&via=attribute`, location.href);
      query.set('return', returnUrl.href);
      const frame = await loadFrame(`/test-pages/merchant.html?${query}`);
      const el = await until(() => frame.contentDocument!.querySelector('galaxy-pay-button'));
      await el.updateComplete;
      const opened = oneEvent(el, 'galaxy-pay-open');

      const left = oneEvent(frame, 'load');
      payButton(el).click();
      const { sessionId, mode } = (await opened).detail;
      await left;
      expect(mode).to.equal('redirect');
      const { callback } = await completePayment(sessionId, 'success');
      const back = oneEvent(frame, 'load');
      frame.src = callback!;
      await back;

      const page = frame.contentWindow!;
      await until(() => page.events?.some(e => e.type === 'result'));
      expect(page.events.map(e => e.type)).to.deep.equal(['result']);
      expect(page.events[0]!.detail).to.include({ status: 'paid', sessionId });
      // Came back to return-url, and the parameter is gone: a reload does not report it twice.
      expect(page.location.search)
        .to.contain('via=attribute')
        .and.not.contain('galaxy_pay_session');
    });

    it('stays quiet about a returned session of another order', async () => {
      const { signerUrl } = await stack();
      const other = await button({ mode: 'modal' });
      const { sessionId } = await clickAndOpen(other);
      const query = new URLSearchParams({ signer: signerUrl, order: newOrder() });
      query.set('galaxy_pay_session', sessionId);

      const frame = await loadFrame(`/test-pages/merchant.html?${query}`);
      await askedAndIdle(frame, sessionId);

      expect(frame.contentWindow!.events).to.deep.equal([]);
      expect(frame.contentWindow!.location.search).to.contain('galaxy_pay_session');
      other.close();
    });

    it('stays quiet about a returned session id the signer does not know (stale or forged link)', async () => {
      const { signerUrl } = await stack();
      const query = new URLSearchParams({ signer: signerUrl, order: newOrder() });
      query.set('galaxy_pay_session', 'forged-0000000000000000000000');

      const frame = await loadFrame(`/test-pages/merchant.html?${query}`);
      const el = await askedAndIdle(frame, 'forged-0000000000000000000000');

      expect(frame.contentWindow!.events).to.deep.equal([]);
      expect(payButton(el).getAttribute('aria-disabled')).not.to.equal('true');
    });
  });

  describe('lifecycle (T38)', () => {
    it('opens one session for a double click', async () => {
      const fetch = sinon.spy(window, 'fetch');
      const { el, events } = await recordedButton({ mode: 'modal' });

      payButton(el).click();
      payButton(el).click();
      el.open();
      await oneEvent(el, 'galaxy-pay-open');
      payButton(el).click();
      expect(payButton(el).getAttribute('aria-disabled')).to.equal('true');
      await closeAndCancel(el);

      expect(sessionPosts(fetch)).to.have.length(1);
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'cancel']);
      expect(payButton(el).hasAttribute('aria-disabled')).to.equal(false);
    });

    it('removed while the session is being created: aborts it and dispatches nothing', async () => {
      const el = await button({ mode: 'modal' });
      const fetch = sinon.spy(window, 'fetch');
      const events = record(el);
      const parent = el.parentElement!;

      payButton(el).click();
      el.remove();
      const created = fetch.getCalls().find(call => String(call.args[0]).endsWith('/sessions'))!;
      const error = await (created.returnValue as Promise<Response>).catch((e: Error) => e);
      expect(error).to.have.property('name', 'AbortError');
      // Put back, it pays as usual: its events are that payment's, none came from the aborted one.
      parent.append(el);
      await clickAndOpen(el);

      expect(events.map(e => e.type)).to.deep.equal(['open']);
      await closeAndCancel(el);
    });

    it('removed mid-payment: closes the popup and dispatches nothing, even when the payment lands', async () => {
      const { el, events, sessionId, popup } = await popupPayment();
      const parent = el.parentElement!;

      el.remove();
      await completePayment(sessionId, 'success');
      expect(popup.closed).to.equal(true);
      // Put back and clicked: the signer refuses the order it now knows is paid, an answer that comes after
      // the payment landed; the removed payment reported nothing meanwhile.
      parent.append(el);
      payButton(el).click();
      const { detail } = await oneEvent(el, 'galaxy-pay-error');

      expect(detail.code).to.equal('ORDER_PAID');
      expect(events.map(e => e.type)).to.deep.equal(['open', 'close', 'error']);
    });

    it('two buttons on one page never cross-talk, one payment at a time', async () => {
      const open = sinon.spy(window, 'open');
      const a = await button({ mode: 'popup' });
      const b = await button({ mode: 'popup' });
      const eventsA = record(a);
      const eventsB = record(b);
      const { sessionId: idA } = await clickAndOpen(a);
      // DESIGN §4, one open at a time: a click on b while a's popup is open only brings that popup forward.
      payButton(b).click();

      const settled = oneEvent(a, 'galaxy-pay-result');
      await completePayment(idA, 'success');
      await settled;
      expect(eventsB).to.deep.equal([]);
      expect(open.calledOnce).to.equal(true);

      const { sessionId: idB } = await clickAndOpen(b);
      // A popup that is closed (by the shopper, or cut off by COOP) while its result is awaited blocks nothing.
      b.closeGrace = 10_000;
      (open.returnValues[1] as Window).close();
      await oneEvent(b, 'galaxy-pay-close');
      const c = await button({ mode: 'popup' });
      expect((await clickAndOpen(c)).mode).to.equal('popup');
      c.close();
      await oneEvent(c, 'galaxy-pay-cancel');
      const settledB = oneEvent(b, 'galaxy-pay-result');
      await completePayment(idB, 'failure');
      expect((await settledB).detail).to.include({ status: 'failed', sessionId: idB });
      expect(eventsA.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
      expect(eventsB.map(e => e.type)).to.deep.equal(['open', 'close', 'result']);
    });
  });

  describe('messages (T33)', () => {
    it('ignores forged messages and only asks the signer for the real one', async () => {
      const { signerUrl } = await stack();
      sinon.stub(window, 'EventSource').value(undefined);
      const fetch = sinon.spy(window, 'fetch');
      const { el, events } = await recordedButton({ mode: 'modal' });
      el.pollInterval = 600_000;
      const { sessionId } = await clickAndOpen(el);
      const ours = frameOf(el)!.contentWindow!;
      const nonce = checkoutOf(el).flow!.nonce;
      const good = { type: 'galaxy-pay:return', sessionId, nonce };
      const forge = (init: MessageEventInit) =>
        dispatchEvent(
          new MessageEvent('message', { origin: signerUrl, source: ours, data: good, ...init }),
        );

      forge({ origin: `${signerUrl}.evil.tld` });
      forge({ origin: signerUrl.replace('127.0.0.1', 'localhost') });
      forge({ origin: 'null' });
      forge({ source: window });
      forge({ data: { ...good, nonce: 'guess' } });
      forge({ data: { ...good, status: 'paid', nonce: undefined } });
      forge({ data: 'galaxy-pay:return' });
      // A real window of another (opaque) origin posting the exact message.
      const script = `<script>parent.postMessage(${JSON.stringify(good)}, '*')</script>`;
      const delivered = nextMessage(event => event.origin === 'null');
      await loadFrame(`data:text/html,${encodeURIComponent(script)}`);
      await delivered;
      expect(statusChecks(fetch)).to.equal(0);
      expect(events.map(e => e.type)).to.deep.equal(['open']);

      forge({});
      await until(() => statusChecks(fetch) === 1);
      expect(events.map(e => e.type)).to.deep.equal(['open']);
      await closeAndCancel(el);
    });
  });

  describe('accessibility', () => {
    it('has no axe violations, idle and with the dialog open', async () => {
      const el = await button({ mode: 'modal' });
      expect(await axeViolations(el)).to.deep.equal([]);

      await clickAndOpen(el);
      await until(() => !shadow(el).querySelector('.spin'));

      expect(await axeViolations(el)).to.deep.equal([]);
      await closeAndCancel(el);
    });

    it('works with the keyboard alone: Enter opens, focus is trapped, Escape cancels, focus returns', async () => {
      const el = await button({ mode: 'modal' });
      const focused = () => shadow(el).activeElement;

      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(payButton(el));
      const opened = oneEvent(el, 'galaxy-pay-open');
      await sendKeys({ press: 'Enter' });
      await opened;
      await until(() => !shadow(el).querySelector('.spin'));

      expect(focused()).to.equal(shadow(el).querySelector('.x'));
      await sendKeys({ down: 'Shift' });
      await sendKeys({ press: 'Tab' });
      await sendKeys({ up: 'Shift' });
      expect(focused()).to.equal(shadow(el).querySelector('.alt'));
      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(shadow(el).querySelector('.x'));

      const cancelled = oneEvent(el, 'galaxy-pay-cancel');
      await sendKeys({ press: 'Escape' });
      expect((await cancelled).detail.reason).to.equal('user');
      expect(focused()).to.equal(payButton(el));
    });

    it('announces progress in a live region (inside the modal while it is open) and uses no inline style attributes', async () => {
      const el = await button({ mode: 'modal', lang: 'en' });
      const outside = [...shadow(el).querySelectorAll('[role=status]')].find(
        e => !e.closest('dialog'),
      )!;
      const inside = dialogOf(el).querySelector('[role=status]')!;

      await clickAndOpen(el);
      await until(() => inside.textContent === 'Waiting for your payment…');
      // The page behind a modal dialog is inert: a region there would not be read out.
      expect(outside.textContent).to.equal('');
      expect(shadow(el).querySelectorAll('[style]')).to.have.length(0);
      expect(shadow(el).adoptedStyleSheets.length).to.be.greaterThan(0);
      await closeAndCancel(el);

      await until(() => outside.textContent === 'Payment cancelled.');
      expect(inside.textContent).to.equal('');
    });
  });
});
