import { StoreError } from './errors.js';
import { createPostgresStore, type PostgresStoreOptions } from './postgres/store.js';
import { createSqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

export * from './store.js';
export { StoreError } from './errors.js';
export { DEFAULT_UNVERIFIED_EVIDENCE } from './evidence.js';
export type { EvidenceStoreOptions, UnverifiedEvidenceLimits } from './evidence.js';
export type { StoreErrorCode } from './errors.js';
export type { OutboxPayload } from './transitions.js';
export { createPostgresStore, createSqliteStore };
export type { PostgresStoreOptions };

/** The database used when DATABASE_URL is unset: a SQLite file in the working directory. */
export const DEFAULT_DATABASE_URL = 'file:galaxy-pay.db';

/** Options of {@link openStore}: the caps on unverified evidence, and (PostgreSQL only) the schema. */
export type OpenStoreOptions = PostgresStoreOptions;

/**
 * Opens the store a DATABASE_URL names: SQLite for a `file:` URL or a plain path (the default),
 * PostgreSQL for `postgres://` or `postgresql://`. Call `migrate()` before using it.
 */
export function openStore(
  databaseUrl: string = DEFAULT_DATABASE_URL,
  options: OpenStoreOptions = {},
): Store {
  const url = databaseUrl.trim() === '' ? DEFAULT_DATABASE_URL : databaseUrl.trim();
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return createPostgresStore(url, options);
  }
  const sqlite = { unverifiedEvidence: options.unverifiedEvidence };
  if (url.startsWith('file:')) return createSqliteStore(url, sqlite);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  if (scheme === undefined) return createSqliteStore(`file:${url}`, sqlite);
  // Only the scheme is echoed: the rest of the URL may hold a password.
  throw new StoreError(
    'invalid_config',
    `DATABASE_URL must be a file: URL, a file path or a postgres:// URL; got a ${scheme}: URL`,
  );
}
