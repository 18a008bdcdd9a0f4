import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as nextTimers } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { watchLoop } from './loop-watch.js';

/** Keeps the event loop busy for `ms`, as a slow handler would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('loop watch', () => {
  it('reports a stall of the event loop', async () => {
    const watch = watchLoop();
    await nextTimers(1);
    block(40);
    // The sampling timer fires late once the loop runs its timers again.
    await nextTimers(1);
    await nextTimers(1);
    const stats = watch.stop();
    assert.ok(stats.delayMax >= 30, `delayMax ${stats.delayMax}`);
    assert.ok(stats.delayP99 <= stats.delayMax);
  });

  it('counts garbage-collection pauses, and none once stopped', async () => {
    const watch = watchLoop();
    await collectGarbage();
    // Observers are told in one dispatch: the watch has heard of it by the next turn.
    await nextTurn();
    const stats = watch.stop();
    assert.ok(stats.gcPauses >= 1, `gcPauses ${stats.gcPauses}`);
    assert.ok(stats.gcMax > 0 && stats.gcMax <= stats.gcTotal);

    await collectGarbage();
    await nextTurn();
    assert.equal(watch.stop().gcPauses, stats.gcPauses);
  });
});

/** Allocates until the collector has run and its pauses have been reported to observers. */
async function collectGarbage(): Promise<void> {
  const collected = new Promise<void>(resolve => {
    const observer = new PerformanceObserver(() => {
      observer.disconnect();
      resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
  });
  // About 160 MB of short-lived arrays: the young generation fills many times over.
  const kept: number[][] = [];
  for (let i = 0; i < 20_000; i++) {
    kept.push(new Array<number>(1000).fill(i));
    if (kept.length > 10) kept.shift();
  }
  assert.equal(kept.length, 10);
  // GC entries are dispatched on a timer that does not hold the process open: hold it while waiting.
  const open = setInterval(() => undefined, 1000);
  await collected.finally(() => clearInterval(open));
}
