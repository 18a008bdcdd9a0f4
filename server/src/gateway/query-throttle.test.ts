import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryThrottle } from './query-throttle.js';

describe('QueryThrottle', () => {
  it('lets one query per session through per interval', () => {
    const throttle = new QueryThrottle(1000);

    assert.equal(throttle.take('a', 0), true);
    assert.equal(throttle.take('a', 999), false);
    assert.equal(throttle.take('b', 999), true);
    assert.equal(throttle.take('a', 1000), true);
  });

  it('forgets the oldest sessions past 10,000, so its memory stays bounded', () => {
    const throttle = new QueryThrottle(60_000);
    for (let i = 0; i <= 10_000; i++) throttle.take(`s${i}`, 1);

    assert.equal(throttle.take('s0', 2), true, 'the oldest was forgotten');
    assert.equal(throttle.take('s10000', 2), false, 'a recent one is still remembered');
  });
});
