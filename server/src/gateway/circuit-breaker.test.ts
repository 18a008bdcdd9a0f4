import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';

/** A breaker on a hand-driven clock that records its state changes. */
function breakerWithClock(options: Omit<CircuitBreakerOptions, 'now' | 'onStateChange'> = {}) {
  let now = 1_000_000;
  const changes: Array<{ from: CircuitState; to: CircuitState; failures: number }> = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    openMs: 30_000,
    ...options,
    now: () => now,
    onStateChange: change => changes.push(change),
  });
  const advance = (ms: number) => (now += ms);
  return { breaker, changes, advance };
}

/** Fails `count` calls in a row. */
function fail(breaker: CircuitBreaker, count: number): void {
  for (let i = 0; i < count; i++) {
    const permit = breaker.tryAcquire();
    assert.ok(permit, `call ${i + 1} was allowed`);
    permit.failure();
  }
}

/** A breaker (threshold 3, open for 30 s) that has just opened. */
function openedBreaker() {
  const clocked = breakerWithClock();
  fail(clocked.breaker, 3);
  return clocked;
}

/** A breaker that opened and whose openMs has passed: the next call probes. */
function breakerDueForProbe() {
  const clocked = openedBreaker();
  clocked.advance(30_000);
  return clocked;
}

describe('CircuitBreaker', () => {
  describe('when closed', () => {
    it('allows calls and stays closed below the failure threshold', () => {
      const { breaker } = breakerWithClock();

      fail(breaker, 2);

      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.failures, 2);
      assert.ok(breaker.tryAcquire());
    });

    it('opens after failureThreshold consecutive failures and reports the change', () => {
      const { breaker, changes } = breakerWithClock();

      fail(breaker, 3);

      assert.equal(breaker.state, 'open');
      assert.deepEqual(changes, [{ from: 'closed', to: 'open', failures: 3 }]);
    });

    it('starts counting again after a success', () => {
      const { breaker } = breakerWithClock();
      fail(breaker, 2);

      breaker.tryAcquire()?.success();
      fail(breaker, 2);

      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.failures, 2);
    });

    it('neither counts nor resets on a released permit', () => {
      const { breaker } = breakerWithClock();
      fail(breaker, 2);

      breaker.tryAcquire()?.release();

      assert.equal(breaker.failures, 2);
      fail(breaker, 1);
      assert.equal(breaker.state, 'open');
    });

    it('takes only the first outcome of a permit into account', () => {
      const { breaker } = breakerWithClock();
      const permit = breaker.tryAcquire();
      assert.ok(permit);

      permit.failure();
      permit.failure();
      permit.failure();

      assert.equal(breaker.failures, 1);
    });
  });

  describe('when open', () => {
    it('refuses calls and says how long to wait', () => {
      const { breaker, advance } = openedBreaker();
      advance(10_000);

      assert.equal(breaker.tryAcquire(), undefined);
      assert.equal(breaker.retryAfterMs(), 20_000);
    });

    it('ignores the outcome of calls that started before it opened', () => {
      const { breaker, advance } = breakerWithClock();
      const slow = breaker.tryAcquire();
      fail(breaker, 3);

      slow?.success();

      assert.equal(breaker.state, 'open');
      advance(30_000);
      assert.equal(breaker.state, 'half_open');
    });
  });

  describe('when half-open', () => {
    it('lets exactly one probe through once openMs has passed', () => {
      const { breaker, advance } = openedBreaker();
      advance(29_999);
      assert.equal(breaker.tryAcquire(), undefined);

      advance(1);
      const probe = breaker.tryAcquire();

      assert.ok(probe);
      assert.equal(breaker.state, 'half_open');
      assert.equal(breaker.tryAcquire(), undefined);
    });

    it('closes when the probe succeeds', () => {
      const { breaker, changes } = breakerDueForProbe();

      breaker.tryAcquire()?.success();

      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.failures, 0);
      assert.deepEqual(
        changes.map(c => c.to),
        ['open', 'half_open', 'closed'],
      );
      fail(breaker, 2);
      assert.equal(breaker.state, 'closed');
    });

    it('re-opens for a full openMs when the probe fails', () => {
      const { breaker, advance } = breakerDueForProbe();

      breaker.tryAcquire()?.failure();

      assert.equal(breaker.state, 'open');
      assert.equal(breaker.retryAfterMs(), 30_000);
      advance(30_000);
      assert.ok(breaker.tryAcquire());
    });

    it('frees the probe slot when the probe ends without a verdict', () => {
      const { breaker } = breakerDueForProbe();

      breaker.tryAcquire()?.release();

      assert.equal(breaker.state, 'half_open');
      assert.ok(breaker.tryAcquire());
    });
  });

  describe('with defaults', () => {
    it('opens after 5 failures for 30 seconds', () => {
      let now = 0;
      const breaker = new CircuitBreaker({ now: () => now });
      fail(breaker, 4);
      assert.equal(breaker.state, 'closed');

      fail(breaker, 1);

      assert.equal(breaker.state, 'open');
      assert.equal(breaker.retryAfterMs(), 30_000);
      now = 30_000;
      assert.equal(breaker.state, 'half_open');
    });

    it('refuses a threshold below 1 and a negative openMs', () => {
      assert.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError);
      assert.throws(() => new CircuitBreaker({ failureThreshold: 1.5 }), RangeError);
      assert.throws(() => new CircuitBreaker({ openMs: -1 }), RangeError);
    });
  });
});
