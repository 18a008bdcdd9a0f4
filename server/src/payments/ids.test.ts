import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { GATEWAY_ORDER_ID, newGatewayOrderId, newSessionId, SESSION_ID } from './ids.js';

describe('newSessionId', () => {
  it('is 22 base64url characters: the time in milliseconds, then 80 random bits', () => {
    const at = Date.UTC(2026, 11, 6, 12, 0, 0, 123);

    const id = newSessionId(at);

    assert.match(id, SESSION_ID);
    assert.equal(Buffer.from(id, 'base64url').readUIntBE(0, 6), at);
  });

  it('gives ids of one millisecond one prefix, and never the same id twice', () => {
    const at = Date.UTC(2026, 11, 6);

    const ids = Array.from({ length: 10_000 }, () => newSessionId(at));

    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(ids.map(id => id.slice(0, 8))).size, 1);
  });

  it('keeps an index neighbourhood: ids a second apart share their first five characters', () => {
    const at = Date.UTC(2026, 11, 6, 12);

    assert.equal(newSessionId(at).slice(0, 5), newSessionId(at + 1000).slice(0, 5));
    assert.notEqual(newSessionId(at).slice(0, 8), newSessionId(at + 1000).slice(0, 8));
  });

  it('accepts any clock a test injects without throwing', () => {
    for (const at of [-1, 0, Number.NaN, 2 ** 60]) assert.match(newSessionId(at), SESSION_ID);
  });
});

describe('newGatewayOrderId', () => {
  it('is 32 hex characters: the time in milliseconds, then 80 random bits', () => {
    const at = Date.UTC(2026, 11, 6, 12, 0, 0, 123);

    const id = newGatewayOrderId(at);

    assert.match(id, GATEWAY_ORDER_ID);
    assert.equal(Buffer.from(id, 'hex').readUIntBE(0, 6), at);
  });

  it('sorts as the time does, and never gives the same id twice', () => {
    const at = Date.UTC(2026, 11, 6);

    const ids = Array.from({ length: 10_000 }, (_, i) => newGatewayOrderId(at + i));

    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
  });

  it('accepts any clock a test injects without throwing', () => {
    for (const at of [-1, 0, Number.NaN, 2 ** 60])
      assert.match(newGatewayOrderId(at), GATEWAY_ORDER_ID);
  });
});
