/**
 * How long a process's event loop stalled, and its garbage collector paused, while a paced run measured
 * latency. A paced answer is late if the server's loop was blocked, but also if the load generator's was: it
 * then reads the answer late, and both the latency from the scheduled time and the one from the send grow.
 * Watching both loops tells a slow signer from a stalled generator or a stalled VM (docs/performance.md,
 * session 12).
 */

import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** One process's loop over one run, in ms. */
export interface LoopStats {
  /** Event-loop delay beyond the 1 ms sampling timer (`monitorEventLoopDelay`). */
  delayP99: number;
  delayMax: number;
  /** Garbage-collection pauses on the main thread. */
  gcPauses: number;
  gcMax: number;
  gcTotal: number;
}

export interface LoopWatch {
  stop(): LoopStats;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Starts watching this process's event loop and GC; `stop` ends it and sums up. */
export function watchLoop(): LoopWatch {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const pauses: number[] = [];
  const gc = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  delay.enable();
  return {
    stop() {
      delay.disable();
      gc.disconnect();
      const ms = (ns: number) => round2(ns / 1e6);
      return {
        delayP99: delay.count > 0 ? ms(delay.percentile(99)) : 0,
        delayMax: delay.count > 0 ? ms(delay.max) : 0,
        gcPauses: pauses.length,
        gcMax: round2(Math.max(0, ...pauses)),
        gcTotal: round2(pauses.reduce((sum, pause) => sum + pause, 0)),
      };
    },
  };
}
