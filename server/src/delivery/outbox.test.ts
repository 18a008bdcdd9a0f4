import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../logger.js';
import { verifyWebhook } from './merchant-webhook.js';
import type { PaymentNotice, SignerHooks } from './notices.js';
import { OutboxWorker, retryDelayMs } from './outbox.js';
import type { Session, Store, Transition } from '../store/store.js';
import { eventually, freshStore, seedSession } from '../testing/test-support.js';

const T0 = new Date('2030-03-01T08:00:00.000Z');
const WEBHOOK_SECRET = 'outbox-test-webhook-secret-0123456789';

/** A hand-driven clock. */
function clock(start = T0) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** What a verified IPN reports for a session: success (200) or failure (505). */
const IPN_RESULTS = {
  paid: { code: '200', message: 'Transaction is successful.' },
  failed: { code: '505', message: 'Authentication Failure' },
};

/** The transition a verified IPN makes at `at`: to paid, or to failed. */
function settledBy(to: 'paid' | 'failed', session: Session, at = T0): Transition {
  return {
    to,
    at,
    evidence: { kind: 'ipn', transactionId: session.transactionId, ...IPN_RESULTS[to] },
  };
}

const paid = (session: Session, at = T0) => settledBy('paid', session, at);
const failed = (session: Session, at = T0) => settledBy('failed', session, at);

describe('retryDelayMs', () => {
  it('doubles from one second and stops at one hour', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map(retryDelayMs),
      [1000, 1000, 2000, 4000, 8000, 512_000],
    );
    assert.equal(retryDelayMs(13), 3_600_000);
    assert.equal(retryDelayMs(50), 3_600_000);
  });
});

describe('OutboxWorker against a real store (SQLite)', () => {
  let fresh: Awaited<ReturnType<typeof freshStore>>;
  let store: Store;
  let worker: OutboxWorker | undefined;

  beforeEach(async () => {
    fresh = await freshStore('sqlite');
    store = fresh.store;
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await store.close();
    await fresh.drop();
  });

  function startWorker(options: {
    hooks?: SignerHooks;
    webhook?: { url: string; secret: string };
    now: () => Date;
    store?: Store;
    pollMs?: number;
  }): OutboxWorker {
    worker = new OutboxWorker({
      store: options.store ?? store,
      logger: silentLogger,
      now: options.now,
      hooks: options.hooks,
      webhook: options.webhook,
      pollMs: options.pollMs ?? 60_000,
    });
    return worker;
  }

  /** A seeded session (of `amount`, or the default) that went paid at T0: one outbox row, due. */
  async function paidSession(amount?: number): Promise<Session> {
    const session = await seedSession(store, { amount, now: T0 });
    await store.transition(session.id, paid(session));
    return session;
  }

  describe('with neither hooks nor a webhook', () => {
    it('spends no commit on the outbox: rows stay undelivered and unclaimed', async () => {
      const session = await paidSession();
      const outbox = startWorker({ now: clock().now, hooks: {} });

      outbox.start();
      await outbox.drain();

      const [row] = await store.listOutbox(session.id);
      assert.equal(outbox.hasConsumers, false);
      assert.equal(row!.attempts, 0);
      assert.equal(row!.deliveredAt, null);
    });
  });

  describe('with hooks', () => {
    it('calls each hook once per event, with a stable id and the fixed payload', async () => {
      const a = await seedSession(store, { amount: 500_000, now: T0 });
      const b = await seedSession(store, { amount: 120_000, now: T0 });
      await store.transition(a.id, paid(a));
      await store.transition(b.id, failed(b));
      const seen: PaymentNotice[] = [];
      const outbox = startWorker({
        now: clock().now,
        hooks: {
          onPaid: notice => void seen.push(notice),
          onFailed: notice => void seen.push(notice),
        },
      });

      await outbox.drain();
      await outbox.drain();
      await store.transition(a.id, paid(a));
      await outbox.drain();

      assert.deepEqual(
        seen.map(n => [n.id, n.event, n.status, n.amount, n.currency]),
        [
          [`${a.id}:paid`, 'paid', 'paid', 500_000, 'VND'],
          [`${b.id}:failed`, 'failed', 'failed', 120_000, 'VND'],
        ],
      );
      assert.equal(seen[0]!.orderRef, a.orderRef);
      assert.equal(seen[0]!.transactionId, a.transactionId);
      const [row] = await store.listOutbox(a.id);
      assert.equal(row!.attempts, 1);
      assert.ok(row!.deliveredAt);
    });

    it('retries a throwing hook after retryDelayMs, with backoff, and delivers it later', async () => {
      const session = await paidSession();
      const time = clock();
      let calls = 0;
      const outbox = startWorker({
        now: time.now,
        hooks: {
          onPaid: () => {
            calls += 1;
            if (calls <= 2) throw new Error(`merchant system down (${calls})`);
          },
        },
      });

      await outbox.drain();
      // After each failed attempt: the row, then a pass a millisecond before the retry is due, then one at it.
      const rows = [];
      const callsBeforeDue = [];
      for (const attempts of [1, 2]) {
        rows.push((await store.listOutbox(session.id))[0]);
        time.advance(retryDelayMs(attempts) - 1);
        await outbox.drain();
        callsBeforeDue.push(calls);
        time.advance(1);
        await outbox.drain();
      }
      const [afterFirst, afterSecond] = rows;

      assert.equal(afterFirst!.deliveredAt, null);
      assert.equal(afterFirst!.attempts, 1);
      assert.match(afterFirst!.lastError ?? '', /merchant system down \(1\)/);
      assert.equal(afterFirst!.nextAttemptAt.getTime(), T0.getTime() + 1000);
      assert.equal(callsBeforeDue[0], 1);
      assert.equal(afterSecond!.attempts, 2);
      assert.equal(afterSecond!.nextAttemptAt.getTime(), T0.getTime() + 1000 + 2000);
      assert.equal(callsBeforeDue[1], 2);
      assert.equal(calls, 3);
      const [done] = await store.listOutbox(session.id);
      assert.equal(done!.attempts, 3);
      assert.equal(done!.deliveredAt?.getTime(), T0.getTime() + 3000);
    });

    it('keeps running, without an unhandled rejection, while the store is failing', async () => {
      let claims = 0;
      const broken = new Proxy(store, {
        get(target, property, receiver) {
          if (property === 'claimOutbox') {
            return () => {
              claims += 1;
              return Promise.reject(new Error('database is down'));
            };
          }
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const rejections: unknown[] = [];
      const onRejection = (reason: unknown) => void rejections.push(reason);
      process.on('unhandledRejection', onRejection);
      try {
        // A consumer, or the worker would never poll (nor fail).
        const outbox = startWorker({
          now: clock().now,
          store: broken,
          pollMs: 5,
          hooks: { onPaid: () => undefined },
        });

        outbox.start();
        await outbox.drain();
        // The polls go on: each new claim comes after the failed pass before it has been handled.
        await eventually(() => claims >= 4);
        await outbox.stop();
      } finally {
        process.off('unhandledRejection', onRejection);
      }

      assert.deepEqual(rejections, []);
    });
  });

  describe('with the signed webhook', () => {
    let receiver: Server;
    let receiverUrl: string;
    const received: Array<{ headers: IncomingHttpHeaders; body: string; at: Date }> = [];
    const replies: number[] = [];
    let time: ReturnType<typeof clock>;

    before(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', chunk => (body += chunk));
        req.on('end', () => {
          received.push({ headers: req.headers, body, at: time.now() });
          res.statusCode = replies.shift() ?? 204;
          if (res.statusCode === 302) res.setHeader('location', `${receiverUrl}/moved`);
          res.end();
        });
      });
      await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/galaxy-pay`;
    });
    after(() => new Promise<void>(resolve => receiver.close(() => resolve())));
    beforeEach(() => {
      received.length = 0;
      replies.length = 0;
      time = clock();
    });

    const webhookWorker = () =>
      startWorker({ now: time.now, webhook: { url: receiverUrl, secret: WEBHOOK_SECRET } });

    function verify(entry: (typeof received)[number]): PaymentNotice {
      verifyWebhook(entry.body, entry.headers as Record<string, string>, {
        secret: WEBHOOK_SECRET,
        now: () => entry.at.getTime(),
      });
      return JSON.parse(entry.body) as PaymentNotice;
    }

    it('POSTs the event with valid Standard Webhooks headers', async () => {
      const session = await paidSession(42_000);
      const outbox = webhookWorker();

      await outbox.drain();

      assert.equal(received.length, 1);
      const notice = verify(received[0]!);
      assert.equal(received[0]!.headers['content-type'], 'application/json');
      assert.equal(received[0]!.headers['webhook-id'], `${session.id}:paid`);
      assert.equal(received[0]!.headers['webhook-timestamp'], String(T0.getTime() / 1000));
      assert.equal(notice.id, `${session.id}:paid`);
      assert.equal(notice.amount, 42_000);
      assert.equal(notice.status, 'paid');
      assert.ok((await store.listOutbox(session.id))[0]!.deliveredAt);
    });

    it('retries after a 500 from the receiver, re-signed, with the same webhook-id', async () => {
      const session = await paidSession();
      replies.push(500, 503);
      const outbox = webhookWorker();

      await outbox.drain();
      const [afterFailure] = await store.listOutbox(session.id);
      time.advance(retryDelayMs(1));
      await outbox.drain();
      time.advance(retryDelayMs(2));
      await outbox.drain();
      await outbox.drain();

      assert.match(afterFailure!.lastError ?? '', /HTTP 500/);
      assert.equal(afterFailure!.deliveredAt, null);
      assert.equal(received.length, 3);
      const ids = received.map(r => r.headers['webhook-id']);
      assert.deepEqual(ids, Array(3).fill(`${session.id}:paid`));
      const stamps = received.map(r => Number(r.headers['webhook-timestamp']));
      assert.deepEqual(
        stamps,
        [0, 1, 3].map(s => T0.getTime() / 1000 + s),
      );
      for (const entry of received) verify(entry);
      assert.equal(new Set(received.map(r => r.body)).size, 1);
      const [row] = await store.listOutbox(session.id);
      assert.equal(row!.attempts, 3);
      assert.ok(row!.deliveredAt);
    });

    it('treats a redirect from the receiver as a failure (never follows it)', async () => {
      const session = await paidSession();
      replies.push(302);
      const outbox = webhookWorker();

      await outbox.drain();

      assert.equal(received.length, 1);
      const [row] = await store.listOutbox(session.id);
      assert.equal(row!.deliveredAt, null);
    });
  });
});
