import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { createSqliteStore } from './sqlite.js';
import { describeStoreContract } from './store.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'galaxy-pay-store-'));

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeStoreContract('SQLite', async () => {
  const store = createSqliteStore(`file:${join(directory, 'contract.db')}`);
  await store.migrate();
  return store;
});

describe('SQLite migrations', () => {
  it('succeed when two stores migrate one new file at once, and again later', async () => {
    const url = `file:${join(directory, 'migrate.db')}`;
    const stores = [createSqliteStore(url), createSqliteStore(url)];
    try {
      await Promise.all(stores.map(store => store.migrate()));
      await stores[0]?.migrate();

      assert.equal(await stores[1]?.getOrder('none'), null);
    } finally {
      await Promise.all(stores.map(store => store.close()));
    }
  });
});

describe('createSqliteStore', () => {
  it('refuses an in-memory database, which would lose everything on restart', () => {
    assert.throws(() => createSqliteStore('file::memory:'), {
      name: 'StoreError',
      code: 'invalid_config',
    });
  });
});
