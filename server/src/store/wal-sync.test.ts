import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { walSync, type Fsync } from './sqlite/wal-sync.js';

/** An fsync that completes only when the test says so, recording each call. */
function manualFsync() {
  const calls: Array<(error: NodeJS.ErrnoException | null) => void> = [];
  const fsync: Fsync = (_fd, callback) => void calls.push(callback);
  return { fsync, calls };
}

const tick = () => new Promise(resolve => setImmediate(resolve));

describe('walSync: commits acknowledged only after an fsync that began after them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gp-wal-'));
  const database = join(dir, 'signer.db');
  writeFileSync(`${database}-wal`, '');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs at once when idle, and resolves only when the fsync returns', async () => {
    const disk = manualFsync();
    const wal = walSync(database, disk.fsync);
    let done = false;
    const waiting = wal.durable().then(() => (done = true));
    assert.equal(disk.calls.length, 1);
    await tick();
    assert.equal(done, false, 'not acknowledged before the fsync returned');
    disk.calls[0]!(null);
    await waiting;
    assert.equal(done, true);
    wal.close();
  });

  it('commits made while an fsync runs share the next one, never the running one', async () => {
    const disk = manualFsync();
    const wal = walSync(database, disk.fsync);
    const first = wal.durable();
    const released: string[] = [];
    const second = wal.durable().then(() => released.push('second'));
    const third = wal.durable().then(() => released.push('third'));
    assert.equal(disk.calls.length, 1, 'one fsync at a time');
    disk.calls[0]!(null);
    await first;
    await tick();
    assert.deepEqual(released, [], 'the fsync that began before them released nobody else');
    assert.equal(disk.calls.length, 2, 'the waiting commits share one following fsync');
    disk.calls[1]!(null);
    await Promise.all([second, third]);
    assert.deepEqual(released.sort(), ['second', 'third']);
    wal.close();
  });

  it('a failed fsync fails its waiters, and the next commit syncs again', async () => {
    const disk = manualFsync();
    const wal = walSync(database, disk.fsync);
    const failing = wal.durable();
    disk.calls[0]!(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await assert.rejects(failing, /EIO/);
    const next = wal.durable();
    assert.equal(disk.calls.length, 2);
    disk.calls[1]!(null);
    await next;
    wal.close();
  });

  it('fails clearly when the WAL file is missing', async () => {
    const wal = walSync(join(dir, 'absent.db'));
    await assert.rejects(wal.durable(), /ENOENT/);
    wal.close();
  });
});
