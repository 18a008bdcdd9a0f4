import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliExit, runCli, withCli } from './cli-test-support.js';
import { API_KEY, SALT, callApi, checkoutData } from './test-support.js';

describe('galaxy-pay-sandbox CLI', () => {
  describe('with --api-key, --salt and --port 0', () => {
    it('listens on loopback, serves the signed API and stops on SIGTERM', async () => {
      const { code } = await withCli(
        ['--api-key', API_KEY, '--salt', SALT, '--port', '0'],
        async url => {
          const reply = await callApi(url, 'api/v1/transaction/checkout', checkoutData());

          assert.equal(reply.status, 200);
          assert.equal(reply.json.responseCode, '200');
          assert.ok(String(reply.json.responseData?.endpoint).startsWith(`${url}/checkout/`));
        },
      );

      assert.equal(code, 0);
    });

    it('takes the credentials from GALAXY_PAY_API_KEY and GALAXY_PAY_SALT', async () => {
      const env = { GALAXY_PAY_API_KEY: API_KEY, GALAXY_PAY_SALT: SALT };
      await withCli(
        ['--port', '0'],
        async url => {
          const reply = await callApi(url, 'api/v1/transaction/checkout', checkoutData());

          assert.equal(reply.status, 200);
        },
        env,
      );
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
        const { code, stderr } = await cliExit(runCli(args));

        assert.equal(code, 2);
        assert.match(stderr, expected);
        assert.match(stderr, /Usage: galaxy-pay-sandbox/);
      });
    }
  });
});
