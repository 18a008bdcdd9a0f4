import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import pg from 'pg';

import { openStore } from './index.js';

const directory = mkdtempSync(join(tmpdir(), 'galaxy-pay-open-'));
const schema = `gp_test_${randomBytes(6).toString('hex')}`;
const DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/test';

after(async () => {
  rmSync(directory, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
});

describe('openStore', () => {
  it('opens a SQLite file for a plain path', async () => {
    const path = join(directory, 'plain.db');
    const store = openStore(path);

    await store.migrate();
    await store.close();

    assert.ok(existsSync(path));
  });

  it('opens PostgreSQL for a postgresql:// URL, in the schema asked for', async () => {
    const store = openStore(DATABASE_URL, { schema });

    await store.migrate();
    await store.close();

    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      assert.equal(found.rowCount, 1);
    } finally {
      await client.end();
    }
  });

  it('rejects any other URL, naming DATABASE_URL and not echoing its credentials', () => {
    assert.throws(
      () => openStore('mysql://shop:s3cret@db.example/shop'),
      (error: Error) =>
        error.name === 'StoreError' &&
        error.message.includes('DATABASE_URL') &&
        !error.message.includes('s3cret'),
    );
  });
});
