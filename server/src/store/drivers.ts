/**
 * The database drivers, loaded on first use: both are optional peer dependencies, so a PostgreSQL-only
 * install never builds better-sqlite3's native module, and a SQLite-only one needs no `pg`. A missing driver
 * is a `StoreError` (`driver_missing`) naming the package to install.
 *
 * `require`, not `import()`: both drivers are CommonJS, and `openStore` stays synchronous.
 */

import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type Pg from 'pg';
import { StoreError } from './errors.js';

type Require = (id: string) => unknown;

const requireHere: Require = createRequire(import.meta.url);

/** What each driver is for, and how to get it. */
const DRIVERS = {
  'better-sqlite3': 'a SQLite DATABASE_URL (file:…, or a file path, the default)',
  pg: 'a postgres:// DATABASE_URL',
} as const;

/** The package is not installed (not a module it requires in turn). */
function isMissing(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.startsWith(`Cannot find module '${name}'`)
  );
}

/** Loads a driver package, or throws `driver_missing` saying what to install. `load` is for tests. */
export function loadDriver(name: keyof typeof DRIVERS, load: Require = requireHere): unknown {
  try {
    return load(name);
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new StoreError(
      'driver_missing',
      `${DRIVERS[name]} needs the ${name} package, which is not installed: ` +
        `run npm install ${name} (or pnpm add ${name}) next to @galaxy-pay/server`,
      { cause: error },
    );
  }
}

/** better-sqlite3's `Database` class. */
export function betterSqlite3(): typeof BetterSqlite3 {
  return loadDriver('better-sqlite3') as typeof BetterSqlite3;
}

/** The `pg` module. */
export function pgDriver(): typeof Pg {
  return loadDriver('pg') as typeof Pg;
}

/**
 * better-sqlite3 is installed but its native module was never built (pnpm skips install scripts it was not
 * told to allow): say so instead of the `bindings` package's list of searched paths.
 */
export function nativeModuleMissing(error: unknown): StoreError | undefined {
  if (!(error instanceof Error) || !/Could not locate the bindings file/.test(error.message)) {
    return undefined;
  }
  return new StoreError(
    'driver_missing',
    'better-sqlite3 is installed but its native module was not built: allow its install script ' +
      '(pnpm: `allowBuilds` in pnpm-workspace.yaml, or `pnpm approve-builds`) and reinstall it',
    { cause: error },
  );
}
