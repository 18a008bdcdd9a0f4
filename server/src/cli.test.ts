import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ADMIN, paidOrder } from './admin-test-support.js';
import { startStack, type Stack } from './test-support.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Spawns the real `galaxy-pay` CLI (from source) and collects its output and exit code. */
function cli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CLI, ...args],
      { env: { PATH: process.env.PATH, USER: 'bob', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('galaxy-pay CLI', () => {
  let stack: Stack;
  let env: Record<string, string>;
  before(async () => {
    stack = await startStack();
    env = { SIGNER_URL: stack.signerUrl, ADMIN_TOKEN: ADMIN };
    await paidOrder(stack, 'CLI-1', 200_000);
  });
  after(async () => {
    await stack.close();
  });

  it('lists recent payments readably, and as JSON with --json', async () => {
    const text = await cli(['orders', 'list'], env);
    const json = await cli(['orders', 'list', '--json'], env);

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ORDER\s+STATUS/);
    assert.match(text.stdout, /CLI-1\s+paid\s+200,000 VND/);
    const parsed = JSON.parse(json.stdout) as { payments: Array<{ orderRef: string }> };
    assert.equal(parsed.payments[0]?.orderRef, 'CLI-1');
  });

  it('refunds, and shows the order with its audit trail naming the operator', async () => {
    const refund = await cli(['refund', 'CLI-1', '50000', '--reason', 'damaged'], env);
    const show = await cli(['orders', 'show', 'CLI-1'], env);

    assert.equal(refund.code, 0, refund.stderr);
    assert.match(refund.stdout, /refund succeeded 50,000 VND by bob/);
    assert.match(show.stdout, /refundable\s+150,000 VND/);
    assert.match(show.stdout, /bob\s+refund/);
  });

  it('exits 1 with the stable code when the signer refuses (refund above what remains)', async () => {
    const res = await cli(['refund', 'CLI-1', '999999'], env);

    assert.equal(res.code, 1);
    assert.match(res.stderr, /refund_exceeds_captured/);
    assert.match(res.stderr, /request [0-9a-f-]{36}/);
  });

  it('queries an order and reconciles stale sessions', async () => {
    const query = await cli(['query', 'CLI-1'], env);
    const reconcile = await cli(['reconcile', '--older-than', '0'], env);

    assert.equal(query.code, 0, query.stderr);
    assert.match(query.stdout, /gateway says: 200/);
    assert.equal(reconcile.code, 0, reconcile.stderr);
  });

  it('creates and lists payment links', async () => {
    const created = await cli(
      [
        'links',
        'create',
        '--amount',
        '99000',
        '--name',
        'Mug',
        '--expires',
        '2',
        '--unit',
        'day',
        '--fields',
        'email,phone',
      ],
      env,
    );
    const listed = await cli(['links', 'list'], env);

    assert.equal(created.code, 0, created.stderr);
    assert.match(listed.stdout, /open\s+99,000 VND/);
  });

  it('exits 2 on a usage error or missing configuration, 3 when the signer is unreachable', async () => {
    const unknown = await cli(['frobnicate'], env);
    const noToken = await cli(['orders', 'list'], { SIGNER_URL: stack.signerUrl });
    const badAmount = await cli(['refund', 'CLI-1', '12.5'], env);
    const down = await cli(['orders', 'list'], {
      SIGNER_URL: 'http://127.0.0.1:9',
      ADMIN_TOKEN: ADMIN,
    });

    assert.equal(unknown.code, 2);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /ADMIN_TOKEN/);
    assert.equal(badAmount.code, 2);
    assert.equal(down.code, 3);
  });

  it('exits 1 with unauthorized for a wrong token', async () => {
    const res = await cli(['orders', 'list'], {
      SIGNER_URL: stack.signerUrl,
      ADMIN_TOKEN: 'wrong-token-0123456789abcdef0123456',
    });

    assert.equal(res.code, 1);
    assert.match(res.stderr, /unauthorized/);
  });
});
