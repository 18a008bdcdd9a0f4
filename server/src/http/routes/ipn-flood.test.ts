/**
 * Issue 11 §5: unverifiable IPNs must not fill the database. Floods of forged IPNs over real HTTP on loopback,
 * on SQLite and PostgreSQL: what is stored stays within the per-source limit and the caps, and a verified IPN
 * sent in the middle of the flood, from the same source, is applied and kept whole.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { encodeCallback, signText, type CallbackEnvelope } from '@galaxy-pay/protocol';
import type { UnverifiedEvidenceLimits } from '../../store/evidence.js';
import { createPostgresStore } from '../../store/postgres.js';
import { createSqliteStore } from '../../store/sqlite.js';
import type { Session, Store } from '../../store/store.js';
import { captureLog } from '../../testing/log-capture.js';
import { rawRequest } from '../../testing/raw-http.js';
import {
  PG_URL,
  SALT,
  gatewayCallbackFor,
  openTestSession,
  startStack,
  type Stack,
  type StackOptions,
  type StoreKind,
} from '../../testing/test-support.js';

const CATALOG = { 'FLOOD-1': { amount: 250_000, description: 'Đơn flood' } };

/** A store of `kind` with the given caps, on a fresh file or schema; `query` takes `?` placeholders. */
async function cappedStore(kind: StoreKind, limits?: UnverifiedEvidenceLimits) {
  const options = limits === undefined ? {} : { unverifiedEvidence: limits };
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-flood-'));
    const file = join(dir, 'signer.db');
    const store = createSqliteStore(`file:${file}`, options);
    await store.migrate();
    return {
      store,
      query: async (sql: string, params: unknown[] = []) => {
        const { default: Database } = await import('better-sqlite3');
        const db = new Database(file, { readonly: true });
        try {
          const bound = params.map(p => (typeof p === 'boolean' ? Number(p) : p));
          return db.prepare(sql).all(...bound) as Record<string, unknown>[];
        } finally {
          db.close();
        }
      },
      /** The database file and its WAL, in bytes. */
      size: () =>
        [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0),
      drop: async (closing: Store) => {
        await closing.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `gp_flood_${randomBytes(6).toString('hex')}`;
  const store = createPostgresStore(PG_URL, { ...options, schema });
  await store.migrate();
  const client = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  };
  return {
    store,
    query: (sql: string, params: unknown[] = []) => {
      let n = 0;
      const numbered = sql.replace(/\?/g, () => `$${++n}`);
      return client(async c => (await c.query(numbered, params)).rows as Record<string, unknown>[]);
    },
    size: () => 0,
    drop: async (closing: Store) => {
      await closing.close();
      await client(c => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
}

type Database = Awaited<ReturnType<typeof cappedStore>>;

/** Unverified rows now, and their bytes (raw + detail, as the caps count them). */
async function unverifiedStats(database: Database): Promise<{ rows: number; bytes: number }> {
  const rows = await database.query(
    'SELECT raw, detail FROM payment_events WHERE verified = ? ORDER BY id',
    [false],
  );
  return {
    rows: rows.length,
    bytes: rows.reduce(
      (sum, row) =>
        sum + Buffer.byteLength(String(row.raw)) + Buffer.byteLength(String(row.detail ?? '')),
      0,
    ),
  };
}

/** Verified rows whose raw text is exactly `raw`. */
async function verifiedWithRaw(database: Database, raw: string) {
  return database.query(
    'SELECT verdict, session_id FROM payment_events WHERE verified = ? AND raw = ?',
    [true, raw],
  );
}

/** A forged envelope: a plausible callback with a random signature, its data `size` characters or so. */
function forgery(size: 'small' | 'large', i: number): CallbackEnvelope {
  const data =
    size === 'small'
      ? Buffer.from(
          JSON.stringify({ responseCode: '200', responseData: { orderID: `forged-${i}` } }),
        ).toString('base64')
      : randomBytes(22_500).toString('base64');
  return { data, signature: randomBytes(32).toString('hex') };
}

interface Sent {
  status: number;
  json: Record<string, unknown>;
}

/**
 * Sends every body to `/ipn` over 16 keep-alive connections, as fast as the signer answers, and returns the
 * answers in the order of `bodies`. `headers(i)` adds headers to the i-th request.
 */
async function flood(
  stack: Stack,
  bodies: readonly CallbackEnvelope[],
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<Sent[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const send = async (i: number): Promise<Sent> => {
    const body = JSON.stringify(bodies[i]);
    const res = await rawRequest(`${stack.signerUrl}/ipn`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...headers(i),
      },
      body,
    });
    return { status: res.status, json: JSON.parse(res.body || '{}') as Record<string, unknown> };
  };
  const answers: Sent[] = new Array(bodies.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          answers[i] = await send(i);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return answers;
}

/** 2,000 small forgeries with a 30 KB one every 50th (40), and the verified IPN at `middle`. */
function floodWith(verified: readonly CallbackEnvelope[]): {
  bodies: CallbackEnvelope[];
  at: number[];
} {
  const bodies: CallbackEnvelope[] = [];
  for (let i = 0; i < 2_040; i++) bodies.push(forgery(i % 51 === 50 ? 'large' : 'small', i));
  const at = verified.map((_, k) => 1_000 + k * 10);
  verified.forEach((envelope, k) => bodies.splice(at[k]!, 0, envelope));
  return { bodies, at };
}

function statusCounts(answers: readonly Sent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** A clock that stands still: a source's bucket never refills. */
function frozenClock(): () => Date {
  const frozen = new Date();
  return () => new Date(frozen);
}

/** Each forgery from an address of its own in 10.0.0.0/8, as a proxy would forward it. */
const fromItsOwnAddress = (i: number) => ({
  'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
});

/** For the enclosing `describe`: a store of `kind` with the given caps, and a stack on it. */
function useFloodStack(
  kind: StoreKind,
  signer: StackOptions['signer'],
  limits?: UnverifiedEvidenceLimits,
): { database(): Database; stack(): Stack } {
  let database: Database | undefined;
  let stack: Stack | undefined;
  before(async () => {
    database = await cappedStore(kind, limits);
    stack = await startStack({ sharedStore: database.store, catalog: CATALOG, signer });
  });
  after(async () => {
    await stack?.close();
    await database?.drop(database.store);
  });
  return { database: () => database!, stack: () => stack! };
}

/**
 * Opens a session for FLOOD-1 and sends 2,040 forgeries to `/ipn`, its verified IPN (then `alsoSigned`) in
 * the middle, each request with `headers(i)`; every forgery must be answered 401. `kept` are the answers to
 * the signed ones, in order.
 */
async function floodAroundPayment(
  stack: Stack,
  headers: (i: number) => Record<string, string>,
  alsoSigned: CallbackEnvelope[] = [],
): Promise<{ session: Session; verified: CallbackEnvelope; kept: Sent[] }> {
  const session = await openTestSession(stack, 'FLOOD-1');
  const verified = encodeCallback(gatewayCallbackFor(session), SALT);
  const { bodies, at } = floodWith([verified, ...alsoSigned]);

  const answers = await flood(stack, bodies, headers);

  const forged = answers.filter((_, i) => !at.includes(i));
  assert.deepEqual(statusCounts(forged), { 401: 2_040 });
  return { session, verified, kept: at.map(i => answers[i]!) };
}

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`POST /ipn under a flood of unverifiable IPNs (${kind})`, () => {
    describe('from one source', () => {
      const RATE = 25;
      const log = captureLog('warn');
      // The clock stands still: the source's bucket never refills, so exactly RATE are recorded.
      const { database, stack } = useFloodStack(kind, {
        unverifiedIpnRate: RATE,
        now: frozenClock(),
        logger: log.logger,
      });

      it(`records only ${RATE} of 2,040 forgeries, answers every one 401, and applies a verified IPN sent from the same source mid-flood`, async t => {
        const sizeBefore = database().size();

        // Every forgery also claims another address in X-Forwarded-For: without TRUST_PROXY it is not believed.
        const { session, verified, kept } = await floodAroundPayment(stack(), i => ({
          'x-forwarded-for': `198.51.100.${i % 250}`,
        }));

        const applied = kept[0]!;
        assert.deepEqual([applied.status, applied.json.ipnStatus], [200, '200']);
        assert.equal((await stack().store.getSession(session.id))?.status, 'paid');
        assert.deepEqual(
          (await stack().store.listEvents(session.id)).map(e => [e.verified, e.verdict, e.raw]),
          [[true, 'applied', verified.data]],
        );
        const stored = await unverifiedStats(database());
        assert.equal(stored.rows, RATE);
        const lines = log.records();
        const refused = lines.filter(line => line.msg === 'unverifiable IPN refused');
        const summaries = lines.filter(line =>
          String(line.msg).startsWith('unverifiable IPNs over the recording limit'),
        );
        assert.equal(
          refused.length,
          RATE,
          'one log line per recorded forgery, none per unrecorded one',
        );
        assert.deepEqual(
          summaries.map(line => [line.unrecorded, line.lastSource]),
          [[1, '127.0.0.1']],
          'the first unrecorded forgery is reported at once, the rest once a minute',
        );
        t.diagnostic(
          `${kind}, one source: 2,040 forgeries → ${stored.rows} rows, ${stored.bytes} bytes stored` +
            (kind === 'sqlite' ? `; file + WAL ${sizeBefore} → ${database().size()} bytes` : ''),
        );
      });
    });

    describe('from a new source each time (behind a proxy)', () => {
      const CAPS = { maxRows: 150, maxBytes: 15_000 };
      // Every forgery is recorded (no limit applies), so that the caps alone must hold.
      const { database, stack } = useFloodStack(
        kind,
        { trustProxy: 1, unverifiedIpnRateTotal: 1_000_000 },
        CAPS,
      );

      it('keeps the unverified rows and bytes within the caps, and verified evidence whole', async t => {
        // Signed by the gateway but unusable (not JSON): verified evidence, 30 KB, kept whole.
        const unusableData = Buffer.from(`{${'x'.repeat(22_000)}`).toString('base64');
        const unusable = { data: unusableData, signature: signText(unusableData, SALT) };
        const sizeBefore = database().size();

        const { session, verified, kept } = await floodAroundPayment(stack(), fromItsOwnAddress, [
          unusable,
        ]);

        assert.deepEqual(
          kept.map(answer => [answer.status, answer.json.ipnStatus]),
          [
            [200, '200'],
            [200, '404'],
          ],
        );
        assert.equal((await stack().store.getSession(session.id))?.status, 'paid');
        assert.deepEqual(await verifiedWithRaw(database(), verified.data), [
          { verdict: 'applied', session_id: session.id },
        ]);
        assert.deepEqual(await verifiedWithRaw(database(), unusable.data), [
          { verdict: 'rejected_schema', session_id: null },
        ]);
        const stored = await unverifiedStats(database());
        assert.ok(stored.rows <= CAPS.maxRows, `${stored.rows} unverified rows`);
        assert.ok(stored.bytes <= CAPS.maxBytes, `${stored.bytes} unverified bytes`);
        // Still forensics: the window is full, not emptied (a 30 KB forgery keeps 2 KB and a note).
        assert.ok(stored.bytes > CAPS.maxBytes - 3_000, `${stored.bytes} unverified bytes`);
        t.diagnostic(
          `${kind}, new source each time: 2,040 forgeries → ${stored.rows} rows, ${stored.bytes} bytes ` +
            `(caps ${CAPS.maxRows} rows, ${CAPS.maxBytes} bytes)` +
            (kind === 'sqlite' ? `; file + WAL ${sizeBefore} → ${database().size()} bytes` : ''),
        );
      });
    });

    describe('from many sources at once (behind a proxy)', () => {
      const TOTAL = 40;
      const { database, stack } = useFloodStack(kind, {
        trustProxy: 1,
        unverifiedIpnRateTotal: TOTAL,
        now: frozenClock(),
      });

      it(`records only ${TOTAL} of 2,040 forgeries from 2,040 addresses, and applies a verified IPN from one of them`, async () => {
        const { session, kept } = await floodAroundPayment(stack(), fromItsOwnAddress);

        assert.deepEqual([kept[0]!.status, kept[0]!.json.ipnStatus], [200, '200']);
        assert.equal((await stack().store.getSession(session.id))?.status, 'paid');
        assert.equal((await unverifiedStats(database())).rows, TOTAL);
      });
    });
  });
}
