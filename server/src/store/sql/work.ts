/**
 * Store logic written once for a synchronous driver and an asynchronous one. A unit of work is a generator
 * that yields the statements it needs (`yield* one(…)`) and gets each result back: SQLite runs it straight
 * through inside its group commit, within one turn of the event loop, while PostgreSQL awaits each statement
 * on the pool or in a transaction. The logic (conditional updates, what to read back, which error means
 * what) is the same code for both; only the {@link Engine} differs.
 */

import type { Row } from '../rows.js';
import type { Dialect, Params, Statement, UniqueIndex } from './dialect.js';

/** One statement to run: a row (or none), all rows, the count of rows changed, or DDL. */
export type Step =
  | { readonly kind: 'one' | 'all' | 'run'; readonly statement: Statement; readonly params: Params }
  | { readonly kind: 'exec'; readonly text: string };

/** A unit of work: yields steps, is handed each step's result, returns its own. */
export type Work<T> = Generator<Step, T, unknown>;

/** The first row the statement returns, if any. */
export function* one(statement: Statement, params: Params): Work<Row | undefined> {
  return (yield { kind: 'one', statement, params }) as Row | undefined;
}

/** Every row the statement returns. */
export function* all(statement: Statement, params: Params): Work<Row[]> {
  return (yield { kind: 'all', statement, params }) as Row[];
}

/** Runs the statement; how many rows it changed. */
export function* run(statement: Statement, params: Params): Work<number> {
  return (yield { kind: 'run', statement, params }) as number;
}

/** Runs DDL text (a migration). */
export function* exec(text: string): Work<void> {
  yield { kind: 'exec', text };
}

/** The first row, mapped; null when there is none. */
export function* first<T>(
  statement: Statement,
  params: Params,
  map: (row: Row) => T,
): Work<T | null> {
  const row = yield* one(statement, params);
  return row === undefined ? null : map(row);
}

/** Every row, mapped. */
export function* many<T>(statement: Statement, params: Params, map: (row: Row) => T): Work<T[]> {
  return (yield* all(statement, params)).map(map);
}

/** Runs a unit of work with a synchronous driver; a failed step is thrown into the work, which may catch it. */
export function runSync<T>(work: Work<T>, execute: (step: Step) => unknown): T {
  let next = work.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = execute(next.value);
    } catch (error) {
      next = work.throw(error);
      continue;
    }
    next = work.next(result);
  }
  return next.value;
}

/** Runs a unit of work with an asynchronous driver, one statement at a time. */
export async function runAsync<T>(
  work: Work<T>,
  execute: (step: Step) => Promise<unknown>,
): Promise<T> {
  let next = work.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await execute(next.value);
    } catch (error) {
      next = work.throw(error);
      continue;
    }
    next = work.next(result);
  }
  return next.value;
}

/**
 * How an adapter runs units of work. Each takes a function that starts the work, since SQLite may run a
 * write again (isolated in a savepoint) when another write of its group commit failed.
 */
export interface Engine {
  readonly dialect: Dialect;
  /** Reads: at once (SQLite), or on the pool (PostgreSQL). */
  read<T>(work: () => Work<T>): Promise<T>;
  /** Writes whose statements may commit one by one: a group commit (SQLite), or each on the pool. */
  write<T>(work: () => Work<T>): Promise<T>;
  /** Writes that commit together or not at all: a group commit (SQLite), or one transaction. */
  atomic<T>(work: () => Work<T>): Promise<T>;
  /** The error is a violation of that unique index. */
  violates(error: unknown, index: UniqueIndex): boolean;
}
