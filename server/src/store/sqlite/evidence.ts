/**
 * SQLite's unverified evidence window (see `../evidence.ts`): the insert reads the newest unverified row's place
 * and follows it, then the rows beyond the caps go, all in the write's transaction.
 */

import type { CappedEvent, UnverifiedEvidenceLimits } from '../evidence.js';
import { sql } from '../sql/dialect.js';
import { EVENT_COLUMNS, eventValues } from '../sql/statements.js';
import { one, run, type Work } from '../sql/work.js';

/** Inserts an unverified event after the newest one, returning its place. */
const INSERT_UNVERIFIED = sql(
  'insert_unverified',
  p => `INSERT INTO payment_events
      (${EVENT_COLUMNS}, unverified_seq, unverified_offset, unverified_bytes)
    SELECT ${eventValues(p)},
      COALESCE(newest.unverified_seq, 0) + 1, COALESCE(newest.next_offset, 0), ${p('bytes')}
    FROM (SELECT 1) LEFT JOIN (
      SELECT unverified_seq, unverified_offset + unverified_bytes AS next_offset
      FROM payment_events WHERE verified = 0 ORDER BY unverified_seq DESC LIMIT 1
    ) AS newest ON 1
    RETURNING unverified_seq, unverified_offset + unverified_bytes AS next_offset`,
);

/**
 * Deletes the unverified rows beyond the caps, counted back from the row just inserted. Two statements, each a
 * range of one index (SQLite would scan a whole index for the OR of both).
 */
const TRIM_BY_ROWS = sql(
  'trim_unverified_rows',
  p => `DELETE FROM payment_events
    WHERE verified = 0 AND unverified_seq <= ${p('seq')} - ${p('maxRows')}`,
);
const TRIM_BY_BYTES = sql(
  'trim_unverified_bytes',
  p => `DELETE FROM payment_events
    WHERE verified = 0 AND unverified_offset < ${p('nextOffset')} - ${p('maxBytes')}`,
);

/** Records an unverified event, cut to a prefix (`capUnverified`), in a window capped by rows and bytes. */
export function* recordUnverified(
  { event: kept, bytes }: CappedEvent,
  limits: UnverifiedEvidenceLimits,
): Work<void> {
  const inserted = yield* one(INSERT_UNVERIFIED, { ...kept, verified: false, bytes });
  yield* run(TRIM_BY_ROWS, { seq: inserted?.unverified_seq, maxRows: limits.maxRows });
  yield* run(TRIM_BY_BYTES, { nextOffset: inserted?.next_offset, maxBytes: limits.maxBytes });
}
