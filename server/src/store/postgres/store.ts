/**
 * The PostgreSQL store, for several signer processes: a pool of connections, the shared methods (`../sql/`)
 * run on it, each statement in autocommit unless a unit of work must be atomic (then one READ COMMITTED
 * transaction). A transition takes one statement (`transition.ts`), shared by the transitions of one turn of the
 * event loop (`batched-transition.ts`), as the IPNs' session lookups are (`lookup.ts`); `publish` is a NOTIFY
 * (batched, `notify.ts`) on a channel named after the schema, so stores on other schemas never hear it.
 */

import type Pg from 'pg';

import { pgDriver } from '../drivers.js';
import { StoreError } from '../errors.js';
import { capUnverified, evidenceLimits, type EvidenceStoreOptions } from '../evidence.js';
import { sharedMethods } from '../sql/methods.js';
import { operationMethods } from '../sql/operation-methods.js';
import { migrate, migrations } from '../sql/schema.js';
import { sql } from '../sql/dialect.js';
import { INSERT_EVENT } from '../sql/statements.js';
import { exec, one, runAsync, type Engine, type Work } from '../sql/work.js';
import type { Store } from '../store.js';
import { execute, parseBigint, POSTGRES, query, violates } from './database.js';
import { EVIDENCE_LOG_MIGRATION, RECORD_UNVERIFIED, SWEEP_EVERY } from './evidence.js';
import { listenToChannel } from './listen.js';
import { batchedSessionLookup } from './lookup.js';
import { batchedNotify, sessionIdsOf } from './notify.js';
import { batchedTransitions } from './batched-transition.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends EvidenceStoreOptions {
  /**
   * Keep every table in this schema (created by `migrate()`), e.g. a fresh one per test run.
   * Lower-case letters, digits and underscores; it also scopes the notification channel.
   */
  schema?: string;
}

/**
 * Connections per store. A transition holds one for a single round trip, so a few serve many IPNs; ten (the
 * node-postgres default) leaves room for a slow admin query without starving the IPN path.
 */
const POOL_SIZE = 10;
const NOTIFY_CHANNEL = 'galaxy_pay_sessions';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

const MIGRATION_LOCK = sql(
  'migration_lock',
  p => `SELECT pg_advisory_xact_lock(hashtext(${p('key')}))`,
);

/**
 * Opens the PostgreSQL store (a pool of {@link POOL_SIZE} connections) for several signer processes.
 * Every change is one conditional write, so a concurrent loser under READ COMMITTED waits for the winner's row
 * lock, re-checks its condition against the committed row and changes nothing.
 */
export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const { schema } = options;
  const limits = evidenceLimits(options.unverifiedEvidence);
  // Unverified inserts so far: the first and every SWEEP_EVERY-th sweep from the start.
  let unverifiedInserts = 0;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      'invalid_config',
      `schema must match ${String(SCHEMA_NAME)}, got ${schema}`,
    );
  }
  const types = new (pgDriver().TypeOverrides)();
  types.setTypeParser(pgDriver().types.builtins.INT8, parseBigint);
  const clientConfig: Pg.ClientConfig = {
    connectionString: url,
    types,
    application_name: 'galaxy-pay-signer',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const pool = new (pgDriver().Pool)({ ...clientConfig, max: POOL_SIZE });
  // An idle connection can drop (server restart); the pool discards it, and an unhandled 'error'
  // event would crash the process.
  pool.on('error', () => undefined);
  const channel = schema === undefined ? NOTIFY_CHANNEL : `${NOTIFY_CHANNEL}_${schema}`;
  const listener = listenToChannel(clientConfig, channel);
  let closed = false;

  const onPool = <T>(work: () => Work<T>) => runAsync(work(), step => execute(pool, step));

  async function inTransaction<T>(work: () => Work<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await runAsync(work(), step => execute(client, step));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').then(
        () => client.release(),
        (rollbackError: Error) => client.release(rollbackError),
      );
      throw error;
    }
  }

  const engine: Engine = {
    dialect: POSTGRES,
    read: onPool,
    write: onPool,
    atomic: inTransaction,
    violates,
  };

  // A connection of its own for NOTIFY, whose commits need not wait for the WAL flush: nothing they write
  // has to survive a crash (notify.ts). One is enough: a turn's ids go in one statement.
  const notifyPool = new (pgDriver().Pool)({
    ...clientConfig,
    max: 1,
    options: [clientConfig.options, '-c synchronous_commit=off'].filter(Boolean).join(' '),
  });
  notifyPool.on('error', () => undefined);
  const publish = batchedNotify(notifyPool, channel);
  const transitionBatched = batchedTransitions(pool);
  const lookUp = batchedSessionLookup(pool);

  const recordEvent: Store['recordEvent'] = async event => {
    if (event.verified) {
      await pool.query(query(INSERT_EVENT, event));
      return;
    }
    // Unverified: a prefix, in a window capped by rows and bytes; the oldest go in the same statement.
    const { event: kept, bytes } = capUnverified(event);
    await pool.query(
      query(RECORD_UNVERIFIED, {
        ...kept,
        bytes,
        maxRows: limits.maxRows,
        maxBytes: limits.maxBytes,
        sweep: unverifiedInserts++ % SWEEP_EVERY === 0,
      }),
    );
  };

  const transition: Store['transition'] = async (id, change, event) => {
    const result = await transitionBatched(id, change, event);
    // Committed: other processes may hear of it now. A lost notification is not a lost change.
    if (result.changed) publish(id).catch(() => undefined);
    return result;
  };

  return {
    ...sharedMethods(engine, id => publish(id).catch(() => undefined)),
    ...operationMethods(engine),

    async migrate() {
      const key = `galaxy-pay:migrate:${schema ?? 'public'}`;
      await inTransaction(function* () {
        // Serializes concurrent starts, including CREATE SCHEMA IF NOT EXISTS, which races otherwise.
        yield* one(MIGRATION_LOCK, { key });
        if (schema !== undefined) {
          yield* exec(`CREATE SCHEMA IF NOT EXISTS ${pgDriver().escapeIdentifier(schema)}`);
        }
        yield* migrate(POSTGRES, migrations(POSTGRES, { 6: EVIDENCE_LOG_MIGRATION }));
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await Promise.all([pool.end(), notifyPool.end()]);
    },

    getSessionByGatewayOrderId: lookUp,
    transition,

    async settleReport(gatewayOrderId, settlement) {
      // Two steps, not one transaction: the lookups and the transitions of a turn each share a statement
      // (lookup.ts, batched-transition.ts), which saves more round trips than one transaction per IPN would.
      // The transition is conditional, so a change between the two is answered as it is in `transition`.
      const session = await lookUp(gatewayOrderId);
      if (session === null) return null;
      const { transition: change, event } = settlement(session);
      if (change !== undefined) return transition(session.id, change, event);
      await recordEvent(event);
      return { changed: false, session };
    },

    recordEvent,

    publish,

    subscribe(listen) {
      return listener.add(payload => sessionIdsOf(payload).forEach(id => listen(id)));
    },
  };
}
