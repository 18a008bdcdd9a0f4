/** The SQLite adapter, at the path the rest of the signer imports it from (it lives in `sqlite/`). */
export { createSqliteStore } from './sqlite/store.js';
