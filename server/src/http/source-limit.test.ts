import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientAddress, sourceKey, sourceLimiter } from './source-limit.js';

/** A clock that moves only when told. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let at = 1_000_000;
  return { now: () => at, advance: ms => void (at += ms) };
}

function takes(limiter: ReturnType<typeof sourceLimiter>, source: string, count: number): number {
  let granted = 0;
  for (let i = 0; i < count; i++) if (limiter.take(source)) granted += 1;
  return granted;
}

function requestFrom(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('sourceLimiter', () => {
  it('grants a burst of perMinute, then refills at perMinute a minute', () => {
    const clock = manualClock();
    const limiter = sourceLimiter({ perMinute: 60, now: clock.now });

    const burst = takes(limiter, '203.0.113.7', 100);
    clock.advance(10_000);
    const afterTenSeconds = takes(limiter, '203.0.113.7', 100);
    clock.advance(3_600_000);
    const afterAnHour = takes(limiter, '203.0.113.7', 100);

    assert.deepEqual([burst, afterTenSeconds, afterAnHour], [60, 10, 60]);
  });

  it('keeps one bucket per source: an empty one takes nothing from another', () => {
    const clock = manualClock();
    const limiter = sourceLimiter({ perMinute: 5, now: clock.now });

    const flooder = takes(limiter, '198.51.100.1', 1_000);
    const neighbour = takes(limiter, '198.51.100.2', 5);

    assert.deepEqual([flooder, neighbour], [5, 5]);
  });

  it('remembers at most maxSources, forgetting the least recently seen first', () => {
    const clock = manualClock();
    const limiter = sourceLimiter({ perMinute: 1, maxSources: 3, now: clock.now });

    for (const source of ['a', 'b', 'c']) limiter.take(source);
    limiter.take('a');
    limiter.take('d');

    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('a'), false, 'a was seen recently: still remembered, and empty');
    assert.equal(limiter.take('b'), true, 'b was forgotten: a fresh bucket');
  });

  it('grants nothing at perMinute 0', () => {
    const limiter = sourceLimiter({ perMinute: 0, now: () => 0 });

    assert.equal(takes(limiter, '203.0.113.7', 10), 0);
    assert.equal(limiter.size, 0);
  });
});

describe('clientAddress', () => {
  it('is the socket address without proxies, whatever X-Forwarded-For claims', () => {
    assert.equal(clientAddress(requestFrom('203.0.113.7', '10.0.0.1'), 0), '203.0.113.7');
  });

  it('is the entry the trusted hops appended, never one the client wrote itself', () => {
    const req = requestFrom('10.0.0.2', 'spoofed-by-client, 198.51.100.9, 10.0.0.1');

    assert.equal(clientAddress(req, 1), '10.0.0.1');
    assert.equal(clientAddress(req, 2), '198.51.100.9');
  });

  it('stops at the leftmost entry when there are fewer entries than hops', () => {
    assert.equal(clientAddress(requestFrom('10.0.0.2', '198.51.100.9'), 5), '198.51.100.9');
    assert.equal(clientAddress(requestFrom('10.0.0.2'), 1), '10.0.0.2');
  });
});

describe('sourceKey', () => {
  it('keeps an IPv4 address, and unwraps an IPv4-mapped one', () => {
    assert.equal(sourceKey('203.0.113.7'), '203.0.113.7');
    assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('groups IPv6 addresses by their /56 prefix', () => {
    assert.equal(sourceKey('2001:db8:1:2ff::1'), '2001:db8:1:200::/56');
    assert.equal(sourceKey('2001:db8:1:2aa:ffff:ffff:ffff:ffff'), '2001:db8:1:200::/56');
    assert.equal(sourceKey('::1'), '0:0:0:0::/56');
    assert.notEqual(sourceKey('2001:db8:1:300::1'), sourceKey('2001:db8:1:200::1'));
  });
});
