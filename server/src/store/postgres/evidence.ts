/**
 * PostgreSQL's unverified evidence window (see `../evidence.ts`): the insert and the trim in one statement (one
 * round trip, atomic), ordered across processes by the one row of `unverified_evidence_log`.
 */

import { sql } from '../sql/dialect.js';
import { EVENT_COLUMNS, eventValues } from '../sql/statements.js';

/** Schema version 6's own statements here: the place of the next unverified row, in one row. */
export const EVIDENCE_LOG_MIGRATION: readonly string[] = [
  // Its lock orders unverified inserts across processes.
  `CREATE TABLE unverified_evidence_log (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq bigint NOT NULL,
    next_offset bigint NOT NULL
  )`,
  `INSERT INTO unverified_evidence_log (last_seq, next_offset)
    SELECT COALESCE(max(unverified_seq), 0), COALESCE(max(unverified_offset + unverified_bytes), 0)
    FROM payment_events WHERE verified = false`,
];

/** Every how many unverified inserts a process sweeps from the start. */
export const SWEEP_EVERY = 64;

/**
 * Inserts an unverified event and trims the window. Parameters: the event's fields (`verified` false), its
 * `bytes`, `maxRows`, `maxBytes`, and `sweep`.
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
export const RECORD_UNVERIFIED = sql(
  'record_unverified',
  p => `WITH durability AS (
      SELECT set_config('synchronous_commit', 'off', true) AS setting),
    place AS (
      UPDATE unverified_evidence_log
      SET last_seq = last_seq + 1, next_offset = next_offset + ${p('bytes')}
      WHERE singleton AND (SELECT setting FROM durability) = 'off'
      RETURNING last_seq, next_offset),
    inserted AS (
      INSERT INTO payment_events
        (${EVENT_COLUMNS}, unverified_seq, unverified_offset, unverified_bytes)
      SELECT ${eventValues(p)}, place.last_seq, place.next_offset - ${p('bytes')}, ${p('bytes')}
      FROM place
      RETURNING unverified_seq, unverified_offset, unverified_offset + unverified_bytes AS next_offset)
    DELETE FROM payment_events WHERE verified = false
      AND ((unverified_seq >= CASE WHEN ${p('sweep')} THEN 0
            ELSE (SELECT unverified_seq FROM inserted) - ${p('maxRows')} END
          AND unverified_seq <= (SELECT unverified_seq FROM inserted) - ${p('maxRows')})
        OR (unverified_offset >= CASE WHEN ${p('sweep')} THEN 0
            ELSE (SELECT unverified_offset FROM inserted) - ${p('maxBytes')} END
          AND unverified_offset < (SELECT next_offset FROM inserted) - ${p('maxBytes')}))`,
);
