import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { probeDisk, summariseSyncs } from './disk-probe.js';

describe('disk probe', () => {
  it('gives nearest-rank percentiles and counts the syncs of 20 ms or more', () => {
    // 1..100 ms, shuffled: p50 is the 50th value, p99 the 99th.
    const took = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    assert.deepEqual(summariseSyncs(took), { syncs: 100, p50: 50, p99: 99, max: 100, over20: 81 });
    assert.deepEqual(summariseSyncs([]), { syncs: 0, p50: 0, p99: 0, max: 0, over20: 0 });
  });

  it('syncs a file in the folder until stopped, then removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gp-probe-'));
    try {
      const probe = probeDisk(dir);
      const stats = await probe.stop();
      // The first sync runs as the worker starts, before it can read the stop message.
      assert.ok(stats.syncs >= 1, `syncs: ${stats.syncs}`);
      assert.ok(stats.p50 >= 0 && stats.p50 <= stats.p99 && stats.p99 <= stats.max);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(existsSync(dir), false);
  });

  it('fails at stop, not before, when it cannot sync', async () => {
    const probe = probeDisk(join(tmpdir(), 'gp-probe-missing', 'nested'));
    // Gives the worker time to fail first (it took under 40 ms unloaded); an unhandled rejection would fail this
    // test. A slower worker only makes the check weaker here: stop still has to reject.
    await new Promise(resolve => setTimeout(resolve, 200));
    await assert.rejects(probe.stop(), /ENOENT/);
  });
});
