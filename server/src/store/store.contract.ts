import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { UNVERIFIED_RAW_KEEP_BYTES, type EvidenceStoreOptions } from './evidence.js';
import { FINAL_STATUSES, IDEMPOTENCY_LEASE_MS, SESSION_STATUSES } from './store.js';
import { outboxPayload } from './transitions.js';
import type {
  Evidence,
  NewOperation,
  NewSession,
  Order,
  PaymentEvent,
  Session,
  SessionFacts,
  SessionStatus,
  Store,
  Transition,
  TransitionResult,
} from './store.js';

type Target = Transition['to'];

const T0 = new Date('2030-01-01T00:00:00.000Z');
/** Every status a transition may target: the final ones. */
const TARGETS = FINAL_STATUSES as readonly Target[];
const STATUSES = SESSION_STATUSES;

/** docs/reliability.md §2, written out again here so the suite checks the adapters, not itself. */
const EXPECTED_MOVES: Readonly<Record<SessionStatus, readonly Target[]>> = {
  pending: TARGETS,
  pending_unknown: TARGETS,
  // A late authorization holds money on the card too: recorded and flagged like a late success.
  failed: ['paid', 'needs_review', 'authorized'],
  cancelled: ['paid', 'needs_review', 'authorized'],
  expired: ['paid', 'needs_review', 'authorized'],
  paid: [],
  needs_review: [],
  // Manual capture: a capture makes it paid (not a late success), a void voided.
  authorized: ['paid', 'needs_review', 'voided'],
  voided: [],
};
const LATE_FROM: readonly SessionStatus[] = ['failed', 'cancelled', 'expired'];

function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('base64url')}`;
}

function newOrder(overrides: Partial<Order> = {}): Order {
  return {
    orderRef: uniqueId('order'),
    amount: 150_000,
    currency: 'VND',
    description: 'Two coffees',
    netAmount: 140_000,
    feeAmount: 20_000,
    discountAmount: 10_000,
    createdAt: at(0),
    ...overrides,
  };
}

function newSession(orderRef: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: uniqueId('session'),
    nonce: uniqueId('nonce'),
    orderRef,
    gatewayOrderId: uniqueId('gw'),
    requestId: uniqueId('req'),
    amount: 150_000,
    currency: 'VND',
    locale: 'vi',
    paymentMethod: null,
    sourceType: null,
    returnUrl: 'https://shop.example/thanks',
    merchantOrigin: 'https://shop.example',
    createdAt: at(0),
    expiresAt: at(15 * 60),
    ...overrides,
  };
}

function evidence(overrides: Partial<Evidence> = {}): Evidence {
  return {
    kind: 'ipn',
    transactionId: uniqueId('txn'),
    code: '200',
    message: 'Transaction success',
    ...overrides,
  };
}

function transitionTo(to: Target, when: Date, proof: Evidence = evidence()): Transition {
  switch (to) {
    case 'paid':
      return { to, evidence: proof, at: when };
    case 'failed':
      return { to, evidence: { ...proof, code: '150', message: 'Card declined' }, at: when };
    case 'cancelled':
      return { to, reason: 'user', evidence: null, at: when };
    case 'expired':
      return { to, at: when };
    case 'needs_review':
      return { to, evidence: proof, detail: 'amount disagrees with the order', at: when };
    case 'authorized':
      return { to, evidence: { ...proof, code: '202', message: 'Authorized' }, at: when };
    case 'voided':
      return { to, evidence: { ...proof, code: '210', message: 'Voided' }, at: when };
  }
}

function paymentEvent(
  sessionId: string | null,
  overrides: Partial<PaymentEvent> = {},
): PaymentEvent {
  return {
    sessionId,
    kind: 'ipn',
    transactionId: null,
    raw: 'eyJvcmRlcklEIjoiMSJ9',
    verified: true,
    verdict: 'applied',
    detail: null,
    receivedAt: at(30),
    ...overrides,
  };
}

/** What `settleReport` hands its decision: the facts of the session (an adapter may hand more). */
function factsOf(session: SessionFacts): SessionFacts {
  const { id, status, plan, amount, currency, transactionId } = session;
  return { id, status, plan, amount, currency, transactionId };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The caps of the migration 6 test: fewer than the legacy rows. */
export const LEGACY_CAPS = { maxRows: 50, maxBytes: 1_000_000 };

/**
 * Migration 6 on a database whose unverified rows predate it: 120 unverified `legacy-<i>` rows and 5 verified
 * `verified-<i>` rows of `legacy-session`, backfilled. `store` (opened with {@link LEGACY_CAPS}) migrates, and
 * its next unverified insert trims the old rows to the caps; verified rows stay. Closes the store.
 */
export async function checkLegacyEvidenceTrimmed(store: Store, receivedAt: Date): Promise<void> {
  await store.migrate();
  try {
    await store.recordEvent({
      sessionId: 'legacy-session',
      kind: 'ipn',
      transactionId: null,
      raw: 'new',
      verified: false,
      verdict: 'bad_signature',
      detail: 'invalid_signature',
      receivedAt,
    });

    const events = await store.listEvents('legacy-session');
    assert.deepEqual(
      events.filter(event => event.verified).map(event => event.raw),
      ['verified-0', 'verified-1', 'verified-2', 'verified-3', 'verified-4'],
    );
    assert.deepEqual(
      events.filter(event => !event.verified).map(event => event.raw),
      [...Array.from({ length: 49 }, (_, i) => `legacy-${71 + i}`), 'new'],
    );
  } finally {
    await store.close();
  }
}

/**
 * The behaviour every {@link Store} adapter must have. `makeStore` opens a new,
 * migrated store instance on the adapter's test database each time it is called; the suite closes
 * every instance it opens, and leaves removing the database to the caller.
 */
/**
 * The contract every store meets. `makeStore` opens a migrated store on the suite's database; with options, a
 * second one on the same database (the suite closes it).
 */
export function describeStoreContract(
  name: string,
  makeStore: (options?: EvidenceStoreOptions) => Promise<Store>,
): void {
  describe(`${name} store`, () => {
    let store: Store;

    before(async () => {
      store = await makeStore();
    });

    after(async () => {
      await store.close();
    });

    async function givenSession(overrides: Partial<NewSession> = {}): Promise<Session> {
      const order = await store.putOrder(newOrder());
      return store.createSession(newSession(order.orderRef, overrides));
    }

    async function givenSessionIn(status: SessionStatus): Promise<Session> {
      const session = await givenSession();
      if (status === 'pending') return session;
      if (status === 'pending_unknown') return store.markPendingUnknown(session.id, at(5));
      const { session: moved } = await store.transition(session.id, transitionTo(status, at(10)));
      assert.equal(moved.status, status);
      return moved;
    }

    describe('orders', () => {
      it('saves an order and reads it back with integer amounts', async () => {
        const order = newOrder({ amount: 5_000_000_000_000, netAmount: 5_000_000_000_000 });

        const saved = await store.putOrder(order);

        assert.deepEqual(saved, order);
        assert.deepEqual(await store.getOrder(order.orderRef), order);
      });

      it('keeps the first amount and currency when an order reference is saved again', async () => {
        const order = await store.putOrder(newOrder());

        const again = await store.putOrder({ ...order, amount: 1, currency: 'USD' });

        assert.deepEqual(again, order);
        assert.deepEqual(await store.getOrder(order.orderRef), order);
      });

      it('returns null for an unknown order reference', async () => {
        assert.equal(await store.getOrder(uniqueId('missing')), null);
      });
    });

    describe('sessions', () => {
      it('creates a session in pending with nothing known from the gateway yet', async () => {
        const order = await store.putOrder(newOrder());
        const input = newSession(order.orderRef, { paymentMethod: 'DOMESTIC', sourceType: 'ATM' });

        const session = await store.createSession(input);

        assert.deepEqual(session, {
          ...input,
          status: 'pending',
          lateSuccess: false,
          transactionId: null,
          code: null,
          message: null,
          cancelReason: null,
          checkoutUrl: null,
          updatedAt: input.createdAt,
          paidAt: null,
          plan: null,
          clientKeyHash: null,
          checkFailures: 0,
          nextCheckAt: null,
        });
        assert.deepEqual(await store.getSession(session.id), session);
      });

      it('finds a session by its gateway order id', async () => {
        const session = await givenSession();

        assert.deepEqual(await store.getSessionByGatewayOrderId(session.gatewayOrderId), session);
        assert.equal(await store.getSessionByGatewayOrderId(uniqueId('gw')), null);
      });

      it('finds sessions by gateway order id asked for at once, each caller its own copy', async () => {
        const [a, b] = [await givenSession(), await givenSession()];

        const found = await Promise.all(
          [a, b, null, a].map(session =>
            store.getSessionByGatewayOrderId(session?.gatewayOrderId ?? uniqueId('gw')),
          ),
        );

        assert.deepEqual(found, [a, b, null, a]);
        assert.notEqual(found[0], found[3]);
      });

      it('returns null for an unknown session id', async () => {
        assert.equal(await store.getSession(uniqueId('missing')), null);
      });

      it('refuses a second session with the same gateway order id', async () => {
        const session = await givenSession();

        await assert.rejects(
          store.createSession(
            newSession(session.orderRef, { gatewayOrderId: session.gatewayOrderId }),
          ),
        );
      });

      it('finds the open session of an order until it expires', async () => {
        const order = await store.putOrder(newOrder());
        const open = await store.createSession(newSession(order.orderRef, { createdAt: at(60) }));

        assert.equal((await store.findOpenSession(order.orderRef, at(120)))?.id, open.id);
        assert.equal(await store.findOpenSession(order.orderRef, at(15 * 60)), null);
      });

      it('refuses a second open session for one order, whichever process asks', async () => {
        const order = await store.putOrder(newOrder());
        const first = await store.createSession(newSession(order.orderRef, { createdAt: at(0) }));

        await assert.rejects(
          store.createSession(newSession(order.orderRef, { createdAt: at(1) })),
          (error: unknown) => (error as { code?: string }).code === 'open_session_exists',
        );
        await store.markPendingUnknown(first.id, at(2));
        await assert.rejects(
          store.createSession(newSession(order.orderRef, { createdAt: at(3) })),
          (error: unknown) => (error as { code?: string }).code === 'open_session_exists',
        );
        await store.transition(first.id, transitionTo('failed', at(4)));
        const next = await store.createSession(newSession(order.orderRef, { createdAt: at(5) }));
        assert.equal((await store.findOpenSession(order.orderRef, at(6)))?.id, next.id);
      });

      it('finds a pending_unknown session as open', async () => {
        const session = await givenSessionIn('pending_unknown');

        assert.equal((await store.findOpenSession(session.orderRef, at(60)))?.id, session.id);
      });

      it('ignores final sessions when looking for an open one', async () => {
        for (const status of ['paid', 'failed', 'cancelled', 'expired', 'needs_review'] as const) {
          const session = await givenSessionIn(status);

          assert.equal(await store.findOpenSession(session.orderRef, at(60)), null, status);
        }
      });

      it('finds the paid session of an order only once it is paid', async () => {
        const session = await givenSession();
        assert.equal(await store.findPaidSession(session.orderRef), null);

        await store.transition(session.id, transitionTo('paid', at(30)));

        assert.equal((await store.findPaidSession(session.orderRef))?.id, session.id);
      });

      it('lists open sessions last updated before a time, oldest first, up to a limit', async () => {
        const era = new Date('2001-01-01T00:00:00.000Z').getTime();
        const old = async (minutes: number) => {
          const order = await store.putOrder(newOrder());
          const created = new Date(era + minutes * 60_000);
          return store.createSession(newSession(order.orderRef, { createdAt: created }));
        };
        const first = await old(1);
        const second = await old(2);
        const paid = await old(3);
        await store.transition(paid.id, transitionTo('paid', new Date(era + 4 * 60_000)));
        await old(30);

        const stale = await store.listStalePending(new Date(era + 10 * 60_000), 10);
        const limited = await store.listStalePending(new Date(era + 10 * 60_000), 1);

        assert.deepEqual(
          stale.map(session => session.id),
          [first.id, second.id],
        );
        assert.deepEqual(
          limited.map(session => session.id),
          [first.id],
        );
      });
      it('leaves a session out of the listing while its backoff runs, unless no time is given', async () => {
        const era = new Date('1999-01-01T00:00:00.000Z').getTime();
        const order = await store.putOrder(newOrder());
        const session = await store.createSession(
          newSession(order.orderRef, { createdAt: new Date(era) }),
        );
        const before = new Date(era + 60_000);

        await store.scheduleCheck(session.id, 3, new Date(era + 120_000));

        const waiting = await store.listStalePending(before, 10, new Date(era + 119_000));
        const due = await store.listStalePending(before, 10, new Date(era + 120_000));
        const explicit = await store.listStalePending(before, 10);
        const stored = await store.getSession(session.id);
        await store.scheduleCheck(session.id, 0, null);
        const reset = await store.getSession(session.id);

        assert.deepEqual(waiting, []);
        assert.deepEqual(
          due.map(s => s.id),
          [session.id],
        );
        assert.deepEqual(
          explicit.map(s => s.id),
          [session.id],
        );
        assert.equal(stored?.checkFailures, 3);
        assert.deepEqual(stored?.nextCheckAt, new Date(era + 120_000));
        assert.deepEqual(stored?.updatedAt, session.updatedAt, 'a check is not a change');
        assert.deepEqual([reset?.checkFailures, reset?.nextCheckAt], [0, null]);
      });

      /** A session with a gateway page, closed by the shopper at(2). */
      async function givenClosedWithPage(): Promise<{ order: Order; session: Session }> {
        const order = await store.putOrder(newOrder());
        const session = await store.createSession(newSession(order.orderRef));
        const checkout = { transactionId: uniqueId('TXN'), checkoutUrl: 'https://pay.example/c/r' };
        await store.attachCheckout(session.id, checkout, at(1));
        await store.transition(session.id, {
          to: 'cancelled',
          reason: 'closed',
          evidence: null,
          at: at(2),
        });
        return { order, session };
      }

      it('reopens a cancelled or failed session with a page, and finds such sessions until their expiry', async () => {
        const { order, session } = await givenClosedWithPage();

        const found = await store.findEndedWithPage(order.orderRef, at(3));
        const afterExpiry = await store.findEndedWithPage(order.orderRef, at(15 * 60));
        const reopened = await store.reopenSession(session.id, at(4));
        const twice = await store.reopenSession(session.id, at(5));

        assert.deepEqual(
          found.map(s => s.id),
          [session.id],
        );
        assert.deepEqual(afterExpiry, []);
        assert.equal(reopened.changed, true);
        assert.deepEqual(
          [reopened.session.status, reopened.session.cancelReason, reopened.session.updatedAt],
          ['pending', null, at(4)],
        );
        assert.equal(twice.changed, false);
        assert.equal((await store.findOpenSession(order.orderRef, at(6)))?.id, session.id);
      });

      it('lists closed sessions with a page to watch, until their window ends or their backoff runs', async () => {
        const { session } = await givenClosedWithPage();
        const ids = (list: Session[]) => list.filter(s => s.id === session.id).map(s => s.id);

        const watched = await store.listEndedToWatch(at(60), at(0), at(60), 1000);
        const windowOver = await store.listEndedToWatch(at(60), at(15 * 60), at(60), 1000);
        await store.scheduleCheck(session.id, 1, at(120));
        const backingOff = await store.listEndedToWatch(at(60), at(0), at(100), 1000);

        assert.deepEqual(ids(watched), [session.id]);
        assert.deepEqual(ids(windowOver), []);
        assert.deepEqual(ids(backingOff), []);
      });

      it('never reopens a paid session, nor one without a gateway transaction', async () => {
        const paid = await givenSessionIn('paid');
        const order = await store.putOrder(newOrder());
        const bare = await store.createSession(newSession(order.orderRef));
        await store.transition(bare.id, {
          to: 'failed',
          evidence: {
            kind: 'checkout',
            transactionId: null,
            code: 'checkout_lost',
            message: 'lost',
          },
          at: at(1),
        });

        const a = await store.reopenSession(paid.id, at(9));
        const b = await store.reopenSession(bare.id, at(9));

        assert.deepEqual([a.changed, a.session.status], [false, 'paid']);
        assert.deepEqual([b.changed, b.session.status], [false, 'failed']);
      });

      it('keeps the hash of the opening browser key with the session', async () => {
        const order = await store.putOrder(newOrder());

        const session = await store.createSession(
          newSession(order.orderRef, { clientKeyHash: 'ab'.repeat(32) }),
        );

        assert.equal(session.clientKeyHash, 'ab'.repeat(32));
        assert.equal((await store.getSession(session.id))?.clientKeyHash, 'ab'.repeat(32));
      });
    });

    describe('attachCheckout', () => {
      it('records the transaction id and checkout URL without changing the status', async () => {
        const session = await givenSession();

        const attached = await store.attachCheckout(
          session.id,
          { transactionId: 'TXN-1-' + session.id, checkoutUrl: 'https://pay.example/c/1' },
          at(2),
        );

        assert.equal(attached.status, 'pending');
        assert.equal(attached.transactionId, 'TXN-1-' + session.id);
        assert.equal(attached.checkoutUrl, 'https://pay.example/c/1');
        assert.deepEqual(await store.getSession(session.id), attached);
      });

      it('moves a pending_unknown session back to pending once the retried call is answered', async () => {
        const session = await givenSession();
        await store.markPendingUnknown(session.id, at(2));

        const attached = await store.attachCheckout(
          session.id,
          { transactionId: uniqueId('txn'), checkoutUrl: 'https://pay.example/c/2' },
          at(3),
        );

        assert.equal(attached.status, 'pending');
      });

      it('never overwrites a transaction id or checkout URL already set', async () => {
        const session = await givenSession();
        const first = { transactionId: uniqueId('txn'), checkoutUrl: 'https://pay.example/c/1' };
        await store.attachCheckout(session.id, first, at(2));

        const again = await store.attachCheckout(
          session.id,
          { transactionId: uniqueId('txn'), checkoutUrl: 'https://pay.example/c/2' },
          at(3),
        );

        assert.equal(again.transactionId, first.transactionId);
        assert.equal(again.checkoutUrl, first.checkoutUrl);
      });

      it('T26 leaves a session that an IPN already paid paid, with the IPN transaction id', async () => {
        const session = await givenSession();
        const proof = evidence();
        await store.transition(session.id, transitionTo('paid', at(5), proof));

        const late = await store.attachCheckout(
          session.id,
          { transactionId: uniqueId('txn'), checkoutUrl: 'https://pay.example/c/1' },
          at(6),
        );

        assert.equal(late.status, 'paid');
        assert.equal(late.transactionId, proof.transactionId);
      });

      it('rejects an unknown session id', async () => {
        await assert.rejects(
          store.attachCheckout(
            uniqueId('missing'),
            { transactionId: uniqueId('txn'), checkoutUrl: 'https://pay.example/c/1' },
            at(2),
          ),
          { name: 'StoreError', code: 'session_not_found' },
        );
      });
    });

    describe('markPendingUnknown', () => {
      it('moves a pending session to pending_unknown', async () => {
        const session = await givenSession();

        const marked = await store.markPendingUnknown(session.id, at(20));

        assert.equal(marked.status, 'pending_unknown');
        assert.deepEqual(marked.updatedAt, at(20));
        assert.deepEqual(await store.getSession(session.id), marked);
      });

      it('leaves a session that is no longer pending as it is', async () => {
        const paid = await givenSessionIn('paid');

        const marked = await store.markPendingUnknown(paid.id, at(20));

        assert.deepEqual(marked, paid);
      });

      it('rejects an unknown session id', async () => {
        await assert.rejects(store.markPendingUnknown(uniqueId('missing'), at(20)), {
          name: 'StoreError',
          code: 'session_not_found',
        });
      });
    });

    describe('transition rules', () => {
      for (const from of STATUSES) {
        for (const to of TARGETS) {
          const allowed = EXPECTED_MOVES[from].includes(to);
          const late =
            allowed && (to === 'paid' || to === 'authorized') && LATE_FROM.includes(from);
          const article = from === 'expired' ? 'an' : 'a';
          const title = allowed
            ? `moves ${article} ${from} session to ${to}${late ? ' flagged as a late success' : ''}`
            : `refuses to move ${article} ${from} session to ${to}`;

          it(title, async () => {
            const original = await givenSessionIn(from);
            const outboxBefore = await store.listOutbox(original.id);

            const result = await store.transition(original.id, transitionTo(to, at(60)));

            const stored = await store.getSession(original.id);
            const outbox = await store.listOutbox(original.id);
            assert.deepEqual(stored, result.session);
            if (allowed) {
              assert.equal(result.changed, true);
              assert.equal(result.session.status, to);
              assert.equal(result.session.lateSuccess, late);
              assert.deepEqual(result.session.updatedAt, at(60));
              assert.deepEqual(
                outbox.map(item => item.event),
                [...outboxBefore.map(item => item.event), to],
              );
            } else {
              assert.equal(result.changed, false);
              assert.deepEqual(result.session, original);
              assert.deepEqual(outbox, outboxBefore);
            }
          });
        }
      }
    });

    describe('transition effects', () => {
      it('records the evidence of a payment on the session', async () => {
        const session = await givenSession();
        const proof = evidence({ paymentMethod: 'INTERNATIONAL', sourceType: 'VISA' });

        const { session: paid } = await store.transition(session.id, {
          to: 'paid',
          evidence: proof,
          at: at(45),
        });

        assert.equal(paid.transactionId, proof.transactionId);
        assert.equal(paid.code, proof.code);
        assert.equal(paid.message, proof.message);
        assert.equal(paid.paymentMethod, 'INTERNATIONAL');
        assert.equal(paid.sourceType, 'VISA');
        assert.deepEqual(paid.paidAt, at(45));
        assert.deepEqual(paid.updatedAt, at(45));
      });

      it('keeps the payment method chosen at creation when the evidence names none', async () => {
        const session = await givenSession({ paymentMethod: 'DOMESTIC', sourceType: 'ATM' });

        const { session: paid } = await store.transition(session.id, transitionTo('paid', at(45)));

        assert.equal(paid.paymentMethod, 'DOMESTIC');
        assert.equal(paid.sourceType, 'ATM');
      });

      it('never overwrites a transaction id the session already has', async () => {
        const session = await givenSession();
        const checkoutTxn = uniqueId('txn');
        await store.attachCheckout(
          session.id,
          { transactionId: checkoutTxn, checkoutUrl: 'https://pay.example/c/1' },
          at(1),
        );

        const { session: paid } = await store.transition(session.id, transitionTo('paid', at(45)));

        assert.equal(paid.transactionId, checkoutTxn);
      });

      it('records why a session was cancelled', async () => {
        const session = await givenSession();

        const { session: cancelled } = await store.transition(session.id, {
          to: 'cancelled',
          reason: 'closed',
          evidence: null,
          at: at(50),
        });

        assert.equal(cancelled.cancelReason, 'closed');
        assert.equal(cancelled.code, null);
        assert.equal(cancelled.paidAt, null);
      });

      it('writes an outbox payload fixed from the updated row', async () => {
        const session = await givenSessionIn('failed');
        const proof = evidence();

        await store.transition(session.id, transitionTo('paid', at(90), proof));

        const paidItem = (await store.listOutbox(session.id)).find(item => item.event === 'paid');
        assert.ok(paidItem);
        assert.deepEqual(JSON.parse(paidItem.payload), {
          event: 'paid',
          sessionId: session.id,
          orderRef: session.orderRef,
          amount: session.amount,
          currency: session.currency,
          status: 'paid',
          transactionId: session.transactionId ?? proof.transactionId,
          code: proof.code,
          message: proof.message,
          lateSuccess: true,
          at: at(90).toISOString(),
        });
        assert.equal(paidItem.attempts, 0);
        assert.deepEqual(paidItem.nextAttemptAt, at(90));
        assert.equal(paidItem.deliveredAt, null);
      });

      it('says in the outbox payload why a session needs review', async () => {
        const session = await givenSession();

        await store.transition(session.id, transitionTo('needs_review', at(90)));

        const [item] = await store.listOutbox(session.id);
        assert.equal(item?.event, 'needs_review');
        assert.equal(JSON.parse(item.payload).detail, 'amount disagrees with the order');
      });

      it('writes the outbox payload text exactly as outboxPayload does, whatever the strings hold', async () => {
        const awkward =
          'quote " backslash \\ slash / tab \t newline \n nul-ish \u0001 \u001f é 漢 😀 \u2028 \u007f';
        for (const to of TARGETS) {
          const session = await givenSession({ currency: `V"N\\D ${awkward}` });
          const proof = evidence({
            transactionId: `${uniqueId('T')} ${awkward}`,
            message: awkward,
          });
          const move: Transition =
            to === 'needs_review'
              ? { to, evidence: proof, detail: `why: ${awkward}`, at: at(91) }
              : to === 'cancelled'
                ? { to, reason: 'user', evidence: null, at: at(91) }
                : { ...transitionTo(to, at(91), proof), at: at(91) };

          const { session: moved } = await store.transition(session.id, move);

          const item = (await store.listOutbox(session.id)).find(entry => entry.event === to);
          assert.equal(item?.payload, outboxPayload(moved, move), to);
        }
      });

      it('records the payment event of a transition that changed nothing', async () => {
        const session = await givenSessionIn('paid');

        const result = await store.transition(
          session.id,
          transitionTo('failed', at(70)),
          paymentEvent(session.id, { verdict: 'duplicate', detail: 'already paid' }),
        );

        assert.equal(result.changed, false);
        const events = await store.listEvents(session.id);
        assert.deepEqual(
          events.map(event => [event.verdict, event.detail]),
          [['duplicate', 'already paid']],
        );
      });

      it('rejects an unknown session id and records nothing', async () => {
        const missing = uniqueId('missing');

        await assert.rejects(
          store.transition(missing, transitionTo('paid', at(5)), paymentEvent(missing)),
          { name: 'StoreError', code: 'session_not_found' },
        );

        assert.deepEqual(await store.listEvents(missing), []);
      });
    });

    describe('settleReport', () => {
      it('applies the transition asked for against the session it names, with its event and outbox row', async () => {
        // A plan, so that the facts are seen to carry it (manual capture changes what a void means).
        const session = await givenSession({ plan: { capture: 'manual' } });
        const seen: SessionFacts[] = [];

        const result = await store.settleReport(session.gatewayOrderId, current => {
          seen.push(current);
          return {
            transition: transitionTo('paid', at(40)),
            event: paymentEvent(current.id, { detail: 'from the report' }),
          };
        });

        // Asked about the session as it was (more than once only if its batch had to run again).
        assert.ok(seen.length >= 1);
        for (const current of seen) assert.deepEqual(factsOf(current), factsOf(session));
        assert.deepEqual(seen[0]?.plan, { capture: 'manual' });
        assert.equal(result?.changed, true);
        assert.equal(result?.session.status, 'paid');
        assert.deepEqual(result?.session, await store.getSession(session.id));
        assert.deepEqual(
          (await store.listOutbox(session.id)).map(item => item.event),
          ['paid'],
        );
        assert.deepEqual(
          (await store.listEvents(session.id)).map(event => [event.verdict, event.detail]),
          [['applied', 'from the report']],
        );
      });

      it('stores the event alone, and changes nothing, when no transition is asked for', async () => {
        const session = await givenSession();

        const result = await store.settleReport(session.gatewayOrderId, current => ({
          event: paymentEvent(current.id, { verdict: 'ignored', detail: 'not final' }),
        }));

        assert.deepEqual(result, { changed: false, session });
        assert.deepEqual(await store.getSession(session.id), session);
        assert.deepEqual(await store.listOutbox(session.id), []);
        assert.deepEqual(
          (await store.listEvents(session.id)).map(event => [event.verdict, event.detail]),
          [['ignored', 'not final']],
        );
      });

      it('answers null for an unknown gateway order id, without asking what to do or writing', async () => {
        let asked = 0;

        const result = await store.settleReport(uniqueId('gw'), current => {
          asked += 1;
          return { event: paymentEvent(current.id) };
        });

        assert.equal(result, null);
        assert.equal(asked, 0);
      });

      it('fails alone, with nothing written, when deciding throws; settlements beside it still apply', async () => {
        const [failing, beside] = await Promise.all([givenSession(), givenSession()]);
        const broken = new Error('the decision threw');

        const [failed, applied] = await Promise.allSettled([
          store.settleReport(failing.gatewayOrderId, () => {
            throw broken;
          }),
          store.settleReport(beside.gatewayOrderId, current => ({
            transition: transitionTo('paid', at(40)),
            event: paymentEvent(current.id),
          })),
        ]);

        assert.deepEqual(failed, { status: 'rejected', reason: broken });
        assert.equal(applied.status === 'fulfilled' && applied.value?.changed, true);
        assert.deepEqual(await store.getSession(failing.id), failing);
        assert.deepEqual(await store.listEvents(failing.id), []);
        assert.equal((await store.getSession(beside.id))?.status, 'paid');
      });

      it('T21 settles 50 concurrent copies of one payment report exactly once', async () => {
        const session = await givenSession();
        const proof = evidence();

        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.settleReport(session.gatewayOrderId, current => ({
              transition: transitionTo('paid', at(30), proof),
              event: paymentEvent(current.id, { transactionId: proof.transactionId }),
            })),
          ),
        );

        assert.equal(results.filter(result => result?.changed).length, 1);
        for (const result of results) assert.equal(result?.session.status, 'paid');
        assert.equal((await store.listOutbox(session.id)).length, 1);
        const events = await store.listEvents(session.id);
        assert.equal(events.filter(e => e.verdict === 'applied').length, 1);
        assert.equal(events.filter(e => e.verdict === 'duplicate').length, 49);
      });
    });

    describe('concurrency', () => {
      it('T21 applies 50 concurrent identical payments exactly once', async () => {
        const session = await givenSession();
        const proof = evidence();

        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.transition(
              session.id,
              transitionTo('paid', at(30), proof),
              paymentEvent(session.id, { transactionId: proof.transactionId }),
            ),
          ),
        );

        assert.equal(results.filter(result => result.changed).length, 1);
        for (const result of results) {
          assert.equal(result.session.status, 'paid');
          assert.equal(result.session.transactionId, proof.transactionId);
        }
        assert.equal((await store.listOutbox(session.id)).length, 1);
        const events = await store.listEvents(session.id);
        assert.equal(events.length, 50);
        // The one that applied keeps its verdict; the 49 that changed nothing are stored as duplicates.
        assert.equal(events.filter(e => e.verdict === 'applied').length, 1);
        assert.equal(events.filter(e => e.verdict === 'duplicate').length, 49);
      });

      it('T22 ends paid whatever the order of racing success and failure messages', async () => {
        const failures = fc.array(fc.constantFrom<Target>('failed', 'cancelled', 'expired'), {
          minLength: 1,
          maxLength: 4,
        });

        await fc.assert(
          fc.asyncProperty(fc.scheduler(), failures, async (scheduler, losers) => {
            const session = await givenSession();
            const attempts = [
              transitionTo('paid', at(40)),
              ...losers.map(to => transitionTo(to, at(40))),
            ];

            const settled = Promise.all(
              attempts.map(attempt =>
                scheduler
                  .schedule(Promise.resolve(attempt), attempt.to)
                  .then(scheduled =>
                    store.transition(session.id, scheduled, paymentEvent(session.id)),
                  ),
              ),
            );
            await scheduler.waitAll();
            const results = await settled;

            const final = await store.getSession(session.id);
            const failureApplied = results.slice(1).some(result => result.changed);
            assert.ok(final);
            assert.equal(final.status, 'paid');
            assert.equal(final.lateSuccess, failureApplied);
            assert.equal(results.filter(result => result.changed).length, failureApplied ? 2 : 1);
            assert.equal((await store.listEvents(session.id)).length, attempts.length);
            const events = (await store.listOutbox(session.id)).map(item => item.event);
            assert.equal(events.filter(event => event === 'paid').length, 1);
            assert.equal(events.at(-1), 'paid');
          }),
          { numRuns: 25 },
        );
      });
    });

    describe('transitions of several sessions asked for at once', () => {
      it('moves each session as it would alone, with its own outbox row and event', async () => {
        const pending = [await givenSession(), await givenSession(), await givenSession()];
        const declined = await givenSession();
        const alreadyPaid = await givenSessionIn('paid');
        const proofs = pending.map(() => evidence());
        // A quote and a backslash in the evidence: the values travel in arrays on PostgreSQL.
        const raw = (id: string) => `{"orderID":"${id}","note":"a \\"quoted\\" \\\\ value"}`;

        const results = await Promise.all([
          ...pending.map((session, i) =>
            store.transition(
              session.id,
              transitionTo('paid', at(20), proofs[i]),
              paymentEvent(session.id, {
                transactionId: proofs[i]!.transactionId,
                raw: raw(session.id),
              }),
            ),
          ),
          store.transition(declined.id, transitionTo('failed', at(20)), paymentEvent(declined.id)),
          store.transition(
            alreadyPaid.id,
            transitionTo('paid', at(20)),
            paymentEvent(alreadyPaid.id),
          ),
          // The same session twice in one go: the second finds it paid.
          store.transition(
            pending[0]!.id,
            transitionTo('paid', at(21)),
            paymentEvent(pending[0]!.id),
          ),
          store.transition(pending[1]!.id, transitionTo('expired', at(21))),
        ]);

        assert.deepEqual(
          results.map(result => [result.session.id, result.changed, result.session.status]),
          [
            ...pending.map(session => [session.id, true, 'paid']),
            [declined.id, true, 'failed'],
            [alreadyPaid.id, false, 'paid'],
            [pending[0]!.id, false, 'paid'],
            [pending[1]!.id, false, 'paid'],
          ],
        );
        for (const [i, session] of pending.entries()) {
          const stored = await store.getSession(session.id);
          assert.equal(stored?.transactionId, proofs[i]!.transactionId);
          assert.deepEqual(
            (await store.listOutbox(session.id)).map(item => item.event),
            ['paid'],
          );
        }
        const firstEvents = await store.listEvents(pending[0]!.id);
        assert.deepEqual(
          firstEvents.map(event => event.verdict),
          ['applied', 'duplicate'],
        );
        assert.equal(firstEvents[0]!.raw, raw(pending[0]!.id));
        assert.deepEqual(
          (await store.listEvents(pending[2]!.id)).map(event => [event.verdict, event.raw]),
          [['applied', raw(pending[2]!.id)]],
        );
        assert.deepEqual(
          (await store.listEvents(alreadyPaid.id)).map(event => event.verdict),
          ['duplicate'],
        );
        assert.deepEqual(
          (await store.listOutbox(declined.id)).map(item => item.event),
          ['failed'],
        );
      });

      it('refuses only the one whose transaction id another session holds', async () => {
        const holder = await givenSession();
        const [culprit, bystander] = [await givenSession(), await givenSession()];
        const taken = evidence();
        await store.transition(holder.id, transitionTo('paid', at(10), taken));

        const [refused, applied] = await Promise.allSettled([
          store.transition(
            culprit.id,
            transitionTo('paid', at(11), taken),
            paymentEvent(culprit.id),
          ),
          store.transition(bystander.id, transitionTo('paid', at(11)), paymentEvent(bystander.id)),
        ]);

        assert.equal(refused.status, 'rejected');
        assert.equal((refused as PromiseRejectedResult).reason.code, 'transaction_id_conflict');
        assert.equal(applied.status, 'fulfilled');
        assert.equal((applied as PromiseFulfilledResult<TransitionResult>).value.changed, true);
        assert.deepEqual(await store.getSession(culprit.id), culprit);
        assert.deepEqual(await store.listEvents(culprit.id), []);
        assert.equal((await store.getSession(bystander.id))?.status, 'paid');
        assert.equal((await store.listEvents(bystander.id)).length, 1);
      });
    });

    describe('transaction id uniqueness', () => {
      it('refuses to pay a session with a transaction id another session holds', async () => {
        const first = await givenSession();
        const second = await givenSession();
        const proof = evidence();
        await store.transition(first.id, transitionTo('paid', at(10), proof));

        await assert.rejects(
          store.transition(second.id, transitionTo('paid', at(11), proof), paymentEvent(second.id)),
          { name: 'StoreError', code: 'transaction_id_conflict' },
        );

        assert.deepEqual(await store.getSession(second.id), second);
        assert.deepEqual(await store.listOutbox(second.id), []);
        assert.deepEqual(await store.listEvents(second.id), []);
        const retried = await store.transition(second.id, transitionTo('paid', at(12)));
        assert.equal(retried.changed, true);
      });

      it('refuses a checkout answer with a transaction id another session holds', async () => {
        const first = await givenSessionIn('paid');
        const second = await givenSession();
        assert.ok(first.transactionId);

        await assert.rejects(
          store.attachCheckout(
            second.id,
            { transactionId: first.transactionId, checkoutUrl: 'https://pay.example/c/1' },
            at(2),
          ),
          { name: 'StoreError', code: 'transaction_id_conflict' },
        );

        assert.deepEqual(await store.getSession(second.id), second);
      });
    });

    describe('payment events', () => {
      it('keeps every event raw, with its verdict, in arrival order', async () => {
        const session = await givenSession();
        const first = paymentEvent(session.id, {
          kind: 'result',
          raw: 'e30=+/=',
          verified: false,
          verdict: 'bad_signature',
          detail: 'signature does not match data',
          receivedAt: at(1),
        });
        const second = paymentEvent(session.id, {
          kind: 'query',
          transactionId: 'TXN-9',
          raw: '{"responseCode":"200"}',
          verdict: 'applied',
          receivedAt: at(2),
        });

        await store.recordEvent(first);
        await store.recordEvent(second);

        const events = await store.listEvents(session.id);
        assert.deepEqual(
          events.map(({ id: _id, ...event }) => event),
          [first, second],
        );
        assert.ok(events.every(event => Number.isInteger(event.id)));
        assert.ok((events[0]?.id ?? 0) < (events[1]?.id ?? 0));
      });

      it('keeps a dead letter that matches no session', async () => {
        const deadLetter = paymentEvent(null, { verdict: 'unknown_order', raw: uniqueId('raw') });

        await store.recordEvent(deadLetter);

        assert.deepEqual(await store.listEvents(uniqueId('session')), []);
      });
    });

    describe('unverified evidence (issue 11 §5)', () => {
      const unverified = (sessionId: string, raw: string, detail = 'invalid_signature') =>
        paymentEvent(sessionId, { raw, verified: false, verdict: 'bad_signature', detail });
      const bytesOf = (event: PaymentEvent) =>
        Buffer.byteLength(event.raw) + Buffer.byteLength(event.detail ?? '');

      async function withCappedStore(
        limits: { maxRows: number; maxBytes: number },
        work: (capped: Store) => Promise<void>,
      ): Promise<void> {
        const capped = await makeStore({ unverifiedEvidence: limits });
        try {
          await work(capped);
        } finally {
          await capped.close();
        }
      }

      it('keeps only the newest unverified events within the row cap, and every verified one whole', async () => {
        await withCappedStore({ maxRows: 20, maxBytes: 1_000_000 }, async capped => {
          const sessionId = uniqueId('session');
          const large = paymentEvent(sessionId, {
            raw: 'A'.repeat(40_000),
            verdict: 'rejected_schema',
          });
          const later = paymentEvent(sessionId, { raw: 'B'.repeat(30_000), receivedAt: at(40) });

          await capped.recordEvent(large);
          for (let i = 0; i < 60; i++)
            await capped.recordEvent(unverified(sessionId, `forged-${i}`));
          await capped.recordEvent(later);

          const events = (await capped.listEvents(sessionId)).map(({ id: _id, ...event }) => event);
          assert.deepEqual(
            events.filter(event => event.verified),
            [large, later],
          );
          assert.deepEqual(
            events.filter(event => !event.verified).map(event => event.raw),
            Array.from({ length: 20 }, (_, i) => `forged-${40 + i}`),
          );
        });
      });

      it('keeps only the newest unverified events within the byte cap', async () => {
        const maxBytes = 5_000;
        await withCappedStore({ maxRows: 1_000, maxBytes }, async capped => {
          const sessionId = uniqueId('session');
          const sent = Array.from({ length: 30 }, (_, i) =>
            unverified(sessionId, `${i}:`.padEnd(400, 'x')),
          );

          for (const event of sent) await capped.recordEvent(event);

          const kept = await capped.listEvents(sessionId);
          const keptBytes = kept.reduce((sum, event) => sum + bytesOf(event), 0);
          assert.ok(keptBytes <= maxBytes, `${keptBytes} bytes kept`);
          // Full: one more (older) row would not have fitted.
          assert.ok(keptBytes + bytesOf(sent[0]!) > maxBytes, `${keptBytes} bytes kept`);
          assert.deepEqual(
            kept.map(event => event.raw),
            sent.slice(sent.length - kept.length).map(event => event.raw),
          );
        });
      });

      it('keeps a prefix of long unverified input, cut on a character boundary, with its length and SHA-256', async () => {
        const sessionId = uniqueId('session');
        // 'é' is two bytes in UTF-8, after one ASCII byte: the prefix limit falls inside a character.
        const received = `x${'é'.repeat(15_000)}`;

        await store.recordEvent(unverified(sessionId, received));

        const [kept] = await store.listEvents(sessionId);
        const size = Buffer.byteLength(received);
        const digest = createHash('sha256').update(received).digest('hex');
        assert.ok(received.startsWith(kept!.raw));
        assert.equal(Buffer.byteLength(kept!.raw), UNVERIFIED_RAW_KEEP_BYTES - 1);
        assert.equal(
          kept!.detail,
          `invalid_signature; kept ${UNVERIFIED_RAW_KEEP_BYTES - 1} of ${size} bytes, sha256 ${digest}`,
        );
        assert.equal(kept!.verified, false);
      });
    });

    describe('outbox', () => {
      const FAR = new Date('9000-01-01T00:00:00.000Z');

      async function givenOnlyTheseDue(count: number): Promise<Session[]> {
        // Leases every item earlier tests queued far into the future, so only ours are due.
        await store.claimOutbox(FAR, new Date('9999-01-01T00:00:00.000Z'), 1_000_000);
        const sessions: Session[] = [];
        for (let index = 0; index < count; index += 1) {
          const session = await givenSession();
          await store.transition(session.id, transitionTo('paid', at(100 + index)));
          sessions.push(session);
        }
        return sessions;
      }

      it('claims due items oldest first and leases them', async () => {
        const [a, b] = await givenOnlyTheseDue(2);

        const claimed = await store.claimOutbox(at(200), at(260), 10);

        assert.deepEqual(
          claimed.map(item => item.sessionId),
          [a?.id, b?.id],
        );
        for (const item of claimed) {
          assert.equal(item.attempts, 1);
          assert.deepEqual(item.nextAttemptAt, at(260));
        }
        assert.deepEqual(await store.claimOutbox(at(259), at(400), 10), []);
        assert.equal((await store.claimOutbox(at(260), at(400), 10)).length, 2);
      });

      it('claims no item before it is due and no more than the limit', async () => {
        const [a] = await givenOnlyTheseDue(2);

        assert.deepEqual(await store.claimOutbox(at(99), at(160), 10), []);
        const claimed = await store.claimOutbox(at(200), at(260), 1);
        assert.deepEqual(
          claimed.map(item => item.sessionId),
          [a?.id],
        );
      });

      it('gives concurrent workers disjoint items', async () => {
        await givenOnlyTheseDue(2);

        const [one, two] = await Promise.all([
          store.claimOutbox(at(200), at(260), 1),
          store.claimOutbox(at(200), at(260), 1),
        ]);

        assert.equal(one.length, 1);
        assert.equal(two.length, 1);
        assert.notEqual(one[0]?.id, two[0]?.id);
      });

      it('retries a failed item at its retry time and never claims a delivered one', async () => {
        const [a, b] = await givenOnlyTheseDue(2);
        const [first, second] = await store.claimOutbox(at(200), at(260), 10);
        assert.ok(first && second);

        await store.markOutboxDelivered(first.id, at(210));
        await store.markOutboxFailed(second.id, 'merchant answered 500', at(300));

        assert.deepEqual(await store.claimOutbox(at(299), at(360), 10), []);
        const retried = await store.claimOutbox(at(300), at(360), 10);
        assert.deepEqual(
          retried.map(item => [item.sessionId, item.attempts, item.lastError]),
          [[b?.id, 2, 'merchant answered 500']],
        );
        const [delivered] = await store.listOutbox(a?.id ?? '');
        assert.deepEqual(delivered?.deliveredAt, at(210));
        const muchLater = await store.claimOutbox(FAR, FAR, 10);
        assert.deepEqual(
          muchLater.map(item => item.sessionId),
          [b?.id],
        );
      });
    });

    describe('idempotency keys', () => {
      const now = at(0);
      const longAgo = at(-86_400);
      const begin = (key: string, hash: string, when = now) =>
        store.beginIdempotent(key, hash, when, longAgo);

      it('starts a new key, then reports it in flight for the same request', async () => {
        const key = uniqueId('key');

        assert.deepEqual(await begin(key, 'hash-a'), { state: 'started' });
        assert.deepEqual(await begin(key, 'hash-a'), { state: 'in_flight' });
      });

      it('reports a mismatch for a different request under the same key', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');

        assert.deepEqual(await begin(key, 'hash-b'), { state: 'mismatch' });
        await store.finishIdempotent(key, 201, '{}');
        assert.deepEqual(await begin(key, 'hash-b'), { state: 'mismatch' });
      });

      it('takes over a key whose request died in flight once its lease has passed', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');
        const withinLease = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS - 1000);
        const pastLease = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS + 1000);

        assert.deepEqual(await begin(key, 'hash-a', withinLease), { state: 'in_flight' });
        assert.deepEqual(await begin(key, 'hash-a', pastLease), { state: 'started' });
      });

      it('never takes over a finished key, however old within its expiry', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');
        await store.finishIdempotent(key, 201, '{}');
        const pastLease = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS * 10);

        assert.equal((await begin(key, 'hash-a', pastLease)).state, 'done');
      });

      it('replays the saved response of a finished request', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');

        await store.finishIdempotent(key, 201, '{"id":"s1"}');

        assert.deepEqual(await begin(key, 'hash-a'), {
          state: 'done',
          status: 201,
          body: '{"id":"s1"}',
        });
      });

      it('forgets a key created before the expiry time', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');
        await store.finishIdempotent(key, 201, '{}');

        const later = await store.beginIdempotent(key, 'hash-b', at(86_401), at(1));

        assert.deepEqual(later, { state: 'started' });
      });

      it('forgets an abandoned key', async () => {
        const key = uniqueId('key');
        await begin(key, 'hash-a');

        await store.abandonIdempotent(key);

        assert.deepEqual(await begin(key, 'hash-b'), { state: 'started' });
      });
    });

    describe('publish and subscribe', () => {
      it('delivers a published session id to a subscriber of another store instance', async () => {
        const other = await makeStore();
        try {
          const first = uniqueId('session');
          const second = uniqueId('session');
          const seen: string[] = [];
          let firstArrived!: () => void;
          const firstArrival = new Promise<void>(resolve => (firstArrived = resolve));
          const unsubscribe = await other.subscribe(sessionId => {
            seen.push(sessionId);
            if (sessionId === first) firstArrived();
          });

          await store.publish(first);
          await within(firstArrival, 5000, 'the first notification');
          await unsubscribe();
          let secondArrived!: () => void;
          const secondArrival = new Promise<void>(resolve => (secondArrived = resolve));
          const unsubscribeLater = await other.subscribe(sessionId => {
            if (sessionId === second) secondArrived();
          });
          await store.publish(second);
          await within(secondArrival, 5000, 'the second notification');
          await unsubscribeLater();

          assert.deepEqual(seen, [first]);
        } finally {
          await other.close();
        }
      });

      it('notifies a subscriber of another store instance of a changed transition, unasked', async () => {
        const other = await makeStore();
        try {
          const session = await givenSession();
          let arrived!: () => void;
          const arrival = new Promise<void>(resolve => (arrived = resolve));
          const unsubscribe = await other.subscribe(sessionId => {
            if (sessionId === session.id) arrived();
          });
          try {
            const result = await store.transition(session.id, transitionTo('paid', at(30)));

            assert.equal(result.changed, true);
            await within(arrival, 5000, 'the notification of the committed transition');
          } finally {
            await unsubscribe();
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('operations (audit trail)', () => {
      function operation(
        sessionId: string | null,
        overrides: Partial<NewOperation> = {},
      ): NewOperation {
        return {
          id: uniqueId('op'),
          sessionId,
          kind: 'refund',
          amount: 1000,
          idempotencyKey: uniqueId('key'),
          requestHash: 'h1',
          operator: 'alice',
          gatewayRequestId: uniqueId('req'),
          gatewayRef: null,
          detail: null,
          createdAt: at(70),
          ...overrides,
        };
      }

      it('starts an operation once per idempotency key and reports the first one to a repeat', async () => {
        const session = await givenSessionIn('paid');
        const first = operation(session.id);

        const started = await store.beginOperation(first, { maxTotal: 150_000 });
        const repeat = await store.beginOperation(
          { ...first, id: uniqueId('op') },
          { maxTotal: 150_000 },
        );

        assert.equal(started.state, 'started');
        assert.equal(repeat.state, 'exists');
        assert.equal(repeat.state === 'exists' && repeat.operation.id, first.id);
        assert.equal((await store.listOperations({ sessionId: session.id, limit: 10 })).length, 1);
      });

      it('refuses an operation that would take the total above maxTotal, inserting nothing', async () => {
        const session = await givenSessionIn('paid');
        await store.beginOperation(operation(session.id, { amount: 100_000 }), {
          maxTotal: 150_000,
        });

        const refused = await store.beginOperation(operation(session.id, { amount: 50_001 }), {
          maxTotal: 150_000,
        });

        assert.deepEqual(refused, { state: 'exceeds', total: 100_000 });
        assert.equal((await store.listOperations({ sessionId: session.id, limit: 10 })).length, 1);
      });

      it('releases the amount of a failed operation but keeps an unknown one reserved', async () => {
        const session = await givenSessionIn('paid');
        const failed = await store.beginOperation(operation(session.id, { amount: 100_000 }));
        const unknown = await store.beginOperation(operation(session.id, { amount: 100_000 }), {
          maxTotal: 150_000,
        });
        assert.equal(unknown.state, 'exceeds');
        assert.equal(failed.state, 'started');
        await store.finishOperation(
          failed.state === 'started' ? failed.operation.id : '',
          { state: 'failed', responseCode: '400', responseMessage: 'no', raw: null },
          at(71),
        );

        const again = await store.beginOperation(operation(session.id, { amount: 100_000 }), {
          maxTotal: 150_000,
        });

        assert.equal(again.state, 'started');
      });

      it('lets only one of many concurrent exclusive operations (capture or void) start', async () => {
        const session = await givenSessionIn('authorized');

        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.beginOperation(
              operation(session.id, { kind: i % 2 ? 'capture' : 'void', idempotencyKey: null }),
              { exclusive: true },
            ),
          ),
        );

        assert.equal(results.filter(r => r.state === 'started').length, 1);
        assert.ok(results.every(r => r.state === 'started' || r.state === 'conflict'));
      });

      it('records the answer once: a finished operation is not rewritten', async () => {
        const session = await givenSessionIn('paid');
        const begun = await store.beginOperation(operation(session.id));
        const id = begun.state === 'started' ? begun.operation.id : '';

        const done = await store.finishOperation(
          id,
          { state: 'succeeded', responseCode: '200', responseMessage: 'Success', raw: '{}' },
          at(72),
        );
        const later = await store.finishOperation(
          id,
          { state: 'failed', responseCode: '500', responseMessage: 'x', raw: null },
          at(73),
        );

        assert.deepEqual([done.state, done.operator, done.raw], ['succeeded', 'alice', '{}']);
        assert.deepEqual(later, done);
        assert.deepEqual(await store.getOperation(id), done);
      });
    });

    describe('operations with an unknown outcome (issue 11)', () => {
      function refundOp(sessionId: string, amount: number): NewOperation {
        return {
          id: uniqueId('op'),
          sessionId,
          kind: 'refund',
          amount,
          idempotencyKey: uniqueId('key'),
          requestHash: 'h',
          operator: 'alice',
          gatewayRequestId: uniqueId('req'),
          gatewayRef: uniqueId('ref'),
          detail: null,
          createdAt: at(90),
        };
      }
      async function started(op: NewOperation) {
        const begun = await store.beginOperation(op);
        assert.equal(begun.state, 'started');
        return begun.state === 'started' ? begun.operation : assert.fail('not started');
      }
      const noAnswer = {
        state: 'unknown',
        responseCode: null,
        responseMessage: null,
        raw: null,
      } as const;

      it('settles an unknown operation only if no send attempt ended or began since the query', async () => {
        const session = await givenSessionIn('paid');
        const op = await started(refundOp(session.id, 1000));
        await store.finishOperation(op.id, noAnswer, at(91));
        const failed = { ...noAnswer, state: 'failed' } as const;

        const claimed = await store.claimOperation(op.id, at(92));
        const whileSending = await store.finishOperation(op.id, failed, at(93), {
          state: 'unknown',
          notUpdatedAfter: at(99),
        });
        const claimedTwice = await store.claimOperation(op.id, at(93));
        await store.finishOperation(op.id, noAnswer, at(94));
        const olderAnswer = await store.finishOperation(op.id, failed, at(95), {
          state: 'unknown',
          notUpdatedAfter: at(93),
        });
        const newerAnswer = await store.finishOperation(op.id, failed, at(96), {
          state: 'unknown',
          notUpdatedAfter: at(94),
        });

        assert.equal(claimed?.state, 'pending');
        assert.equal(whileSending.state, 'pending');
        assert.equal(claimedTwice, null);
        assert.equal(olderAnswer.state, 'unknown');
        assert.deepEqual([newerAnswer.state, newerAnswer.updatedAt], ['failed', at(96)]);
      });

      it('lists unknown money operations once due, and pending ones left since before a time', async () => {
        const session = await givenSessionIn('paid');
        const due = await started(refundOp(session.id, 1));
        const later = await started(refundOp(session.id, 2));
        const stale = await started(refundOp(session.id, 3));
        const query = await started({ ...refundOp(session.id, 4), kind: 'query' });
        await store.finishOperation(due.id, noAnswer, at(91));
        await store.finishOperation(later.id, noAnswer, at(91));
        await store.finishOperation(query.id, noAnswer, at(91));
        await store.scheduleOperationCheck(later.id, 3, at(200));

        const listed = await store.listUnsettledOperations(at(150), at(95), 1000);
        const listedLater = await store.listUnsettledOperations(at(200), at(80), 1000);

        const mine = (ops: { id: string }[]) =>
          ops.map(op => op.id).filter(id => [due.id, later.id, stale.id, query.id].includes(id));
        assert.deepEqual(mine(listed).sort(), [due.id, stale.id].sort());
        assert.deepEqual(mine(listedLater).sort(), [due.id, later.id].sort());
        const scheduled = await store.getOperation(later.id);
        assert.deepEqual([scheduled?.checkCount, scheduled?.nextCheckAt], [3, at(200)]);
      });

      it('queues one merchant notice per refund outcome, with the refunded total, in the same write', async () => {
        const session = await givenSessionIn('paid');
        const first = await started(refundOp(session.id, 1000));
        const second = await started(refundOp(session.id, 2500));
        const done = {
          state: 'succeeded',
          responseCode: '200',
          responseMessage: 'OK',
          raw: '{}',
        } as const;

        await store.finishOperation(first.id, done, at(91));
        await store.finishOperation(second.id, noAnswer, at(92));
        await store.claimOperation(second.id, at(93));
        await store.finishOperation(second.id, noAnswer, at(94));
        await store.finishOperation(second.id, done, at(95));

        const items = (await store.listOutbox(session.id)).filter(item => item.operationId);
        assert.deepEqual(
          items.map(item => [item.event, item.operationId]),
          [
            ['refunded', first.id],
            ['refund_unknown', second.id],
            ['refunded', second.id],
          ],
        );
        const payloads = items.map(item => JSON.parse(item.payload) as Record<string, unknown>);
        assert.deepEqual(
          payloads.map(p => [p.refunded, (p.operation as { amount: number }).amount]),
          [
            [1000, 1000],
            [1000, 2500],
            [3500, 2500],
          ],
        );
      });
    });

    describe('saved cards', () => {
      function card(customerRef: string, digest = uniqueId('digest')) {
        return {
          id: uniqueId('card'),
          customerRef,
          tokenDigest: digest,
          tokenCiphertext: 'v1.sealed',
          keyId: 'k1',
          paymentMethod: 'INTERNATIONAL',
          brand: 'VISA',
          source: 'MPGS',
          maskedNumber: '401200******0026',
          holderName: 'A',
          sessionId: null,
          createdAt: at(80),
        };
      }

      it('saves a token once (by digest) and shows it only to its customer', async () => {
        const mine = card(uniqueId('cust'));

        const first = await store.saveCard(mine);
        const again = await store.saveCard({ ...mine, id: uniqueId('card') });

        assert.deepEqual([first.created, again.created], [true, false]);
        assert.equal(again.card.id, mine.id);
        assert.deepEqual(await store.listCards(mine.customerRef), [first.card]);
        assert.equal(await store.getCard(uniqueId('other'), mine.id), null);
      });

      it("deletes a card for its customer only; another customer's delete changes nothing", async () => {
        const mine = (await store.saveCard(card(uniqueId('cust')))).card;

        const theirs = await store.deleteCard(uniqueId('other'), mine.id, at(81));
        const still = await store.getCard(mine.customerRef, mine.id);
        const deleted = await store.deleteCard(mine.customerRef, mine.id, at(82));
        const twice = await store.deleteCard(mine.customerRef, mine.id, at(83));

        assert.deepEqual([theirs, deleted, twice], [false, true, false]);
        assert.deepEqual(still, mine);
        assert.deepEqual(await store.listCards(mine.customerRef), []);
      });
    });

    describe('payment links', () => {
      it('settles an open link once; a second settlement changes nothing', async () => {
        const link = await store.createLink({
          orderNo: uniqueId('no'),
          linkRef: uniqueId('ref'),
          name: 'Áo',
          description: 'Áo thun',
          amount: 150_000,
          currency: 'VND',
          methods: ['QRPAY'],
          fields: ['email'],
          shortLink: 'https://s.example/x',
          operator: 'alice',
          createdAt: at(90),
          expiresAt: at(3600),
        });
        const settlement = {
          status: 'paid' as const,
          late: false,
          payer: { email: 'a@example.com' },
          paidAmount: 150_000,
          raw: 'e30=',
          detail: null,
          at: at(95),
        };

        const first = await store.settleLink(link.orderNo, settlement);
        const second = await store.settleLink(link.orderNo, {
          ...settlement,
          status: 'needs_review',
        });

        assert.equal(first.changed, true);
        assert.deepEqual(
          [first.link?.status, first.link?.payer, first.link?.paidAt],
          ['paid', { email: 'a@example.com' }, at(95)],
        );
        assert.deepEqual(second, { changed: false, link: first.link });
        assert.deepEqual(
          (await store.listLinks(1000)).find(l => l.orderNo === link.orderNo),
          first.link,
        );
      });
    });

    describe('durability', () => {
      it('T25 keeps sessions, events and idempotency keys across a restart', async () => {
        const first = await makeStore();
        const order = await first.putOrder(newOrder());
        const session = await first.createSession(newSession(order.orderRef));
        const inFlight = uniqueId('key');
        const done = uniqueId('key');
        await first.beginIdempotent(inFlight, 'hash-a', at(0), at(-86_400));
        await first.beginIdempotent(done, 'hash-b', at(0), at(-86_400));
        await first.finishIdempotent(done, 201, '{"id":"s1"}');
        await first.recordEvent(paymentEvent(session.id, { kind: 'result', verdict: 'ignored' }));
        await first.close();

        const second = await makeStore();
        try {
          assert.deepEqual(await second.getOrder(order.orderRef), order);
          assert.deepEqual(await second.getSession(session.id), session);
          assert.deepEqual(await second.beginIdempotent(inFlight, 'hash-a', at(1), at(-86_400)), {
            state: 'in_flight',
          });
          assert.deepEqual(await second.beginIdempotent(done, 'hash-b', at(1), at(-86_400)), {
            state: 'done',
            status: 201,
            body: '{"id":"s1"}',
          });
          const ipn = await second.transition(
            session.id,
            transitionTo('paid', at(60)),
            paymentEvent(session.id),
          );
          assert.equal(ipn.changed, true);
          assert.equal((await second.listEvents(session.id)).length, 2);
          assert.equal((await second.listOutbox(session.id)).length, 1);
        } finally {
          await second.close();
        }
      });
    });
  });
}
