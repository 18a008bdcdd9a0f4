/**
 * PostgreSQL's side of `publish`: every session id changed in one turn of the event loop goes out in one
 * NOTIFY, comma-separated, sent in its own statement just after the changes committed (`per-turn.ts`).
 *
 * Why not inside the transition's statement, where it would leave atomically with the commit: a transaction
 * that NOTIFYs takes a database-wide lock at commit and holds it through its WAL flush, so notifying
 * transactions commit one at a time and never share a flush. One NOTIFY per transition cost a fifth of the
 * IPN throughput in the bench (2 800 vs 3 500 IPN/s). A notification only tells a subscriber to read the
 * session again; the one a crash loses between the commit and the NOTIFY is covered as a lost LISTEN
 * connection is: the widget also polls the signer.
 */

import type { Queryable } from './database.js';
import { perTurn } from './per-turn.js';

/** PostgreSQL refuses payloads of 8 000 bytes or more; ids are ASCII (base64url). */
const MAX_PAYLOAD_BYTES = 7_900;
const SEPARATOR = ',';

/** The session ids of one notification's payload (one id from a process that does not batch). */
export function sessionIdsOf(payload: string): string[] {
  return payload.split(SEPARATOR).filter(id => id !== '');
}

/** Payloads for `ids`, each under the limit, ids never split. */
export function payloadsFor(ids: Iterable<string>): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const id of ids) {
    if (current !== '' && current.length + 1 + id.length > MAX_PAYLOAD_BYTES) {
      payloads.push(current);
      current = '';
    }
    current = current === '' ? id : `${current}${SEPARATOR}${id}`;
  }
  if (current !== '') payloads.push(current);
  return payloads;
}

/**
 * Returns `publish`: queues the id for this turn's NOTIFY and resolves once that NOTIFY has been sent
 * (rejects if it could not be).
 */
export function batchedNotify(
  db: Queryable,
  channel: string,
): (sessionId: string) => Promise<void> {
  return perTurn(async ids => {
    const payloads = payloadsFor(ids);
    // Every payload in one statement: one round trip, one commit.
    const calls = payloads.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ');
    await db.query(`SELECT ${calls}`, [channel, ...payloads]);
  });
}
