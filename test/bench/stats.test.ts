import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bracketedRatio, pairedRatios, spread } from './stats.js';

describe('bench statistics', () => {
  it('takes a slice against the mean of the baselines just before and after it', () => {
    // A baseline drifting from 6 000 to 4 000 req/s: against the one before, 3 500 IPN/s would read 0.583×.
    assert.equal(bracketedRatio([{ requests: 3500, durationSeconds: 1 }], [6000, 4000]), 0.7);
  });

  it('weighs each slice by its duration against its own bracket', () => {
    // 1 s against a 5 000 req/s bracket, then 2 s against a 3 000 req/s one: 5 000 + 6 000 expected.
    const slices = [
      { requests: 2500, durationSeconds: 1 },
      { requests: 3000, durationSeconds: 2 },
    ];
    assert.equal(bracketedRatio(slices, [6000, 4000, 2000]), 0.5);
  });

  it('refuses slices without a baseline on each side', () => {
    const one = [{ requests: 100, durationSeconds: 1 }];
    assert.throws(() => bracketedRatio(one, [5000]), /1 slices need 2 baselines/);
    assert.throws(() => bracketedRatio([], [5000]), /0 slices need 1 baselines/);
    assert.throws(() => bracketedRatio(one, [0, 0]), /no baseline/);
    assert.throws(() => bracketedRatio(one, [Number.NaN, 10]), /no baseline/);
  });

  it('gives the median of an odd and of an even count, and keeps the runs in order', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, runs: [3, 1, 2] });
    assert.equal(spread([4, 1, 3, 2]).median, 2.5);
  });

  it('gives the median ratio of paired rounds, and counts the rounds where the second figure was lower', () => {
    const pairs = [
      [200, 180],
      [160, 168],
      [180, 153],
    ] as const;
    assert.deepEqual(pairedRatios(pairs), {
      median: 0.9,
      min: 0.85,
      max: 1.05,
      runs: [0.9, 1.05, 0.85],
      below: 2,
    });
    assert.throws(() => pairedRatios([[0, 5]]), /without a figure before/);
  });
});
