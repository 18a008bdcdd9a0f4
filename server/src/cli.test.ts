import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { admin, ADMIN, gatewayCalls, paidOrder } from './testing/admin-test-support.js';
import { refundKey } from './cli/requests.js';
import { SERVER_VERSION } from './testing/server-package.js';
import { listenLater, openTestSession, startStack, type Stack } from './testing/test-support.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Ran> {
  return new Promise(resolve => {
    execFile(file, args, { env, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Spawns the real `galaxy-pay` CLI (from source) and collects its output and exit code. */
function cli(args: string[], env: Record<string, string | undefined>): Promise<Ran> {
  return collect(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    PATH: process.env.PATH,
    USER: 'bob',
    ...env,
  });
}

/**
 * Runs the CLI as the READMEs tell a merchant to, from the repository root: `pnpm -C server cli -- …` (the
 * documented form, which hands the exit code on) or `pnpm --filter @galaxy-pay/server cli -- …`.
 * pnpm's own environment is kept; the test's pnpm variables (`npm_*`) and the CLI's are not.
 */
function viaPnpm(
  form: 'dir' | 'filter',
  args: string[],
  env: Record<string, string | undefined>,
): Promise<Ran> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !name.startsWith('npm_') &&
        !['SIGNER_URL', 'ADMIN_TOKEN', 'GALAXY_PAY_OPERATOR', 'USER'].includes(name),
    ),
  );
  const select = form === 'dir' ? ['-C', 'server'] : ['--filter', '@galaxy-pay/server'];
  return collect(
    'pnpm',
    [...select, 'cli', '--', ...args],
    { ...inherited, USER: 'bob', ...env },
    REPO_ROOT,
  );
}

/** The refunds recorded for an order, as the admin API reports them. */
async function refundsOf(stack: Stack, orderRef: string): Promise<Array<Record<string, unknown>>> {
  const order = await admin(stack, 'GET', `/admin/orders/${orderRef}`);
  assert.equal(order.status, 200);
  return (order.json.operations as Array<Record<string, unknown>>).filter(
    op => op.kind === 'refund' && op.state === 'succeeded',
  );
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

  it('rejects unknown options, options of another command and stray arguments (exit 2, nothing sent)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['orders', 'list', '--bogus'], /unknown option --bogus/],
      [['orders', 'list', '--reason', 'x'], /orders list does not take --reason/],
      [['orders', 'show', 'CLI-1', '--limit', '5'], /orders show does not take --limit/],
      [['orders', 'list', 'extra'], /unexpected argument "extra"/],
      [['refund', 'CLI-1', '10000', '20000'], /unexpected argument "20000"/],
      [['refund', 'CLI-1', '10000', '--reason', 'a', '--reason', 'b'], /--reason is given twice/],
      [['void', 'CLI-1', '--amount', '5'], /void does not take --amount/],
    ];
    const callsBefore = await gatewayCalls(stack, 'refund');
    for (const [args, message] of cases) {
      const res = await cli(args, env);

      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /Run galaxy-pay --help for usage/);
      assert.equal(res.stdout, '');
    }
    assert.equal(await gatewayCalls(stack, 'refund'), callsBefore);
  });

  it('shows when each payment last changed in UPDATED, never a pending one’s future expiry', async () => {
    await admin(stack, 'POST', '/admin/orders', {
      orderRef: 'CLI-PENDING',
      amount: 30_000,
      description: 'Pending',
    });
    const session = await openTestSession(stack, 'CLI-PENDING');

    const res = await cli(['orders', 'list', '--status', 'pending'], env);

    assert.equal(res.code, 0, res.stderr);
    const row = res.stdout.split('\n').find(line => line.startsWith('CLI-PENDING'));
    const updated = row?.split(/\s+/).at(-1);
    assert.equal(updated, session.updatedAt.toISOString());
    assert.notEqual(updated, session.expiresAt.toISOString());
    assert.ok(Date.parse(updated!) <= Date.now());
  });

  it('derives the refund key from order, amount and reason, and from nothing else', () => {
    const key = refundKey('CLI-1', 10_000, 'damaged');

    assert.equal(refundKey('CLI-1', 10_000, 'damaged'), key);
    assert.notEqual(refundKey('CLI-1', 10_000, 'item 2'), key);
    assert.notEqual(refundKey('CLI-1', 10_001, 'damaged'), key);
    assert.notEqual(refundKey('CLI-2', 10_000, 'damaged'), key);
    assert.notEqual(refundKey('CLI-1', 10_000, undefined), key);
    assert.match(key, /^[\x21-\x7e]{1,255}$/);
  });

  describe('through pnpm, as the READMEs and the demo banner write it', () => {
    before(async () => {
      await paidOrder(stack, 'CLI-PNPM-1', 300_000);
      await paidOrder(stack, 'CLI-PNPM-2', 300_000);
    });

    /** Runs the CLI through `pnpm --filter`; it must exit 0, and its output is JSON. */
    async function jsonViaPnpm(args: string[]): Promise<unknown> {
      const run = await viaPnpm('filter', args, env);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout);
    }

    it('`pnpm --filter @galaxy-pay/server cli -- …` hands every option on (--json, --limit, --status)', async () => {
      const args = ['orders', 'list', '--json', '--limit', '1', '--status', 'paid'];
      const parsed = (await jsonViaPnpm(args)) as { payments: Array<{ status: string }> };

      assert.equal(parsed.payments.length, 1);
      assert.equal(parsed.payments[0]?.status, 'paid');
    });

    it('creates a payment link from its options', async () => {
      const args = ['links', 'create', '--amount', '45000', '--name', 'Teapot', '--json'];
      const { link } = (await jsonViaPnpm(args)) as { link: { amount: number; name: string } };

      assert.equal(link.amount, 45_000);
      assert.equal(link.name, 'Teapot');
    });

    it('a refund run twice with the same --idempotency-key is one refund', async () => {
      const args = ['refund', 'CLI-PNPM-1', '10000', '--idempotency-key', 'ticket-4711'];
      const calls = await gatewayCalls(stack, 'refund');
      const first = await viaPnpm('filter', args, env);
      const second = await viaPnpm('filter', args, env);

      assert.equal(first.code, 0, first.stderr);
      assert.equal(second.code, 0, second.stderr);
      assert.equal((await refundsOf(stack, 'CLI-PNPM-1')).length, 1);
      assert.equal(await gatewayCalls(stack, 'refund'), calls + 1);
      assert.match(second.stderr, /Already done/);
    });

    it('a refund run twice without a key is one refund; a distinct --reason or key makes another', async () => {
      const args = ['refund', 'CLI-PNPM-2', '10000', '--reason', 'item 1 of 2'];
      const first = await viaPnpm('dir', args, env);
      const again = await viaPnpm('dir', args, env);
      const other = await viaPnpm(
        'dir',
        ['refund', 'CLI-PNPM-2', '10000', '--reason', 'item 2 of 2'],
        env,
      );
      const ownKey = await viaPnpm('dir', [...args, '--idempotency-key', 'ticket-4712'], env);

      for (const run of [first, again, other, ownKey]) assert.equal(run.code, 0, run.stderr);
      // Three refunds: the first, the one with another reason, the one with its own key; not the repeat.
      const refunds = await refundsOf(stack, 'CLI-PNPM-2');
      assert.deepEqual(
        refunds.map(op => [op.amount, op.detail]),
        [
          [10_000, 'item 1 of 2'],
          [10_000, 'item 2 of 2'],
          [10_000, 'item 1 of 2'],
        ],
      );
      assert.match(again.stderr, /Already done: the same command/);
      assert.doesNotMatch(other.stderr + ownKey.stderr, /Already done/);
    });

    it('`pnpm -C server cli` hands the exit code on: 0 done, 1 refused, 2 usage, 3 unreachable', async () => {
      const closed = await listenLater();
      await new Promise(resolve => closed.server.close(resolve));

      const ok = await viaPnpm('dir', ['orders', 'list'], env);
      const refused = await viaPnpm('dir', ['refund', 'CLI-PNPM-1', '999999'], env);
      const usage = await viaPnpm('dir', ['orders', 'list', '--bogus'], env);
      const down = await viaPnpm('dir', ['orders', 'list'], { ...env, SIGNER_URL: closed.url });

      assert.deepEqual(
        [ok.code, refused.code, usage.code, down.code],
        [0, 1, 2, 3],
        [ok, refused, usage, down].map(r => r.stderr).join('\n'),
      );
      assert.match(refused.stderr, /refund_exceeds_captured/);
      assert.match(usage.stderr, /unknown option --bogus/);
      assert.match(down.stderr, /cannot reach the signer/);
    });

    it('`pnpm --filter` fails as it should (pnpm reports every failure of a filtered run as 1)', async () => {
      const ok = await viaPnpm('filter', ['orders', 'list'], env);
      const usage = await viaPnpm('filter', ['orders', 'list', 'extra'], env);

      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(usage.code, 1);
      assert.match(usage.stderr, /unexpected argument "extra"/);
    });

    it('--version and --help work without any configuration', async () => {
      const version = await viaPnpm('dir', ['--version'], {});
      const help = await viaPnpm('filter', ['--help'], {});

      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.stdout.trim(), SERVER_VERSION);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^galaxy-pay — merchant operations/m);
      assert.match(help.stdout, /refund <orderRef> <amount>/);
    });
  });
});
