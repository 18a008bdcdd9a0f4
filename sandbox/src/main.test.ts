import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { API_KEY, SALT, callApi, checkoutData } from './test-support.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the CLI from source, as `pnpm start` does. */
function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function collect(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', chunk => (stdout += String(chunk)));
  child.stderr!.on('data', chunk => (stderr += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Resolves with the URL the CLI prints once it listens. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${seen}`)), 15_000);
    child.stdout!.on('data', chunk => {
      seen += String(chunk);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
}

describe('galaxy-pay-sandbox CLI', () => {
  describe('with --api-key, --salt and --port 0', () => {
    it('listens on loopback, serves the signed API and stops on SIGTERM', async () => {
      const child = runCli(['--api-key', API_KEY, '--salt', SALT, '--port', '0']);
      try {
        const url = await listeningUrl(child);

        const reply = await callApi(url, 'api/v1/transaction/checkout', checkoutData());

        assert.equal(reply.status, 200);
        assert.equal(reply.json.responseCode, '200');
        assert.ok(String(reply.json.responseData?.endpoint).startsWith(`${url}/checkout/`));
      } finally {
        child.kill('SIGTERM');
      }
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    });

    it('takes the credentials from GALAXY_PAY_API_KEY and GALAXY_PAY_SALT', async () => {
      const child = runCli(['--port', '0'], { GALAXY_PAY_API_KEY: API_KEY, GALAXY_PAY_SALT: SALT });
      try {
        const url = await listeningUrl(child);

        const reply = await callApi(url, 'api/v1/transaction/checkout', checkoutData());

        assert.equal(reply.status, 200);
      } finally {
        child.kill('SIGTERM');
      }
      await once(child, 'exit');
    });
  });

  describe('with a missing or bad option', () => {
    for (const [args, expected] of [
      [['--salt', SALT], /--api-key \(or GALAXY_PAY_API_KEY\) is required/],
      [['--api-key', API_KEY], /--salt \(or GALAXY_PAY_SALT\) is required/],
      [['--api-key', API_KEY, '--salt', SALT, '--port', '70000'], /--port must be 0-65535/],
      [
        ['--api-key', API_KEY, '--salt', SALT, '--callback-method', 'PUT'],
        /--callback-method must be GET or POST/,
      ],
      [['--nonsense'], /Unknown option '--nonsense'/],
    ] as const) {
      it(`exits 2 and names the problem for ${args.join(' ')}`, async () => {
        const { code, stderr } = await collect(runCli([...args]));

        assert.equal(code, 2);
        assert.match(stderr, expected);
        assert.match(stderr, /Usage: galaxy-pay-sandbox/);
      });
    }
  });
});
