import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import { cancelSession, getSession, watchSession } from './session.js';
import { GalaxyPayRequestError, createSession } from './signer-client.js';
import type { SessionView } from './types.js';

const view = (status: SessionView['status']): SessionView => ({
  sessionId: 'S1',
  status,
  orderRef: 'A1',
  amount: 1000,
  currency: 'VND',
  transactionId: null,
  code: null,
  message: null,
  cancelReason: null,
  lateSuccess: false,
  paidAt: null,
  expiresAt: '2030-01-01T00:00:00.000Z',
});

/** A signer's JSON answer, as much of a Response as `call` reads: its body is there within microtasks. */
const json = (body: unknown, status = 200) =>
  ({ ok: status < 300, status, json: () => Promise.resolve(body) }) as Response;

describe('signer-client', () => {
  afterEach(() => sinon.restore());

  it('posts the order reference as JSON, without cookies', async () => {
    const fetch = sinon.stub(window, 'fetch').resolves(json({ sessionId: 'S1' }, 201));

    await createSession('https://s.test/gp', { orderRef: 'A1', locale: 'en' });

    const [url, init] = fetch.firstCall.args as [string, RequestInit];
    expect(url).to.equal('https://s.test/gp/sessions');
    expect(init.method).to.equal('POST');
    expect(init.credentials).to.equal('omit');
    expect(JSON.parse(String(init.body))).to.deep.equal({ orderRef: 'A1', locale: 'en' });
  });

  it('throws GalaxyPayRequestError naming the URL, the status and the signer code', async () => {
    sinon.stub(window, 'fetch').resolves(json({ error: { code: 'order_already_paid' } }, 409));

    const error = await createSession('https://s.test', { orderRef: 'A1' }).catch(e => e);

    expect(error).to.be.instanceOf(GalaxyPayRequestError);
    expect(error.status).to.equal(409);
    expect(error.code).to.equal('order_already_paid');
    expect(error.message).to.contain('https://s.test/sessions').and.contain('409');
  });

  it('reports an unreachable signer as status 0', async () => {
    sinon.stub(window, 'fetch').rejects(new TypeError('Failed to fetch'));

    const error = await getSession('https://s.test', 'S1').catch(e => e);

    expect(error.status).to.equal(0);
  });

  it('escapes the session id in the path and sends the cancel reason', async () => {
    const fetch = sinon.stub(window, 'fetch').resolves(json(view('cancelled')));

    await cancelSession('https://s.test', 'a/b', 'user');

    const [url, init] = fetch.firstCall.args as [string, RequestInit];
    expect(url).to.equal('https://s.test/sessions/a%2Fb/cancel');
    expect(JSON.parse(String(init.body))).to.deep.equal({ reason: 'user' });
  });

  it('polls when Server-Sent Events are off, until a final status', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const fetch = sinon.stub(window, 'fetch');
    fetch.onCall(0).resolves(json(view('pending')));
    fetch.onCall(1).resolves(json(view('paid')));
    const seen: string[] = [];

    watchSession('https://s.test', 'S1', v => seen.push(v.status), { sse: false, pollMs: 10 });
    await clock.tickAsync(10);
    expect(seen).to.deep.equal(['pending']);
    await clock.tickAsync(10);
    expect(seen).to.deep.equal(['pending', 'paid']);
    await clock.tickAsync(100);

    expect(fetch.callCount).to.equal(2);
    expect(clock.countTimers()).to.equal(0);
  });

  it('closes a broken event stream and polls instead, until a final status', async () => {
    const fetch = sinon.stub(window, 'fetch').resolves(json(view('paid')));
    const close = sinon.spy(EventSource.prototype, 'close');
    const controller = new AbortController();

    // Nothing listens there: the stream fails at once, and EventSource alone would retry for ever.
    const seen = await new Promise<string>(resolve =>
      watchSession('http://127.0.0.1:9', 'S1', v => resolve(v.status), {
        pollMs: 10,
        signal: controller.signal,
      }),
    );
    controller.abort();

    expect(close.called).to.equal(true);
    expect(seen).to.equal('paid');
    expect(String(fetch.firstCall.args[0])).to.equal('http://127.0.0.1:9/sessions/S1');
  });

  it('stops polling when its signal aborts', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const fetch = sinon.stub(window, 'fetch').resolves(json(view('pending')));
    const controller = new AbortController();

    watchSession('https://s.test', 'S1', () => undefined, {
      sse: false,
      pollMs: 10,
      signal: controller.signal,
    });
    await clock.tickAsync(35);
    controller.abort();
    await clock.tickAsync(50);

    expect(fetch.callCount).to.equal(3);
    expect(clock.countTimers()).to.equal(0);
  });

  it('does nothing for a signal that has already aborted: no stream, no polling', () => {
    const stream = sinon.spy(window, 'EventSource');
    const interval = sinon.spy(window, 'setInterval');

    watchSession('https://s.test', 'S1', () => undefined, { signal: AbortSignal.abort() });

    expect(stream.called).to.equal(false);
    expect(interval.called).to.equal(false);
  });
});
