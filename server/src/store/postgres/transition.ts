/**
 * PostgreSQL's transition in one round trip. One statement, run in autocommit (a single statement is atomic):
 * the conditional UPDATE, and only if it moved the row, the outbox row (its payload built from the updated row)
 * and the payment event. The NOTIFY goes out after it, batched (`notify.ts` says why). A transition that
 * changes nothing (a duplicate IPN, a lost race) takes a second statement: the row as it is now, with the event
 * recorded as a duplicate — the same snapshot a transaction's next statement would have seen.
 * `batched-transition.ts` runs the same statement for many sessions at once.
 */

import { sessionNotFound, transactionIdConflict } from '../errors.js';
import { sessionFromRow, type Row } from '../rows.js';
import { sql, type Placeholder, type Statement } from '../sql/dialect.js';
import { EVENT_COLUMNS, eventValues, SESSION_COLUMNS, TRANSITION } from '../sql/statements.js';
import { eventAsRecorded, transitionChanges } from '../transitions.js';
import type { PaymentEvent, Transition, TransitionResult } from '../types.js';
import { query, type Queryable, violates } from './database.js';

/** A column of the moved row as JSON text: `to_json` escapes text exactly as `JSON.stringify` does. */
const json = (column: string) => `COALESCE(to_json(moved.${column})::text, 'null')`;

/**
 * The outbox payload, written as `outboxPayload` (transitions.ts) writes it, key for key: what comes from the
 * transition is passed in as JSON text (`eventJson`, `tail`: `"at"` and, on needs_review, `"detail"`), what
 * comes from the row is taken from the row just updated.
 */
export const PAYLOAD = (p: Placeholder) =>
  [
    `'{"event":' || ${p('eventJson')}`,
    `',"sessionId":' || ${json('id')}`,
    `',"orderRef":' || ${json('order_ref')}`,
    `',"amount":' || ${json('amount')}`,
    `',"currency":' || ${json('currency')}`,
    `',"status":' || ${json('status')}`,
    `',"transactionId":' || ${json('transaction_id')}`,
    `',"code":' || ${json('code')}`,
    `',"message":' || ${json('message')}`,
    `',"lateSuccess":' || ${json('late_success')}`,
    `',' || ${p('tail')}`,
  ].join(' || ');

/**
 * The CTE that records the event, once per row of `from` (none: no event). Its parameters are prefixed: an
 * event has a transaction id of its own, as the transition has.
 */
const recorded = (p: Placeholder, from: string) => `,
  recorded AS (
    INSERT INTO payment_events (${EVENT_COLUMNS})
    SELECT ${eventValues(name => p(`event.${name}`))} FROM ${from})`;

function moveStatement(to: Transition['to'], withEvent: boolean): Statement {
  return sql(
    `move_${to}${withEvent ? '_event' : ''}`,
    (p, d) => `WITH moved AS (${TRANSITION[to].write(p, d)}),
      queued AS (
        INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
        SELECT id, ${p('status')}, ${PAYLOAD(p)}, ${p('at')}, ${p('at')} FROM moved
        ON CONFLICT (session_id, event) DO NOTHING)${withEvent ? recorded(p, 'moved') : ''}
    SELECT ${SESSION_COLUMNS} FROM moved`,
    { prepared: true },
  );
}

/** No move: the session as it is now, and the event (recorded only if the session exists). */
function unmovedStatement(withEvent: boolean): Statement {
  return sql(
    `unmoved${withEvent ? '_event' : ''}`,
    p => `WITH found AS (SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ${p('id')})${
      withEvent ? recorded(p, 'found') : ''
    }
    SELECT * FROM found`,
    { prepared: true },
  );
}

const TARGETS = Object.keys(TRANSITION) as Transition['to'][];

/** The move statements, by target and by whether an event goes with it. */
const MOVE = Object.fromEntries(
  TARGETS.map(to => [to, [moveStatement(to, false), moveStatement(to, true)]]),
) as unknown as Record<Transition['to'], readonly [Statement, Statement]>;

/** The no-move statements, without and with an event. */
const UNMOVED = [unmovedStatement(false), unmovedStatement(true)] as const;

/** Prefixes an event's fields as the statements name them. */
function eventParams(event: PaymentEvent | undefined): Record<string, unknown> {
  if (event === undefined) return {};
  return Object.fromEntries(Object.entries(event).map(([key, value]) => [`event.${key}`, value]));
}

/** The payload's parts that come from the transition, as JSON text (see {@link PAYLOAD}). */
function payloadParams(transition: Transition): { eventJson: string; tail: string } {
  const tail = JSON.stringify({
    at: transition.at.toISOString(),
    ...(transition.to === 'needs_review' ? { detail: transition.detail } : {}),
  });
  return { eventJson: JSON.stringify(transition.to), tail: tail.slice(1) };
}

/** The parameters of a move: the session, the changes, the payload's parts, the event as a change records it. */
export function transitionParams(
  id: string,
  transition: Transition,
  event: PaymentEvent | undefined,
): Record<string, unknown> {
  return {
    id,
    ...transitionChanges(transition),
    ...payloadParams(transition),
    ...eventParams(event && eventAsRecorded(event, true)),
  };
}

/** `Store.transition` on PostgreSQL: one round trip when the session moves, two when it does not. */
export async function transitionInOneStatement(
  db: Queryable,
  id: string,
  transition: Transition,
  event?: PaymentEvent,
): Promise<TransitionResult> {
  const withEvent = event === undefined ? 0 : 1;
  const params = transitionParams(id, transition, event);
  let moved: Row | undefined;
  try {
    moved = (await db.query<Row>(query(MOVE[transition.to][withEvent], params))).rows[0];
  } catch (error) {
    if (violates(error, 'transactionId')) {
      throw transactionIdConflict(id, transitionChanges(transition).transactionId, error);
    }
    throw error;
  }
  if (moved !== undefined) return { changed: true, session: sessionFromRow(moved) };
  return unmoved(db, id, event);
}

/** A transition whose move changed nothing: the session as it is now, and the event as a duplicate. */
export async function unmoved(
  db: Queryable,
  id: string,
  event: PaymentEvent | undefined,
): Promise<TransitionResult> {
  const params = { id, ...eventParams(event && eventAsRecorded(event, false)) };
  const current = (await db.query<Row>(query(UNMOVED[event === undefined ? 0 : 1], params)))
    .rows[0];
  if (current === undefined) throw sessionNotFound(id);
  return { changed: false, session: sessionFromRow(current) };
}
