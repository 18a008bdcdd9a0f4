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

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

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
    const fetch = sinon.stub(window, 'fetch');
    fetch.onCall(0).resolves(json(view('pending')));
    fetch.onCall(1).resolves(json(view('paid')));
    const seen: string[] = [];

    watchSession('https://s.test', 'S1', v => seen.push(v.status), { sse: false, pollMs: 10 });
    await new Promise(resolve => setTimeout(resolve, 80));

    expect(seen).to.deep.equal(['pending', 'paid']);
    expect(fetch.callCount).to.equal(2);
  });

  it('closes a broken event stream and polls instead, until a final status', async () => {
    const fetch = sinon.stub(window, 'fetch').resolves(json(view('paid')));
    const close = sinon.spy(EventSource.prototype, 'close');
    const seen: string[] = [];

    // Nothing listens there: the stream fails at once, and EventSource alone would retry for ever.
    watchSession('http://127.0.0.1:9', 'S1', v => seen.push(v.status), { pollMs: 10 });
    await new Promise(resolve => setTimeout(resolve, 300));

    expect(close.called).to.equal(true);
    expect(seen).to.deep.equal(['paid']);
    expect(String(fetch.firstCall.args[0])).to.equal('http://127.0.0.1:9/sessions/S1');
  });

  it('stops polling when its signal aborts', async () => {
    const fetch = sinon.stub(window, 'fetch').resolves(json(view('pending')));
    const controller = new AbortController();

    watchSession('https://s.test', 'S1', () => undefined, {
      sse: false,
      pollMs: 10,
      signal: controller.signal,
    });
    await new Promise(resolve => setTimeout(resolve, 35));
    controller.abort();
    const calls = fetch.callCount;
    await new Promise(resolve => setTimeout(resolve, 50));

    expect(calls).to.be.greaterThan(0);
    expect(fetch.callCount).to.equal(calls);
  });
});
