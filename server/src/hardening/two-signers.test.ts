/**
 * Two signer processes on one PostgreSQL schema (docs/architecture.md §6): a status change committed by one
 * reaches the other's SSE streams through LISTEN/NOTIFY.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresStore } from '../store/postgres.js';
import type { Store } from '../store/store.js';
import {
  PG_URL,
  completeInSandbox,
  followEvents,
  freshStore,
  ipnAttempts,
  startStack,
  transactionIdOf,
  widgetCall,
  type Stack,
} from '../testing/test-support.js';

describe('two signer processes on one PostgreSQL schema (docs/architecture.md §6)', () => {
  let fresh: Awaited<ReturnType<typeof freshStore>>;
  let storeB: Store;
  let a: Stack;
  let b: Stack;

  before(async () => {
    fresh = await freshStore('postgres');
    // Two store instances (two pools, two LISTEN connections), as two processes would have.
    storeB = createPostgresStore(PG_URL, { schema: fresh.schema });
    await storeB.migrate();
    a = await startStack({ sharedStore: fresh.store });
    b = await startStack({
      sharedStore: storeB,
      sharedSandbox: { sandbox: a.sandbox, url: a.sandboxUrl },
    });
  });
  after(async () => {
    await b.close();
    await a.close();
    await storeB.close();
    await fresh.store.close();
    await fresh.drop();
  });

  it('streams paid on signer B for a session created on A and paid by an IPN delivered to A (LISTEN/NOTIFY)', async () => {
    const created = await widgetCall(a, 'POST', '/sessions', { orderRef: 'ORDER-1' });
    assert.equal(created.status, 201, created.text);
    const id = String(created.json.sessionId);

    const streamOnB = await followEvents(`${b.signerUrl}/sessions/${id}/events`);
    // The stream has sent its first event (so it is subscribed) before the payment completes.
    const first = await streamOnB.waitFor(text => text.includes('\n\n'));
    await completeInSandbox(a, transactionIdOf(created.json.checkoutUrl), 'success');
    const text = await streamOnB.waitFor(all => all.includes('"status":"paid"'));
    streamOnB.close();

    const attempts = await ipnAttempts(a);
    assert.ok(attempts.length > 0);
    assert.ok(
      attempts.every(at => at.url === `${a.signerUrl}/ipn`),
      'every IPN went to signer A',
    );
    assert.match(first, /"status":"pending"/);
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map(m => m[1]);
    assert.deepEqual(statuses, ['pending', 'paid']);
    assert.equal((await storeB.getSession(id))?.status, 'paid');
  });
});
