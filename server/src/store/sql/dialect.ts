/**
 * SQL written once for both stores. A statement is a function of its placeholders and of the dialect's few
 * differences (column types, row locks); each adapter renders it once, SQLite with `?` per use and PostgreSQL
 * with `$1, $2, …` per name, and binds one object of named values in the order the text asks for them.
 *
 * No query builder: the statements stay plain SQL, readable and greppable, and only what really differs between
 * the two databases goes through the {@link Dialect}.
 */

/**
 * Named statement parameters: an object (a record as it is, often) whose fields hold JS values (`Date`,
 * `boolean`, numbers, strings, null) the adapter encodes. Fields no statement names are ignored.
 */
export type Params = object;

/** What differs between SQLite and PostgreSQL, as far as the shared statements and schema go. */
export interface Dialect {
  /** `$n` placeholders, one per name (PostgreSQL), instead of `?` once per use (SQLite). */
  readonly numbered: boolean;
  /** Column types: text, a 32-bit and a 64-bit integer, a point in time. */
  readonly text: string;
  readonly integer: string;
  readonly bigint: string;
  readonly timestamp: string;
  /** After a timestamp column's type: defaults it to the time of the insert, where the dialect can. */
  readonly defaultNow: string;
  /** A 64-bit primary key the database numbers. */
  readonly identity: string;
  /** After each CREATE TABLE's closing parenthesis (SQLite: STRICT). */
  readonly tableSuffix: string;
  /** The false literal, for partial indexes on a flag column. */
  readonly false: string;
  /** A NOT NULL flag column, optionally defaulting to false. */
  flag(column: string, defaultFalse?: boolean): string;
  /** The UTF-8 length of a text expression. */
  octets(expression: string): string;
  /** Appended to a SELECT whose rows are about to be updated: locks them until the transaction ends. */
  readonly forUpdate: string;
  /** Appended to a SELECT of rows a worker claims: concurrent workers take disjoint rows. */
  readonly skipLocked: string;
}

/** Writes a placeholder for a named parameter. */
export type Placeholder = (name: string) => string;

/** A statement written once: `write` returns its text for a dialect, with `p(name)` where a value goes. */
export interface Statement {
  /** Unique among the statements: a prepared statement's name on PostgreSQL, and a debugging aid. */
  readonly name: string;
  readonly write: (p: Placeholder, d: Dialect) => string;
  /** Hot: prepared once per connection on PostgreSQL (SQLite prepares every statement once anyway). */
  readonly prepared: boolean;
}

/** A statement rendered for one dialect. */
export interface Rendered {
  readonly text: string;
  /** The parameter names, in the order the dialect binds them. */
  readonly names: readonly string[];
}

/** Defines a statement. `prepared`: run often enough (the IPN path) to be a named prepared statement. */
export function sql(
  name: string,
  write: (p: Placeholder, d: Dialect) => string,
  options: { prepared?: boolean } = {},
): Statement {
  return { name, write, prepared: options.prepared ?? false };
}

const renderings = new WeakMap<Statement, Map<Dialect, Rendered>>();

/** The statement's text and parameter order in a dialect, computed once. */
export function render(statement: Statement, d: Dialect): Rendered {
  let byDialect = renderings.get(statement);
  if (byDialect === undefined) {
    byDialect = new Map();
    renderings.set(statement, byDialect);
  }
  let rendered = byDialect.get(d);
  if (rendered === undefined) {
    const names: string[] = [];
    const p: Placeholder = name => {
      const index = names.indexOf(name);
      if (d.numbered && index !== -1) return `$${index + 1}`;
      names.push(name);
      return d.numbered ? `$${names.length}` : '?';
    };
    rendered = { text: statement.write(p, d), names };
    byDialect.set(d, rendered);
  }
  return rendered;
}

/**
 * The values to bind, in order, each encoded for the driver (undefined is NULL). A name the parameters lack
 * altogether is a bug, said loudly.
 */
export function bind(
  statement: Statement,
  rendered: Rendered,
  params: Params,
  encode: (value: unknown) => unknown,
): unknown[] {
  return rendered.names.map(name => {
    if (!(name in params)) {
      throw new TypeError(`statement ${statement.name}: no value for parameter ${name}`);
    }
    const value = (params as Record<string, unknown>)[name];
    return value === undefined ? null : encode(value);
  });
}

/** A SQL list of string literals, e.g. `'pending', 'failed'` (our own constants, never input). */
export function literals(values: readonly string[]): string {
  return values.map(value => `'${value}'`).join(', ');
}

/** The unique indexes whose violation the store turns into a refusal. */
export const UNIQUE_INDEXES = {
  /** One open session per order. */
  openSession: { index: 'sessions_one_open_per_order', columns: 'sessions.order_ref' },
  /** A gateway transaction belongs to one session. */
  transactionId: { index: 'sessions_transaction_id_key', columns: 'sessions.transaction_id' },
  /** One operation per kind and idempotency key. */
  operationKey: {
    index: 'operations_idempotency_key',
    columns: 'operations.kind, operations.idempotency_key',
  },
  /** One live capture-or-void per session. */
  captureOrVoid: { index: 'operations_one_capture_or_void', columns: 'operations.session_id' },
} as const;

/** A unique index by its role (PostgreSQL names the index in a violation, SQLite its columns). */
export type UniqueIndex = keyof typeof UNIQUE_INDEXES;
