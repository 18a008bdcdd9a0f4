/**
 * The schema, written once for both databases (types and flags come from the {@link Dialect}): versioned
 * changes applied in order. Append new versions, never edit applied ones.
 */

import { LIVE_OPERATION_STATES } from '../operation-types.js';
import { literals, sql, type Dialect } from './dialect.js';
import { exec, one, run, type Work } from './work.js';

/** One schema version: the statements that take a database to it from the one before. */
export interface Migration {
  readonly version: number;
  readonly statements: readonly string[];
}

/** Version 1: orders, sessions, the evidence log, the outbox and idempotency keys. */
function base(d: Dialect): Migration {
  const { text, bigint, integer, timestamp } = d;
  return {
    version: 1,
    statements: [
      `CREATE TABLE orders (
        order_ref ${text} PRIMARY KEY,
        amount ${bigint} NOT NULL,
        currency ${text} NOT NULL,
        description ${text} NOT NULL,
        net_amount ${bigint} NOT NULL,
        fee_amount ${bigint} NOT NULL,
        discount_amount ${bigint} NOT NULL,
        created_at ${timestamp} NOT NULL
      )${d.tableSuffix}`,
      `CREATE TABLE sessions (
        id ${text} PRIMARY KEY,
        nonce ${text} NOT NULL,
        order_ref ${text} NOT NULL REFERENCES orders (order_ref),
        gateway_order_id ${text} NOT NULL UNIQUE,
        request_id ${text} NOT NULL,
        transaction_id ${text},
        amount ${bigint} NOT NULL,
        currency ${text} NOT NULL,
        status ${text} NOT NULL,
        ${d.flag('late_success', true)},
        code ${text},
        message ${text},
        cancel_reason ${text},
        locale ${text} NOT NULL,
        payment_method ${text},
        source_type ${text},
        return_url ${text},
        checkout_url ${text},
        merchant_origin ${text},
        created_at ${timestamp} NOT NULL,
        updated_at ${timestamp} NOT NULL,
        expires_at ${timestamp} NOT NULL,
        paid_at ${timestamp}
      )${d.tableSuffix}`,
      `CREATE UNIQUE INDEX sessions_transaction_id_key ON sessions (transaction_id)
        WHERE transaction_id IS NOT NULL`,
      'CREATE INDEX sessions_order_ref_status_idx ON sessions (order_ref, status)',
      'CREATE INDEX sessions_status_updated_at_idx ON sessions (status, updated_at)',
      // No foreign key on session_id: evidence is kept even when it names no known session.
      `CREATE TABLE payment_events (
        id ${d.identity},
        session_id ${text},
        kind ${text} NOT NULL,
        transaction_id ${text},
        raw ${text} NOT NULL,
        ${d.flag('verified')},
        verdict ${text} NOT NULL,
        detail ${text},
        received_at ${timestamp} NOT NULL
      )${d.tableSuffix}`,
      'CREATE INDEX payment_events_session_id_idx ON payment_events (session_id, id)',
      `CREATE TABLE outbox (
        id ${d.identity},
        session_id ${text} NOT NULL REFERENCES sessions (id),
        event ${text} NOT NULL,
        payload ${text} NOT NULL,
        attempts ${integer} NOT NULL DEFAULT 0,
        next_attempt_at ${timestamp} NOT NULL,
        delivered_at ${timestamp},
        last_error ${text},
        created_at ${timestamp} NOT NULL,
        UNIQUE (session_id, event)
      )${d.tableSuffix}`,
      'CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL',
      `CREATE TABLE idempotency_keys (
        idempotency_key ${text} PRIMARY KEY,
        request_hash ${text} NOT NULL,
        state ${text} NOT NULL,
        response_status ${integer},
        response_body ${text},
        created_at ${timestamp} NOT NULL
      )${d.tableSuffix}`,
      'CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)',
    ],
  };
}

/** Version 3: session plans, the operations audit trail, saved cards, payment links. */
function operations(d: Dialect): Migration {
  const { text, bigint, timestamp } = d;
  return {
    version: 3,
    statements: [
      `ALTER TABLE sessions ADD COLUMN plan ${text}`,
      `CREATE TABLE operations (
        id ${text} PRIMARY KEY,
        session_id ${text},
        kind ${text} NOT NULL,
        amount ${bigint},
        state ${text} NOT NULL,
        idempotency_key ${text},
        request_hash ${text},
        operator ${text} NOT NULL,
        gateway_request_id ${text},
        gateway_ref ${text},
        response_code ${text},
        response_message ${text},
        raw ${text},
        detail ${text},
        created_at ${timestamp} NOT NULL,
        updated_at ${timestamp} NOT NULL
      )${d.tableSuffix}`,
      `CREATE UNIQUE INDEX operations_idempotency_key ON operations (kind, idempotency_key)
        WHERE idempotency_key IS NOT NULL`,
      // A capture and a void exclude each other, and each happens once: the database says so too.
      `CREATE UNIQUE INDEX operations_one_capture_or_void ON operations (session_id)
        WHERE kind IN ('capture', 'void') AND state IN (${literals(LIVE_OPERATION_STATES)})`,
      'CREATE INDEX operations_session_idx ON operations (session_id, created_at)',
      'CREATE INDEX operations_created_idx ON operations (created_at)',
      `CREATE TABLE saved_cards (
        id ${text} PRIMARY KEY,
        customer_ref ${text} NOT NULL,
        token_digest ${text} NOT NULL UNIQUE,
        token_ciphertext ${text} NOT NULL,
        key_id ${text} NOT NULL,
        payment_method ${text} NOT NULL,
        brand ${text},
        source ${text},
        masked_number ${text} NOT NULL,
        holder_name ${text},
        session_id ${text},
        created_at ${timestamp} NOT NULL,
        deleted_at ${timestamp}
      )${d.tableSuffix}`,
      'CREATE INDEX saved_cards_customer_idx ON saved_cards (customer_ref, created_at)',
      `CREATE TABLE payment_links (
        order_no ${text} PRIMARY KEY,
        link_ref ${text} NOT NULL UNIQUE,
        name ${text} NOT NULL,
        description ${text} NOT NULL,
        amount ${bigint} NOT NULL,
        currency ${text} NOT NULL,
        methods ${text} NOT NULL,
        fields ${text} NOT NULL,
        short_link ${text} NOT NULL,
        status ${text} NOT NULL,
        ${d.flag('late', true)},
        payer ${text},
        paid_amount ${bigint},
        raw ${text},
        detail ${text},
        operator ${text} NOT NULL,
        created_at ${timestamp} NOT NULL,
        expires_at ${timestamp} NOT NULL,
        paid_at ${timestamp},
        updated_at ${timestamp} NOT NULL
      )${d.tableSuffix}`,
      'CREATE INDEX payment_links_created_idx ON payment_links (created_at)',
    ],
  };
}

/**
 * Version 6 (issue 11 §5): each unverified evidence row's size and place in the log of all of them (backfilled),
 * and their indexes (see `evidence.ts`). PostgreSQL adds its own statements after these.
 */
export function evidenceMigration(d: Dialect): Migration {
  const unverified = `verified = ${d.false}`;
  return {
    version: 6,
    statements: [
      `ALTER TABLE payment_events ADD COLUMN unverified_seq ${d.bigint}`,
      `ALTER TABLE payment_events ADD COLUMN unverified_offset ${d.bigint}`,
      `ALTER TABLE payment_events ADD COLUMN unverified_bytes ${d.integer}`,
      `UPDATE payment_events
        SET unverified_seq = placed.seq, unverified_offset = placed.total - placed.bytes,
          unverified_bytes = placed.bytes
        FROM (
          SELECT id, bytes, row_number() OVER oldest AS seq, sum(bytes) OVER oldest AS total
          FROM (
            SELECT id, ${d.octets('raw')} + COALESCE(${d.octets('detail')}, 0) AS bytes
            FROM payment_events WHERE ${unverified}
          ) AS sized
          WINDOW oldest AS (ORDER BY id)
        ) AS placed
        WHERE payment_events.id = placed.id`,
      `CREATE INDEX payment_events_unverified_seq_idx
        ON payment_events (unverified_seq, unverified_offset, unverified_bytes) WHERE ${unverified}`,
      `CREATE INDEX payment_events_unverified_offset_idx
        ON payment_events (unverified_offset) WHERE ${unverified}`,
    ],
  };
}

/** Every version, in order; `extra` adds a dialect's own statements at the end of a version. */
export function migrations(
  d: Dialect,
  extra: Readonly<Record<number, readonly string[]>> = {},
): readonly Migration[] {
  const { integer, text, timestamp } = d;
  const all: Migration[] = [
    base(d),
    {
      // One open session per order, across every signer process: a second checkout for the same order
      // would be a second gateway transaction, and a second payment.
      version: 2,
      statements: [
        `CREATE UNIQUE INDEX sessions_one_open_per_order ON sessions (order_ref)
          WHERE status IN ('pending', 'pending_unknown')`,
      ],
    },
    operations(d),
    {
      // Issue 11: a session whose gateway query went unanswered is asked again with backoff (never settled
      // by the silence), and an open session is handed back only to the browser that opened it.
      version: 4,
      statements: [
        `ALTER TABLE sessions ADD COLUMN check_failures ${integer} NOT NULL DEFAULT 0`,
        `ALTER TABLE sessions ADD COLUMN next_check_at ${timestamp}`,
        `ALTER TABLE sessions ADD COLUMN client_key_hash ${text}`,
      ],
    },
    {
      // Issue 11: an operation whose outcome is unknown is asked about again with backoff (how many checks,
      // and when next), and the background pass finds the unsettled ones by index.
      version: 5,
      statements: [
        `ALTER TABLE operations ADD COLUMN check_count ${integer} NOT NULL DEFAULT 0`,
        `ALTER TABLE operations ADD COLUMN next_check_at ${timestamp}`,
        `CREATE INDEX operations_unsettled_idx ON operations (state, updated_at)
          WHERE state IN ('pending', 'unknown')`,
      ],
    },
    evidenceMigration(d),
  ];
  return all.map(m => ({ ...m, statements: [...m.statements, ...(extra[m.version] ?? [])] }));
}

const CURRENT_VERSION = sql(
  'schema_version',
  () => 'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
);
const RECORD_VERSION = sql(
  'schema_record_version',
  p => `INSERT INTO schema_migrations (version, applied_at) VALUES (${p('version')}, ${p('at')})`,
);

/** Applies the versions the database lacks, in order (inside the adapter's transaction or lock). */
export function* migrate(d: Dialect, versions: readonly Migration[]): Work<void> {
  yield* exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version ${d.integer} PRIMARY KEY,
      applied_at ${d.timestamp} NOT NULL${d.defaultNow}
    )${d.tableSuffix}`,
  );
  const current = Number((yield* one(CURRENT_VERSION, {}))?.version ?? 0);
  for (const migration of versions) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements) yield* exec(statement);
    yield* run(RECORD_VERSION, { version: migration.version, at: new Date() });
  }
}
