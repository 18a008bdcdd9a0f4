import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';

import { evidenceMigration } from './sql/schema.js';
import { SQLITE } from './sqlite/database.js';
import { groupCommit } from './sqlite/group-commit.js';
import { readBatch } from './sqlite/read-batch.js';
import { createSqliteStore } from './sqlite.js';
import {
  checkLegacyEvidenceTrimmed,
  describeStoreContract,
  LEGACY_CAPS,
} from './store.contract.js';
import type { PaymentEvent, Session, Store, Transition } from './store.js';
import { eventually } from '../testing/test-support.js';

const directory = mkdtempSync(join(tmpdir(), 'galaxy-pay-store-'));

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeStoreContract('SQLite', async options => {
  const store = createSqliteStore(`file:${join(directory, 'contract.db')}`, options);
  await store.migrate();
  return store;
});

describe('SQLite migrations', () => {
  it('succeed when two stores migrate one new file at once, and again later', async () => {
    const url = `file:${join(directory, 'migrate.db')}`;
    const stores = [createSqliteStore(url), createSqliteStore(url)];
    try {
      await Promise.all(stores.map(store => store.migrate()));
      await stores[0]?.migrate();

      assert.equal(await stores[1]?.getOrder('none'), null);
    } finally {
      await Promise.all(stores.map(store => store.close()));
    }
  });
});

describe('createSqliteStore', () => {
  it('refuses an in-memory database, which would lose everything on restart', () => {
    assert.throws(() => createSqliteStore('file::memory:'), {
      name: 'StoreError',
      code: 'invalid_config',
    });
  });
});

describe('a closed SQLite store', () => {
  it('rejects every call with an error saying it is closed, and closes again quietly', async () => {
    const store = createSqliteStore(`file:${join(directory, 'closed.db')}`);
    await store.migrate();
    await store.close();

    const closed = /SQLite store .* is closed/;
    await assert.rejects(store.getOrder('none'), closed);
    await assert.rejects(store.abandonIdempotent('none'), closed);
    await assert.rejects(store.publish('none'), closed);
    await assert.rejects(
      store.subscribe(() => undefined),
      closed,
    );
    await store.close();
  });
});

/** Resident memory in MB. */
/**
 * Resident memory outside the JS heap, in MB: where a native leak shows (libsql's was ~4 KB per prepare),
 * without the garbage a burst of 20,000 promises leaves in the heap until V8 collects it (up to ~30 MB).
 */
function nativeMb(): number {
  const { rss, heapTotal } = process.memoryUsage();
  return (rss - heapTotal) / 2 ** 20;
}

/** An order `ref` and its pending session (`session-<ref>-0000000000000`). */
async function givenOpenSession(
  store: Store,
  ref: string,
  amount: number,
  at: Date,
): Promise<Session> {
  await store.putOrder({
    orderRef: ref,
    amount,
    currency: 'VND',
    description: ref,
    netAmount: amount,
    feeAmount: 0,
    discountAmount: 0,
    createdAt: at,
  });
  return store.createSession({
    id: `session-${ref}-0000000000000`,
    nonce: `nonce-${ref}`,
    orderRef: ref,
    gatewayOrderId: `order-${ref}`,
    requestId: `request-${ref}`,
    amount,
    currency: 'VND',
    locale: 'vi',
    paymentMethod: null,
    sourceType: null,
    returnUrl: null,
    merchantOrigin: null,
    createdAt: at,
    expiresAt: new Date(at.getTime() + 15 * 60_000),
  });
}

/** A store with one pending session, and the payment that its transitions repeat. */
async function givenPayableSession(
  store: Store,
): Promise<{ transition: Transition; event: PaymentEvent }> {
  const at = new Date('2030-01-01T00:00:00.000Z');
  const session = await givenOpenSession(store, 'memory', 150_000, at);
  const evidence = {
    kind: 'ipn',
    transactionId: 'txn-memory',
    code: '200',
    message: 'OK',
  } as const;
  return {
    transition: { to: 'paid', evidence, at },
    event: {
      sessionId: session.id,
      kind: 'ipn',
      transactionId: evidence.transactionId,
      raw: 'eyJvcmRlcklEIjoiMSJ9',
      verified: true,
      verdict: 'applied',
      detail: null,
      receivedAt: at,
    },
  };
}

describe('SQLite memory', () => {
  // libsql 0.5.29 leaked ~4 KB of native memory per prepare and prepared on every call: 20,000 calls
  // cost it ~80 MB. Statements are now prepared once, so resident memory must stay flat.
  // A generous deadline: on a loaded 2-core machine 22,000 durable writes take what they take.
  it('stays flat over 20,000 transitions and recorded events', { timeout: 180_000 }, async t => {
    const store = createSqliteStore(`file:${join(directory, 'memory.db')}`);
    await store.migrate();
    try {
      const { transition, event } = await givenPayableSession(store);
      // 100 calls at a time: group commit shares one fsync among them (one at a time would measure the
      // disk, not the memory), and every call still prepares nothing new.
      const calls = async (count: number): Promise<void> => {
        for (let index = 0; index < count; index += 100) {
          await Promise.all(
            Array.from({ length: 50 }, () => [
              store.transition(event.sessionId ?? '', transition, event),
              store.recordEvent(event),
            ]).flat(),
          );
        }
      };
      await calls(2_000);
      const before = nativeMb();
      const started = Date.now();

      await calls(20_000);

      const growth = nativeMb() - before;
      t.diagnostic(
        `RSS outside the JS heap ${before.toFixed(1)} → ${(before + growth).toFixed(1)} MB over 20,000 ` +
          `calls in ${Date.now() - started} ms`,
      );
      assert.ok(growth < 30, `RSS outside the JS heap grew by ${growth.toFixed(1)} MB`);
      assert.equal((await store.listEvents(event.sessionId ?? '')).length, 22_000);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite group commit', () => {
  it('commits writes queued together, each atomic: a failing one rolls back alone', async () => {
    const store = createSqliteStore(`file:${join(directory, 'group.db')}`);
    await store.migrate();
    const at = new Date('2026-01-01T00:00:00Z');
    const sessions = [];
    for (const ref of ['G1', 'G2', 'G3'])
      sessions.push(await givenOpenSession(store, ref, 1000, at));
    const [first, second, third] = sessions as [Session, Session, Session];
    try {
      // Queued in one turn: one transaction. The second reuses the first's transaction id and must fail alone.
      const results = await Promise.allSettled([
        store.attachCheckout(
          first.id,
          { transactionId: 'TXN-SHARED', checkoutUrl: 'https://p/1' },
          at,
        ),
        store.attachCheckout(
          second.id,
          { transactionId: 'TXN-SHARED', checkoutUrl: 'https://p/2' },
          at,
        ),
        store.attachCheckout(third.id, { transactionId: 'TXN-3', checkoutUrl: 'https://p/3' }, at),
      ]);

      assert.deepEqual(
        results.map(r => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((await store.getSession(first.id))?.transactionId, 'TXN-SHARED');
      assert.equal((await store.getSession(second.id))?.transactionId, null);
      assert.equal((await store.getSession(second.id))?.checkoutUrl, null);
      assert.equal((await store.getSession(third.id))?.transactionId, 'TXN-3');

      // A write that fails after its first statements succeeded: the batch runs again with each write in
      // a savepoint, so that write leaves nothing behind (its UPDATE and outbox row too) and the others commit.
      const paid = (session: Session): Transition => ({
        to: 'paid',
        evidence: {
          kind: 'ipn',
          transactionId: String(session.transactionId),
          code: '200',
          message: 'ok',
          paymentMethod: null,
          sourceType: null,
        },
        at,
      });
      const event = (session: Session, verdict: unknown): PaymentEvent => ({
        sessionId: session.id,
        kind: 'ipn',
        transactionId: session.transactionId,
        raw: 'raw',
        verified: true,
        verdict: verdict as PaymentEvent['verdict'],
        detail: null,
        receivedAt: at,
      });
      const [one, broken] = [
        (await store.getSession(first.id))!,
        (await store.getSession(third.id))!,
      ];
      const settled = await Promise.allSettled([
        store.transition(one.id, paid(one), event(one, 'applied')),
        // NOT NULL verdict: the event insert fails after the UPDATE and the outbox insert ran.
        store.transition(broken.id, paid(broken), event(broken, null)),
      ]);

      assert.deepEqual(
        settled.map(r => r.status),
        ['fulfilled', 'rejected'],
      );
      assert.equal((await store.getSession(one.id))?.status, 'paid');
      assert.equal((await store.listOutbox(one.id)).length, 1);
      assert.equal((await store.getSession(broken.id))?.status, 'pending');
      assert.deepEqual(await store.listOutbox(broken.id), []);
      assert.deepEqual(await store.listEvents(broken.id), []);
    } finally {
      await store.close();
    }
  });

  it('holds commits back while the checkpointer starts the WAL over, and commits them together after', async () => {
    const db = new Database(join(directory, 'held.db'));
    db.exec('CREATE TABLE rows (n INTEGER NOT NULL)');
    let release = () => {};
    let held: Promise<void> | undefined = new Promise<void>(resolve => {
      release = resolve;
    });
    let commits = 0;
    let heldAsked = 0;
    const write = groupCommit(db, {
      assertOpen: () => {},
      committed: () => commits++,
      heldBack: () => {
        heldAsked++;
        return held;
      },
      durable: async () => {},
    });
    const count = () => db.prepare('SELECT COUNT(*) AS n FROM rows').get() as { n: number };
    const insert = (n: number) => write(() => db.prepare('INSERT INTO rows (n) VALUES (?)').run(n));
    try {
      const first = [insert(1), insert(2)];
      // The flush asked, was held back, and wrote nothing: a signal, not a wait for time to pass.
      await eventually(() => heldAsked === 1, 10_000);
      const later = insert(3);

      assert.equal(commits, 0);
      assert.deepEqual(count(), { n: 0 });

      held = undefined;
      release();
      await Promise.all([...first, later]);
      assert.equal(commits, 1, 'the writes queued while held back share one commit');
      assert.deepEqual(count(), { n: 3 });
    } finally {
      db.close();
    }
  });
});

describe('SQLite reads of one turn', () => {
  it('share one read transaction; a failing read fails alone; a lone read runs in none', async () => {
    const db = new Database(join(directory, 'reads.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE rows (n INTEGER NOT NULL); INSERT INTO rows (n) VALUES (1), (2), (3)');
    let open = true;
    const read = readBatch(db, () => {
      if (!open) throw new Error('closed');
    });
    const row = (n: number) => () => ({
      row: db.prepare('SELECT n FROM rows WHERE n = ?').get(n),
      inTransaction: db.inTransaction,
    });
    try {
      const together = await Promise.allSettled([
        read(row(1)),
        read(() => db.prepare('SELECT * FROM no_such_table').get()),
        read(row(3)),
      ]);
      assert.deepEqual(together[0], {
        status: 'fulfilled',
        value: { row: { n: 1 }, inTransaction: true },
      });
      assert.equal(together[1]?.status, 'rejected');
      assert.match(String((together[1] as PromiseRejectedResult).reason), /no such table/);
      assert.deepEqual(together[2], {
        status: 'fulfilled',
        value: { row: { n: 3 }, inTransaction: true },
      });
      // The transaction ended with the batch: a write on the same connection is not inside it.
      assert.equal(db.inTransaction, false);

      assert.deepEqual(await read(row(2)), { row: { n: 2 }, inTransaction: false });

      open = false;
      await assert.rejects(Promise.all([read(row(1)), read(row(2))]), /closed/);
    } finally {
      db.close();
    }
  });

  it('see a write queued before them in the same turn once it committed', async () => {
    const store = createSqliteStore(`file:${join(directory, 'read-after-write.db')}`);
    try {
      await store.migrate();
      const at = new Date();
      const session = await givenOpenSession(store, 'read-after-write', 150_000, at);
      const moved = store.transition(session.id, { to: 'expired', at });
      // Not awaited: the read is queued behind the group commit that holds the transition.
      const seen = await store.getSession(session.id);
      assert.equal(seen?.status, 'expired');
      assert.equal((await moved).changed, true);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite unverified evidence from before the caps (migration 6)', () => {
  it('places the rows already there, and the next unverified insert trims them to the caps; verified rows stay', async () => {
    const url = `file:${join(directory, 'legacy.db')}`;
    const first = createSqliteStore(url);
    await first.migrate();
    await first.close();
    const db = new Database(url.slice('file:'.length));
    // As the signer stored them before version 6: every forgery, with no place in the window.
    const insert = db.prepare(
      `INSERT INTO payment_events (session_id, kind, raw, verified, verdict, detail, received_at)
        VALUES ('legacy-session', 'ipn', ?, ?, ?, 'invalid_signature', '2030-01-01T00:00:00.000Z')`,
    );
    for (let i = 0; i < 120; i++) insert.run(`legacy-${i}`, 0, 'bad_signature');
    for (let i = 0; i < 5; i++) insert.run(`verified-${i}`, 1, 'applied');
    const backfill = evidenceMigration(SQLITE).statements.find(sql => sql.startsWith('UPDATE'))!;
    db.exec(backfill);
    db.close();
    const store = createSqliteStore(url, { unverifiedEvidence: LEGACY_CAPS });

    await checkLegacyEvidenceTrimmed(store, new Date('2030-01-01T00:00:01.000Z'));
  });
});
