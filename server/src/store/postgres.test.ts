import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';

import pg from 'pg';

import { POSTGRES, type Queryable } from './postgres/database.js';
import { batchedSessionLookup } from './postgres/lookup.js';
import { EVIDENCE_LOG_MIGRATION } from './postgres/evidence.js';
import { payloadsFor, sessionIdsOf } from './postgres/notify.js';
import { evidenceMigration } from './sql/schema.js';
import { createPostgresStore } from './postgres.js';
import {
  checkLegacyEvidenceTrimmed,
  describeStoreContract,
  LEGACY_CAPS,
} from './store.contract.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];

function freshSchema(): string {
  const schema = `gp_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

async function sql<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

after(async () => {
  for (const schema of schemas)
    await sql(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
});

const contractSchema = freshSchema();
describeStoreContract('PostgreSQL', async options => {
  const store = createPostgresStore(DATABASE_URL, { ...options, schema: contractSchema });
  await store.migrate();
  return store;
});

describe('PostgreSQL migrations', () => {
  it('succeed when two stores migrate one new schema at once, and again later', async () => {
    const schema = freshSchema();
    const stores = [
      createPostgresStore(DATABASE_URL, { schema }),
      createPostgresStore(DATABASE_URL, { schema }),
    ];
    try {
      await Promise.all(stores.map(store => store.migrate()));
      await stores[0]?.migrate();

      const versions = await sql<{ version: number }>(
        `SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_migrations ORDER BY version`,
      );
      assert.deepEqual(
        versions.map(row => row.version),
        [1, 2, 3, 4, 5, 6],
      );
      assert.equal(await stores[1]?.getOrder('none'), null);
    } finally {
      await Promise.all(stores.map(store => store.close()));
    }
  });

  it('keep a store on another schema from hearing this one', async () => {
    const [mine, theirs] = [freshSchema(), freshSchema()].map(schema =>
      createPostgresStore(DATABASE_URL, { schema }),
    );
    assert.ok(mine && theirs);
    try {
      await Promise.all([mine.migrate(), theirs.migrate()]);
      const heard: string[] = [];
      let mineHeard!: () => void;
      let barrierHeard!: () => void;
      const mineArrival = new Promise<void>(resolve => (mineHeard = resolve));
      const barrierArrival = new Promise<void>(resolve => (barrierHeard = resolve));
      const stopMine = await mine.subscribe(() => mineHeard());
      const stopTheirs = await theirs.subscribe(id => {
        heard.push(id);
        if (id === 'barrier') barrierHeard();
      });

      await mine.publish('s1');
      await mineArrival;
      // Committed after s1, so 'theirs' would have heard s1 before the barrier if it could.
      await theirs.publish('barrier');
      await barrierArrival;

      await stopMine();
      await stopTheirs();
      assert.deepEqual(heard, ['barrier']);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });
});

describe('PostgreSQL notifications', () => {
  it('resume after the listening connection is terminated', async () => {
    const schema = freshSchema();
    const store = createPostgresStore(DATABASE_URL, { schema });
    try {
      await store.migrate();
      const heard = new Set<string>();
      const unsubscribe = await store.subscribe(id => heard.add(id));

      const terminated = await sql<{ done: boolean }>(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
          WHERE query = 'LISTEN "galaxy_pay_sessions_${schema}"'`,
      );
      const deadline = Date.now() + 5000;
      let attempt = 0;
      while (!heard.has(`after-${attempt}`) && Date.now() < deadline) {
        attempt += 1;
        await store.publish(`after-${attempt}`);
        await new Promise(resolve => setTimeout(resolve, 100));
      }
      await unsubscribe();

      assert.deepEqual(
        terminated.map(row => row.done),
        [true],
      );
      assert.ok(heard.has(`after-${attempt}`), 'no notification after the connection was lost');
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL notifications, batched', () => {
  it('sends the ids published in one turn as one NOTIFY, each heard on its own by a subscriber', async () => {
    const schema = freshSchema();
    const store = createPostgresStore(DATABASE_URL, { schema });
    const raw = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await store.migrate();
      await raw.connect();
      const payloads: string[] = [];
      raw.on('notification', message => payloads.push(message.payload ?? ''));
      await raw.query(`LISTEN ${pg.escapeIdentifier(`galaxy_pay_sessions_${schema}`)}`);
      const heard: string[] = [];
      let allHeard!: () => void;
      const all = new Promise<void>(resolve => (allHeard = resolve));
      const unsubscribe = await store.subscribe(id => {
        heard.push(id);
        if (heard.length === 3) allHeard();
      });
      await Promise.all(['s-1', 's-2', 's-1', 's-3'].map(id => store.publish(id)));
      await all;
      await unsubscribe();
      // The raw listener's connection delivers in commit order: a marker sent afterwards arrives last.
      await raw.query(`NOTIFY ${pg.escapeIdentifier(`galaxy_pay_sessions_${schema}`)}, 'marker'`);
      while (payloads.at(-1) !== 'marker') await new Promise(resolve => setImmediate(resolve));

      assert.deepEqual(heard.sort(), ['s-1', 's-2', 's-3']);
      assert.deepEqual(payloads, ['s-1,s-2,s-3', 'marker']);
    } finally {
      await raw.end();
      await store.close();
    }
  });

  it('splits a turn of many ids into payloads under the 8000-byte limit, never splitting an id', () => {
    const ids = Array.from(
      { length: 1000 },
      (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(18)}`,
    );
    const payloads = payloadsFor(ids);

    assert.ok(payloads.length >= 3, `only ${payloads.length} payloads`);
    for (const payload of payloads) assert.ok(Buffer.byteLength(payload) < 8000);
    assert.deepEqual(payloads.flatMap(sessionIdsOf), ids);
    assert.deepEqual(sessionIdsOf('one-id'), ['one-id']);
  });
});

describe('PostgreSQL session lookups by gateway order id', () => {
  it('share one statement among the lookups of one turn', async () => {
    const schema = freshSchema();
    const store = createPostgresStore(DATABASE_URL, { schema });
    const pool = new pg.Pool({
      connectionString: DATABASE_URL,
      options: `-c search_path=${schema}`,
    });
    try {
      await store.migrate();
      const statements: string[] = [];
      const counted: Queryable = {
        query: ((config: pg.QueryConfig) => {
          statements.push(config.text);
          return pool.query(config);
        }) as Queryable['query'],
      };
      const lookup = batchedSessionLookup(counted);

      const found = await Promise.all(['gw-a', 'gw-b', 'gw-a'].map(id => lookup(id)));
      const later = await lookup('gw-c');

      assert.deepEqual(found, [null, null, null]);
      assert.equal(later, null);
      assert.equal(statements.length, 2);
      assert.match(statements[0]!, /gateway_order_id = ANY\(\$1\)/);
    } finally {
      await pool.end();
      await store.close();
    }
  });
});

describe('createPostgresStore', () => {
  it('refuses a schema name that is not a plain identifier', () => {
    assert.throws(() => createPostgresStore(DATABASE_URL, { schema: 'x; DROP TABLE y' }), {
      name: 'StoreError',
      code: 'invalid_config',
    });
  });
});

describe('PostgreSQL unverified evidence from before the caps (migration 6)', () => {
  it('places the rows already there, and the next unverified insert trims them to the caps; verified rows stay', async () => {
    const schema = freshSchema();
    const first = createPostgresStore(DATABASE_URL, { schema });
    await first.migrate();
    await first.close();
    const table = (name: string) => `${pg.escapeIdentifier(schema)}.${name}`;
    // As the signer stored them before version 6: every forgery, with no place in the window.
    await sql(
      `INSERT INTO ${table('payment_events')}
        (session_id, kind, raw, verified, verdict, detail, received_at)
        SELECT 'legacy-session', 'ipn', 'legacy-' || i, false, 'bad_signature', 'invalid_signature', now()
        FROM generate_series(0, 119) AS i`,
    );
    await sql(
      `INSERT INTO ${table('payment_events')}
        (session_id, kind, raw, verified, verdict, detail, received_at)
        SELECT 'legacy-session', 'ipn', 'verified-' || i, true, 'applied', NULL, now()
        FROM generate_series(0, 4) AS i`,
    );
    const [backfill, initLog] = [
      evidenceMigration(POSTGRES).statements.find(text => text.startsWith('UPDATE'))!,
      EVIDENCE_LOG_MIGRATION.find(text => text.startsWith('INSERT'))!,
    ];
    await sql(
      `SET search_path = ${pg.escapeIdentifier(schema)}; ${backfill};
        DELETE FROM unverified_evidence_log; ${initLog}`,
    );
    const store = createPostgresStore(DATABASE_URL, { schema, unverifiedEvidence: LEGACY_CAPS });

    await checkLegacyEvidenceTrimmed(store, new Date());
  });
});
