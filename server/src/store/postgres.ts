/** The PostgreSQL adapter, at the path the rest of the signer imports it from (it lives in `postgres/`). */
export { createPostgresStore, type PostgresStoreOptions } from './postgres/store.js';
