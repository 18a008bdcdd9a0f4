/**
 * PostgreSQL's transitions of one turn of the event loop, in one statement per target status (`per-turn.ts`).
 * PostgreSQL's cost per IPN is mostly per statement (bind, executor start, commit, WAL flush, the round trip),
 * so the IPNs served at once share them: the statement of `transition.ts`, fed rows from arrays instead of
 * one set of parameters. Each row is still one conditional UPDATE, so each session moves (or not) exactly as it
 * would alone, and the statement is atomic: if it fails, none of it happened.
 *
 * What does not go in a batch runs alone, as before: a lone request, a second request for a session already in
 * the batch, a session that did not move (its current row and duplicate event take the second statement), and
 * every request of a batch PostgreSQL refused (a transaction id already taken, a deadlock), so that only the
 * culprit fails. A batch that failed without PostgreSQL's answer (a lost connection) fails all its requests:
 * it may have committed, and each caller treats that as any lost answer.
 */

import { pgDriver } from '../drivers.js';
import { sessionFromRow, type Row } from '../rows.js';
import { sql, type Statement } from '../sql/dialect.js';
import { EVENT_COLUMNS, eventValues, SESSION_COLUMNS, TRANSITION } from '../sql/statements.js';
import type { PaymentEvent, Transition, TransitionResult } from '../types.js';
import { POSTGRES, query, type Queryable } from './database.js';
import { perTurn } from './per-turn.js';
import { PAYLOAD, transitionInOneStatement, transitionParams, unmoved } from './transition.js';

/** The per-row inputs of a batch: each is a parameter array of this element type. */
const COLUMNS: readonly (readonly [name: string, type: string])[] = [
  ['id', 'text'],
  ['status', 'text'],
  ['flagLateSuccess', 'boolean'],
  ['transactionId', 'text'],
  ['code', 'text'],
  ['message', 'text'],
  ['paymentMethod', 'text'],
  ['sourceType', 'text'],
  ['cancelReason', 'text'],
  ['paidAt', 'timestamptz'],
  ['at', 'timestamptz'],
  ['eventJson', 'text'],
  ['tail', 'text'],
];
const EVENT_INPUTS: readonly (readonly [name: string, type: string])[] = [
  ['event.sessionId', 'text'],
  ['event.kind', 'text'],
  ['event.transactionId', 'text'],
  ['event.raw', 'text'],
  ['event.verified', 'boolean'],
  ['event.verdict', 'text'],
  ['event.detail', 'text'],
  ['event.receivedAt', 'timestamptz'],
];

/** An input's column in the statement's `input` rows: `event.sessionId` → `input.in_event_sessionid`. */
const column = (name: string) => `in_${name.replace('.', '_').toLowerCase()}`;
const fromInput = (name: string) => `input.${column(name)}`;

function inputsOf(withEvent: boolean) {
  return withEvent ? [...COLUMNS, ...EVENT_INPUTS] : COLUMNS;
}

/** The single-row UPDATE of `TRANSITION`, reading its values from the `input` rows. */
function updateFromInput(to: Transition['to']): string {
  const update = TRANSITION[to].write(fromInput, POSTGRES);
  const parts = update.split(/\bWHERE\b/);
  if (parts.length !== 2) throw new Error(`transition_${to} must have exactly one WHERE`);
  return `${parts[0]} FROM input WHERE ${parts[1]}`;
}

function batchStatement(to: Transition['to'], withEvent: boolean): Statement {
  const inputs = inputsOf(withEvent);
  return sql(
    `move_many_${to}${withEvent ? '_event' : ''}`,
    p => `WITH input AS (
        SELECT * FROM unnest(${inputs.map(([name, type]) => `${p(name)}::${type}[]`).join(', ')})
          AS input(${inputs.map(([name]) => column(name)).join(', ')})),
      moved AS (${updateFromInput(to)}),
      queued AS (
        INSERT INTO outbox (session_id, event, payload, next_attempt_at, created_at)
        SELECT moved.id, input.${column('status')}, ${PAYLOAD(fromInput)}, input.${column('at')},
          input.${column('at')}
        FROM moved JOIN input ON input.${column('id')} = moved.id
        ON CONFLICT (session_id, event) DO NOTHING)${
          withEvent
            ? `,
      recorded AS (
        INSERT INTO payment_events (${EVENT_COLUMNS})
        SELECT ${eventValues(name => fromInput(`event.${name}`))}
        FROM moved JOIN input ON input.${column('id')} = moved.id)`
            : ''
        }
    SELECT ${SESSION_COLUMNS} FROM moved`,
    { prepared: true },
  );
}

const BATCH = Object.fromEntries(
  (Object.keys(TRANSITION) as Transition['to'][]).map(to => [
    to,
    [batchStatement(to, false), batchStatement(to, true)],
  ]),
) as unknown as Record<Transition['to'], readonly [Statement, Statement]>;

interface Request {
  id: string;
  transition: Transition;
  event: PaymentEvent | undefined;
}

type Outcome = { ok: true; result: TransitionResult } | { ok: false; error: unknown };

const settle = (work: Promise<TransitionResult>): Promise<Outcome> =>
  work.then(
    result => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );

/** Runs one batch (two or more requests, one shape, distinct sessions). */
async function runBatch(db: Queryable, batch: readonly Request[]): Promise<Outcome[]> {
  const first = batch[0]!;
  const withEvent = first.event !== undefined;
  const params: Record<string, unknown[]> = {};
  for (const [name] of inputsOf(withEvent)) params[name] = [];
  for (const request of batch) {
    const row = transitionParams(request.id, request.transition, request.event);
    for (const [name] of inputsOf(withEvent)) params[name]!.push(row[name] ?? null);
  }
  let rows: Row[];
  try {
    rows = (await db.query<Row>(query(BATCH[first.transition.to][withEvent ? 1 : 0], params))).rows;
  } catch (error) {
    if (!(error instanceof pgDriver().DatabaseError))
      return batch.map(() => ({ ok: false, error }));
    // Refused, so nothing of it happened: each alone, so that only the culprit fails.
    return Promise.all(batch.map(request => settle(alone(db, request))));
  }
  const moved = new Map(rows.map(row => [row.id as string, row]));
  return Promise.all(
    batch.map(request => {
      const row = moved.get(request.id);
      if (row !== undefined)
        return { ok: true, result: { changed: true, session: sessionFromRow(row) } } as Outcome;
      // Did not move: the session as it is now, and the event as a duplicate (the second statement).
      return settle(unmoved(db, request.id, request.event));
    }),
  );
}

function alone(db: Queryable, { id, transition, event }: Request): Promise<TransitionResult> {
  return transitionInOneStatement(db, id, transition, event);
}

/** Sorts a turn's requests into batches (by target and event, one request per session) and the rest. */
async function runTurn(
  db: Queryable,
  requests: ReadonlySet<Request>,
): Promise<Map<Request, Outcome>> {
  const shapes = new Map<string, Request[]>();
  const repeats: Request[] = [];
  const seen = new Set<string>();
  for (const request of requests) {
    if (seen.has(request.id)) {
      repeats.push(request);
      continue;
    }
    seen.add(request.id);
    const shape = `${request.transition.to}:${request.event !== undefined}`;
    shapes.set(shape, [...(shapes.get(shape) ?? []), request]);
  }
  const outcomes = new Map<Request, Outcome>();
  const record = (requests: readonly Request[], results: readonly Outcome[]) =>
    results.forEach((outcome, i) => outcomes.set(requests[i]!, outcome));
  await Promise.all(
    [...shapes.values()].map(async group => {
      if (group.length === 1) return record(group, [await settle(alone(db, group[0]!))]);
      // In id order: concurrent batches then lock shared rows in one order, so they cannot deadlock.
      group.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      record(group, await runBatch(db, group));
    }),
  );
  // A second request for a session of this turn goes after the first, as it would wait for its row lock.
  record(repeats, await Promise.all(repeats.map(request => settle(alone(db, request)))));
  return outcomes;
}

/** `Store.transition` on PostgreSQL, batched per turn. */
export function batchedTransitions(
  db: Queryable,
): (id: string, transition: Transition, event?: PaymentEvent) => Promise<TransitionResult> {
  const ask = perTurn((requests: ReadonlySet<Request>) => runTurn(db, requests));
  return async (id, transition, event) => {
    const request = { id, transition, event };
    const outcome = (await ask(request)).get(request)!;
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  };
}
