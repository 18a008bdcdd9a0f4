/**
 * The PostgreSQL connection: the dialect of the shared statements, how a statement runs on a pool or a
 * transaction's client (hot ones as named prepared statements), and what a unique violation looks like.
 */

import type Pg from 'pg';

import { pgDriver } from '../drivers.js';
import type { Row } from '../rows.js';
import {
  bind,
  render,
  UNIQUE_INDEXES,
  type Dialect,
  type Params,
  type Statement,
  type UniqueIndex,
} from '../sql/dialect.js';
import type { Step } from '../sql/work.js';

export const POSTGRES: Dialect = {
  numbered: true,
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  timestamp: 'timestamptz',
  defaultNow: ' DEFAULT now()',
  identity: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  tableSuffix: '',
  false: 'false',
  flag: (column, defaultFalse = false) =>
    `${column} boolean NOT NULL${defaultFalse ? ' DEFAULT false' : ''}`,
  octets: expression => `octet_length(${expression})`,
  forUpdate: ' FOR UPDATE',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
};

/** Something that runs queries: the pool, or one client inside a transaction. */
export type Queryable = Pick<Pg.ClientBase, 'query'>;

/** node-postgres encodes `Date`, booleans and numbers itself. */
const asIs = (value: unknown) => value;

/**
 * The query for a shared statement. A hot one is named, so each connection parses and plans it once and then
 * only binds it (node-postgres sends the name alone after the first time, in the same round trip).
 */
export function query(statement: Statement, params: Params): Pg.QueryConfig {
  const rendered = render(statement, POSTGRES);
  const values = bind(statement, rendered, params, asIs);
  return statement.prepared
    ? { name: `galaxy_pay_${statement.name}`, text: rendered.text, values }
    : { text: rendered.text, values };
}

/** Runs one step of shared work. */
export async function execute(db: Queryable, step: Step): Promise<unknown> {
  if (step.kind === 'exec') return void (await db.query(step.text));
  const result = await db.query<Row>(query(step.statement, step.params));
  if (step.kind === 'one') return result.rows[0];
  if (step.kind === 'all') return result.rows;
  return result.rowCount ?? 0;
}

/** A unique violation of the index (PostgreSQL names it). */
export function violates(error: unknown, index: UniqueIndex): boolean {
  return (
    error instanceof pgDriver().DatabaseError &&
    error.code === '23505' &&
    error.constraint === UNIQUE_INDEXES[index].index
  );
}

/** BIGINT columns (amounts, ids, counts) come back as strings by default; ours fit in a number. */
export function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds a safe integer`);
  return value;
}
