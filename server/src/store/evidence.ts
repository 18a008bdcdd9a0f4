/**
 * Unverified evidence (callbacks whose signature did not check out) is forensics, not state: it is kept in a
 * capped, rotating window so that forged traffic can never fill the database (issue 11 §5). Verified evidence is
 * never touched here: nothing a gateway told us is ever dropped or truncated.
 *
 * Each unverified row keeps a prefix of what was received (with the full length and SHA-256 in its detail when
 * cut), its size (`unverified_bytes`: `raw` + `detail`) and its place in the log of all unverified rows so far:
 * `unverified_seq` (rows before it, plus one) and `unverified_offset` (bytes before it). The insert reads the newest
 * row's place and follows it; in the same transaction (SQLite) or statement (PostgreSQL) every unverified row that
 * starts more than `maxRows` rows or `maxBytes` bytes before the new row's end is deleted. Both are index range
 * lookups, so the cost does not grow with the caps, and the verified path is not touched at all.
 */

import { createHash } from 'node:crypto';

import type { PaymentEvent } from './store.js';

/** How much unverified evidence a store keeps: the newest rows within both caps. */
export interface UnverifiedEvidenceLimits {
  /** At most this many unverified rows. */
  maxRows: number;
  /** At most this many bytes of them (UTF-8 bytes of `raw` plus `detail`). */
  maxBytes: number;
}

/** Store options shared by both adapters. */
export interface EvidenceStoreOptions {
  /** Caps on unverified evidence; {@link DEFAULT_UNVERIFIED_EVIDENCE} where not given. */
  unverifiedEvidence?: Partial<UnverifiedEvidenceLimits>;
}

/** The defaults: 10,000 rows and 8 MiB, whichever is reached first. */
export const DEFAULT_UNVERIFIED_EVIDENCE: Readonly<UnverifiedEvidenceLimits> = Object.freeze({
  maxRows: 10_000,
  maxBytes: 8 * 1024 * 1024,
});

/** The prefix of unverified input kept per row: a real callback is a few hundred bytes. */
export const UNVERIFIED_RAW_KEEP_BYTES = 2048;

/** The longest detail kept with an unverified row (before the note of a cut). */
const DETAIL_KEEP_CHARS = 200;

/** The limits a store runs with: the defaults where not given, checked. */
export function evidenceLimits(
  given: Partial<UnverifiedEvidenceLimits> | undefined,
): UnverifiedEvidenceLimits {
  const limits = { ...DEFAULT_UNVERIFIED_EVIDENCE, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`unverifiedEvidence.${name} must be a positive whole number`);
    }
  }
  return limits;
}

/** An unverified event as stored: its raw text cut to a prefix, and its size. */
export interface CappedEvent {
  event: PaymentEvent;
  /** UTF-8 bytes of the stored `raw` and `detail`. */
  bytes: number;
}

/**
 * Cuts an unverified event's raw text to {@link UNVERIFIED_RAW_KEEP_BYTES} (on a character boundary); a cut one
 * says in its detail how long the input was and its SHA-256, so repeated forgeries can still be told apart.
 */
export function capUnverified(event: PaymentEvent): CappedEvent {
  const received = Buffer.from(event.raw, 'utf8');
  let raw = event.raw;
  let detail = event.detail === null ? null : event.detail.slice(0, DETAIL_KEEP_CHARS);
  if (received.length > UNVERIFIED_RAW_KEEP_BYTES) {
    let end = UNVERIFIED_RAW_KEEP_BYTES;
    // Back to the first byte of a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (end > 0 && (received[end]! & 0xc0) === 0x80) end -= 1;
    raw = received.subarray(0, end).toString('utf8');
    const digest = createHash('sha256').update(received).digest('hex');
    detail = `${detail ?? ''}; kept ${end} of ${received.length} bytes, sha256 ${digest}`;
  }
  return {
    event: { ...event, raw, detail },
    bytes: Buffer.byteLength(raw, 'utf8') + Buffer.byteLength(detail ?? '', 'utf8'),
  };
}

/** Schema version 6 on SQLite: each unverified row's size and place (backfilled), and their indexes. */
export const SQLITE_EVIDENCE_MIGRATION = {
  version: 6,
  statements: [
    'ALTER TABLE payment_events ADD COLUMN unverified_seq INTEGER',
    'ALTER TABLE payment_events ADD COLUMN unverified_offset INTEGER',
    'ALTER TABLE payment_events ADD COLUMN unverified_bytes INTEGER',
    `UPDATE payment_events
      SET unverified_seq = placed.seq, unverified_offset = placed.total - placed.bytes,
        unverified_bytes = placed.bytes
      FROM (
        SELECT id, bytes, row_number() OVER oldest AS seq, sum(bytes) OVER oldest AS total
        FROM (
          SELECT id, length(CAST(raw AS BLOB)) + COALESCE(length(CAST(detail AS BLOB)), 0) AS bytes
          FROM payment_events WHERE verified = 0
        ) AS sized
        WINDOW oldest AS (ORDER BY id)
      ) AS placed
      WHERE payment_events.id = placed.id`,
    `CREATE INDEX payment_events_unverified_seq_idx
      ON payment_events (unverified_seq, unverified_offset, unverified_bytes) WHERE verified = 0`,
    `CREATE INDEX payment_events_unverified_offset_idx
      ON payment_events (unverified_offset) WHERE verified = 0`,
  ],
} as const;

/** Schema version 6 on PostgreSQL (see {@link SQLITE_EVIDENCE_MIGRATION}). */
export const POSTGRES_EVIDENCE_MIGRATION = {
  version: 6,
  statements: [
    'ALTER TABLE payment_events ADD COLUMN unverified_seq bigint',
    'ALTER TABLE payment_events ADD COLUMN unverified_offset bigint',
    'ALTER TABLE payment_events ADD COLUMN unverified_bytes integer',
    `UPDATE payment_events
      SET unverified_seq = placed.seq, unverified_offset = placed.total - placed.bytes,
        unverified_bytes = placed.bytes
      FROM (
        SELECT id, bytes, row_number() OVER oldest AS seq, sum(bytes) OVER oldest AS total
        FROM (
          SELECT id, octet_length(raw) + COALESCE(octet_length(detail), 0) AS bytes
          FROM payment_events WHERE verified = false
        ) AS sized
        WINDOW oldest AS (ORDER BY id)
      ) AS placed
      WHERE payment_events.id = placed.id`,
    `CREATE INDEX payment_events_unverified_seq_idx
      ON payment_events (unverified_seq, unverified_offset, unverified_bytes) WHERE verified = false`,
    `CREATE INDEX payment_events_unverified_offset_idx
      ON payment_events (unverified_offset) WHERE verified = false`,
    // The place of the next unverified row, in one row: its lock orders unverified inserts across processes.
    `CREATE TABLE unverified_evidence_log (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      last_seq bigint NOT NULL,
      next_offset bigint NOT NULL
    )`,
    `INSERT INTO unverified_evidence_log (last_seq, next_offset)
      SELECT COALESCE(max(unverified_seq), 0), COALESCE(max(unverified_offset + unverified_bytes), 0)
      FROM payment_events WHERE verified = false`,
  ],
} as const;

/** The newest unverified row's place (none: no row yet). */
const NEWEST = (
  unverified: string,
) => `(SELECT unverified_seq, unverified_offset + unverified_bytes AS next_offset
  FROM payment_events WHERE verified = ${unverified} ORDER BY unverified_seq DESC LIMIT 1)`;

/** SQLite: inserts an unverified event after the newest one, returning its place. */
export const SQLITE_INSERT_UNVERIFIED_SQL = `INSERT INTO payment_events
  (session_id, kind, transaction_id, raw, verified, verdict, detail, received_at,
    unverified_seq, unverified_offset, unverified_bytes)
  SELECT :session_id, :kind, :transaction_id, :raw, 0, :verdict, :detail, :received_at,
    COALESCE(newest.unverified_seq, 0) + 1, COALESCE(newest.next_offset, 0), :bytes
  FROM (SELECT 1) LEFT JOIN ${NEWEST('0')} AS newest ON 1
  RETURNING unverified_seq, unverified_offset + unverified_bytes AS next_offset`;

/**
 * SQLite: deletes the unverified rows beyond the caps, counted back from the row just inserted (`:seq`, `:next_offset`).
 * Two statements, each a range of one index (SQLite would scan a whole index for the OR of both).
 */
export const SQLITE_TRIM_UNVERIFIED_SQL = [
  'DELETE FROM payment_events WHERE verified = 0 AND unverified_seq <= :seq - :max_rows',
  'DELETE FROM payment_events WHERE verified = 0 AND unverified_offset < :next_offset - :max_bytes',
] as const;

/**
 * PostgreSQL: the insert and the trim in one statement (one round trip, atomic). Parameters: the event's eight
 * columns (`verified` false), its bytes, maxRows, maxBytes, and `sweep`.
 *
 * The new row's place comes from the one row of `unverified_evidence_log`, whose lock orders concurrent
 * unverified inserts (of every process), so the caps are exact. The transaction commits without waiting for the
 * WAL flush (`synchronous_commit` off, for this transaction only): the lock is held for the statement alone, and a
 * crash can lose at most the last forged attempts' records, never anything verified (other transactions).
 *
 * Each insert deletes only the rows that its own row pushes out of the window (those before went with earlier
 * inserts), so its index ranges never reach the entries of rows deleted before (they stay until VACUUM and would
 * otherwise be read again on every insert of a flood). With `sweep` (a process's first unverified insert, and
 * every 64th: caps lowered since, rows from before the migration, a row committed while this one waited) it
 * deletes from the start. Both bounds are given so that the planner, which cannot know them, picks the indexes.
 */
export const POSTGRES_RECORD_UNVERIFIED_SQL = `WITH durability AS (
    SELECT set_config('synchronous_commit', 'off', true) AS setting),
  place AS (
    UPDATE unverified_evidence_log SET last_seq = last_seq + 1, next_offset = next_offset + $9
    WHERE singleton AND (SELECT setting FROM durability) = 'off'
    RETURNING last_seq, next_offset),
  inserted AS (
    INSERT INTO payment_events
      (session_id, kind, transaction_id, raw, verified, verdict, detail, received_at,
        unverified_seq, unverified_offset, unverified_bytes)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, place.last_seq, place.next_offset - $9, $9
    FROM place
    RETURNING unverified_seq, unverified_offset, unverified_offset + unverified_bytes AS next_offset)
  DELETE FROM payment_events WHERE verified = false
    AND ((unverified_seq >= CASE WHEN $12 THEN 0 ELSE (SELECT unverified_seq FROM inserted) - $10 END
        AND unverified_seq <= (SELECT unverified_seq FROM inserted) - $10)
      OR (unverified_offset >= CASE WHEN $12 THEN 0 ELSE (SELECT unverified_offset FROM inserted) - $11 END
        AND unverified_offset < (SELECT next_offset FROM inserted) - $11))`;

/** PostgreSQL: every how many unverified inserts a process sweeps from the start. */
export const POSTGRES_SWEEP_EVERY = 64;
