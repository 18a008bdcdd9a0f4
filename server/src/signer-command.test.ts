/**
 * `galaxy-pay-signer` as a developer first meets it: run from source (as `pnpm start` does) in an empty
 * directory, with nothing in the environment but PATH.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadDriver } from './store/drivers.js';
import { StoreError } from './store/errors.js';
import { loadDotEnv, parseCommand } from './signer-command.js';
import { SERVER_VERSION } from './testing/server-package.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ENV_EXAMPLE = fileURLToPath(new URL('../.env.example', import.meta.url));
const NODE_ARGS = ['--conditions=source', '--import', import.meta.resolve('tsx')];

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-signer-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the signer to its exit, in `dir`, with only PATH and `env` set. */
function signer(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  return spawnSync(process.execPath, [...nodeArgs, ...NODE_ARGS, MAIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
}

describe('galaxy-pay-signer', () => {
  describe('--help', () => {
    it('prints the usage and every required variable, and exits 0 with no configuration', () => {
      const run = signer(['--help']);

      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^galaxy-pay-signer \d+\.\d+\.\d+/);
      for (const name of ['GALAXY_PAY_BASE_URL', 'GALAXY_PAY_API_KEY', 'GALAXY_PAY_SALT', '.env']) {
        assert.ok(run.stdout.includes(name), `${name} in --help`);
      }
      assert.equal(run.stderr, '');
    });
  });

  describe('--version', () => {
    it("prints the package's version and exits 0 with no configuration", () => {
      const run = signer(['--version']);

      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${SERVER_VERSION}\n`);
    });
  });

  describe('with an unknown argument', () => {
    it('exits 2 and points at --help', () => {
      const run = signer(['--port', '9000']);

      assert.equal(run.status, 2);
      assert.match(run.stderr, /unexpected arguments "--port" "9000".*--help/);
    });
  });

  describe('with nothing configured', () => {
    it('exits 2 listing every missing variable, one line each with what it is', () => {
      const run = signer([]);

      assert.equal(run.status, 2);
      assert.match(
        run.stderr,
        /GALAXY_PAY_BASE_URL, GALAXY_PAY_API_KEY and GALAXY_PAY_SALT are not set/,
      );
      assert.match(run.stderr, /\n {2}GALAXY_PAY_BASE_URL +the gateway API: https:\/\/uat-secure/);
      assert.match(run.stderr, /\n {2}GALAXY_PAY_API_KEY +your merchant API key/);
      assert.match(run.stderr, /\n {2}GALAXY_PAY_SALT +your merchant signature salt/);
      assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/, 'no stack trace');
    });
  });

  describe('after cp .env.example .env', () => {
    it('reads .env: unfilled placeholders are listed together', () => {
      copyFileSync(ENV_EXAMPLE, join(dir, '.env'));

      const run = signer([]);

      assert.equal(run.status, 2);
      assert.match(
        run.stderr,
        /GALAXY_PAY_API_KEY and GALAXY_PAY_SALT still hold the placeholder from \.env\.example/,
      );
      assert.doesNotMatch(run.stderr, /GALAXY_PAY_BASE_URL/, 'the base URL came from .env');
    });

    it('starts once the key and salt are filled in, the environment winning over .env', async () => {
      const example = readFileSync(ENV_EXAMPLE, 'utf8');
      writeFileSync(
        join(dir, '.env'),
        example
          .replace('<replace-with-your-galaxy-pay-api-key>', 'uat-key-from-dotenv')
          .replace('<replace-with-your-galaxy-pay-salt>', 'uat-salt-from-dotenv')
          .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${'a'.repeat(40)}`),
      );
      // .env says PORT=8200; the environment says 0 (any free port) and must win.
      const child = spawn(process.execPath, [...NODE_ARGS, MAIN], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', chunk => (stderr += String(chunk)));
      const exited = new Promise<number | null>(resolve => child.once('exit', resolve));

      const listening = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', chunk => {
          stdout += String(chunk);
          const line = stdout.split('\n').find(text => text.includes('signer listening'));
          if (line) resolve(line);
        });
        void exited.then(code => reject(new Error(`exited ${code}: ${stderr}${stdout}`)));
      });
      child.kill('SIGTERM');

      assert.equal(JSON.parse(listening).port, 0);
      assert.equal(await exited, 0, stderr);
    });
  });

  describe('with a database driver that is not installed', () => {
    it('exits 2 naming the package to install (better-sqlite3 for a SQLite URL)', () => {
      const hide = join(dir, 'hide-better-sqlite3.cjs');
      writeFileSync(
        hide,
        `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'better-sqlite3') {
    throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
`,
      );

      const run = signer(
        [],
        {
          GALAXY_PAY_BASE_URL: 'https://uat-secure.galaxypay.vn',
          GALAXY_PAY_API_KEY: 'k',
          GALAXY_PAY_SALT: 's',
          DATABASE_URL: `file:${join(dir, 'x.db')}`,
        },
        ['--require', hide],
      );

      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /needs the better-sqlite3 package.*npm install better-sqlite3/);
    });
  });
});

describe('loadDriver', () => {
  const missing = (name: string) => () => {
    throw Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- x.js`), {
      code: 'MODULE_NOT_FOUND',
    });
  };

  it('turns a missing driver into StoreError driver_missing naming the package', () => {
    assert.throws(
      () => loadDriver('pg', missing('pg')),
      (error: unknown) =>
        error instanceof StoreError &&
        error.code === 'driver_missing' &&
        /postgres:\/\/ DATABASE_URL needs the pg package.*npm install pg/.test(error.message),
    );
  });

  it("lets a driver's own missing dependency through unchanged", () => {
    assert.throws(() => loadDriver('better-sqlite3', missing('bindings')), /'bindings'/);
  });
});

describe('parseCommand', () => {
  it('runs with no arguments, prints help or version for one flag', () => {
    assert.deepEqual(parseCommand([]), { kind: 'run' });
    assert.equal(parseCommand(['-v'], () => '9.9.9').kind, 'print');
    assert.deepEqual(parseCommand(['--help', '--version']).kind, 'print');
    assert.equal((parseCommand(['--help', '--version']) as { exitCode: number }).exitCode, 2);
  });
});

describe('loadDotEnv', () => {
  it('fills in what the environment lacks and never replaces what it has', () => {
    const path = join(dir, 'precedence.env');
    writeFileSync(path, 'A=from-file\nB="quoted value"\n# comment\nC=from-file\n');
    const env: Record<string, string | undefined> = { A: 'from-env', C: '' };

    const loaded = loadDotEnv(path, env);

    assert.deepEqual(env, { A: 'from-env', B: 'quoted value', C: '' });
    assert.deepEqual(loaded, ['B']);
  });

  it('is a no-op when there is no file', () => {
    assert.deepEqual(loadDotEnv(join(dir, 'absent.env'), {}), []);
  });
});
