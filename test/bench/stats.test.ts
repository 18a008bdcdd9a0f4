import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bracketedRatio, spread } from './stats.js';

describe('bench statistics', () => {
  it('takes a ratio against the mean of the baselines just before and after', () => {
    // A baseline drifting from 6 000 to 4 000 req/s: against the one before, 3 500 IPN/s would read 0.583×.
    assert.equal(bracketedRatio(3500, 6000, 4000), 0.7);
    assert.equal(bracketedRatio(1234, 5000, 5000), 0.247);
  });

  it('refuses a bracket without a baseline', () => {
    assert.throws(() => bracketedRatio(100, 0, 0), /no baseline/);
    assert.throws(() => bracketedRatio(100, Number.NaN, 10), /no baseline/);
  });

  it('gives the median of an odd and of an even count, and keeps the runs in order', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, runs: [3, 1, 2] });
    assert.equal(spread([4, 1, 3, 2]).median, 2.5);
  });
});
