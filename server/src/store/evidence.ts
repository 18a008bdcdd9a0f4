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
 * lookups, so the cost does not grow with the caps, and the verified path is not touched at all. The statements
 * are each adapter's own (`sqlite/evidence.ts`, `postgres/evidence.ts`); the schema is `sql/schema.ts` (version 6).
 */

import { createHash } from 'node:crypto';

import type { PaymentEvent } from './types.js';

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
