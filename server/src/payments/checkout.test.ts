import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxRequests, seedSession, useStack, widgetCall } from '../testing/test-support.js';

/** A clock the test moves by hand. */
function manualClock(start: Date) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('POST /sessions and the one open session per order', () => {
  const clock = manualClock(new Date());
  const stack = useStack({
    catalog: {
      'LAPSE-1': { amount: 200_000, description: 'Lapsed order' },
      'RACE-1': { amount: 300_000, description: 'Raced order' },
    },
    signer: { now: clock.now, sessionTtlSeconds: 600 },
  });

  describe('when the order has a session past its expiry that nobody marked expired', () => {
    it('asks the gateway, expires it, and opens a new session', async () => {
      const first = await widgetCall(stack(), 'POST', '/sessions', { orderRef: 'LAPSE-1' });
      assert.equal(first.status, 201, first.text);
      clock.advance(601_000);

      const second = await widgetCall(stack(), 'POST', '/sessions', { orderRef: 'LAPSE-1' });

      assert.equal(second.status, 201, second.text);
      assert.notEqual(second.json.sessionId, first.json.sessionId);
      const old = await stack().store.getSession(String(first.json.sessionId));
      assert.equal(old?.status, 'expired');
      const queries = (await stack().store.listEvents(old!.id)).filter(e => e.kind === 'query');
      assert.equal(queries.length, 1, 'the gateway was asked before the session was expired');
    });
  });

  describe('when another signer process has just opened a session that awaits its checkout reply', () => {
    it('answers 409 request_in_progress and does not call the gateway with the same orderID', async () => {
      // Another process saved a session, and awaits its checkout reply (putOrder keeps the order
      // already resolved from the catalog as it is).
      await seedSession(stack().store, {
        orderRef: 'RACE-1',
        amount: 300_000,
        description: 'Raced order',
        now: clock.now(),
        ttlMs: 600_000,
        merchantOrigin: null,
        checkout: false,
      });
      const requests = async () => (await sandboxRequests(stack())).length;
      const before = await requests();

      const raced = await widgetCall(stack(), 'POST', '/sessions', { orderRef: 'RACE-1' });

      assert.equal(raced.status, 409, raced.text);
      assert.equal((raced.json.error as { code: string }).code, 'request_in_progress');
      assert.equal(raced.headers.get('retry-after'), '1');
      assert.equal(await requests(), before);
    });
  });
});
