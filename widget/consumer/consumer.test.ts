/**
 * The widget as a new user gets it: `pnpm pack`ed (the published contents, not workspace links), installed
 * with npm from the registry into fresh apps outside the workspace (`consumer/apps.ts`: Vite + React 19, Vue 3,
 * Svelte 5 and vanilla TS, Next.js, SvelteKit and Nuxt with server-rendered pages, Astro, the script-tag file
 * in plain HTML), built for production, served, and paid through in Chromium against the real signer and
 * sandbox; an Angular app is type-checked with strict templates.
 *
 * Run by `pnpm test` in widget/ after the build. Downloads go to npm's cache (`~/.npm`, or
 * `npm_config_cache`), so a second run installs offline. `KEEP_CONSUMER_APPS=1` keeps the apps' folder,
 * `CONSUMER_APPS=a,b` runs only those apps.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack } from '../test-server/stack.js';
import { APPS as ALL_APPS, packageJson, type App } from './apps.js';

const WIDGET = fileURLToPath(new URL('..', import.meta.url));
/** `CONSUMER_APPS=next,nuxt` runs only those (while working on them); CI runs all. */
const APPS = process.env.CONSUMER_APPS
  ? ALL_APPS.filter(app => process.env.CONSUMER_APPS!.split(',').includes(app.name))
  : ALL_APPS;
const STEP_MS = 30_000;
/** Per app: install (a cold npm cache downloads Next.js, ~130 MB), build, pay. */
const APP_TIMEOUT_MS = 600_000;

/**
 * The environment of an app's commands: none of pnpm's or npm's configuration of this workspace (pnpm passes
 * its settings as `npm_config_*`), the app's own `node_modules/.bin` first on the PATH.
 */
function appEnv(cwd: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_|pnpm_|NODE_OPTIONS$|INIT_CWD$)/i.test(name),
    ),
  );
  if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;
  return {
    ...env,
    PATH: `${join(cwd, 'node_modules/.bin')}:${env.PATH}`,
    NEXT_TELEMETRY_DISABLED: '1',
  };
}

/** Runs a command in an app; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: appEnv(cwd),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', chunk => (output += chunk));
    child.stderr.on('data', chunk => (output += chunk));
    child.on('error', reject);
    child.on('close', code =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${output}`)),
    );
  });
}

/** Limits how many of `tasks` run at once (installs download, builds use both cores). */
function limiter(concurrency: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) await new Promise<void>(resolve => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** A static file server for an app's build output; `/` is `index.html`. */
async function serveStatic(root: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    try {
      const body = readFileSync(join(root(), path.endsWith('/') ? `${path}index.html` : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path) || '.html'] ?? 'text/plain' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A free port on 127.0.0.1 (for `next start`, which takes a number). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** Pays on the sandbox's hosted page inside the widget's modal: a domestic test card with OTP. */
async function payInModal(page: Page): Promise<void> {
  const frame = page.frameLocator('galaxy-pay-button iframe');
  await frame.locator('a[href*="method=DOMESTIC"]').click();
  await frame.locator('select[name="sourceType"]').selectOption({ index: 1 });
  await frame.locator('input[name="cardIssueDate"]').fill('03/07');
  await frame.locator('input[name="cardNumber"]').fill('9704000000000018');
  await frame.locator('input[name="cardHolderName"]').fill('NGUYEN VAN A');
  await frame.locator('form[action*="/card"] button[type="submit"]').click();
  await frame.locator('input[name="otp"]').fill('otp');
  await frame.locator('form[action*="/otp"] button[type="submit"]').click();
}

describe('the packed widget in fresh apps (npm install, production build, a sandbox payment in Chromium)', () => {
  const work = mkdtempSync(join(tmpdir(), 'galaxy-pay-consumer-'));
  const origins = new Map<string, string>();
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  const ready = new Map<string, Promise<string>>();
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Browser;
  const ports = new Map<string, number>();

  before(async () => {
    const started = Date.now();
    // The tarball npm users get: `prepack` builds, `publishConfig` applies.
    const packed = join(work, 'packed');
    mkdirSync(packed);
    await run('pnpm', ['pack', '--pack-destination', packed], WIDGET);
    const tarball = join(
      packed,
      readdirSync(packed).find(name => name.endsWith('.tgz'))!,
    );
    console.log(`packed ${tarball} in ${Math.round((Date.now() - started) / 1000)} s`);

    for (const app of APPS) {
      const dir = join(work, app.name);
      if (app.serve && 'static' in app.serve) {
        const output = app.serve.static;
        const { url, server } = await serveStatic(() => join(dir, output));
        servers.push(server);
        origins.set(app.name, url);
      } else if (app.serve) {
        const port = await freePort();
        ports.set(app.name, port);
        origins.set(app.name, `http://127.0.0.1:${port}`);
      }
    }
    stack = await startStack([...origins.values()]);
    browser = await chromium.launch({
      executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      timeout: STEP_MS,
    });

    // Installs and builds overlap (two at a time); each test waits for its own app.
    const limit = limiter(2);
    for (const app of APPS) {
      const prepared = limit(() => prepare(app, join(work, app.name), tarball));
      prepared.catch(() => undefined);
      ready.set(app.name, prepared);
    }
  });

  after(async () => {
    for (const child of children) child.kill('SIGTERM');
    await browser?.close();
    await stack?.close();
    for (const server of servers) server.close();
    if (!process.env.KEEP_CONSUMER_APPS) rmSync(work, { recursive: true, force: true });
    else console.log(`consumer apps kept in ${work}`);
  });

  /** Writes the app, installs it with npm and builds it; answers a timing line. */
  async function prepare(app: App, dir: string, tarball: string): Promise<string> {
    const times: string[] = [];
    const timed = async (label: string, step: () => Promise<unknown>) => {
      const start = Date.now();
      await step();
      times.push(`${label} ${Math.round((Date.now() - start) / 1000)} s`);
    };
    for (const [path, content] of Object.entries(app.files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    writeFileSync(join(dir, 'package.json'), packageJson(app, tarball));
    await timed('install', () =>
      run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
        dir,
      ),
    );
    for (const [command, ...args] of app.build) {
      await timed(command!, () => run(command!, args, dir));
    }
    return `${app.name}: ${times.join(', ')}`;
  }

  /** Opens the app's page for a fresh order and pays; answers what the app shows in `#status`. */
  async function checkout(app: App): Promise<{ status: string; page: Page }> {
    const order = `C-${app.name}-${Math.random().toString(36).slice(2, 8)}`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(STEP_MS);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', error => errors.push(error.message));
    const query = new URLSearchParams({ signer: stack.info.signerUrl, order });
    await page.goto(`${origins.get(app.name)}/?${query}`);

    await page.locator('galaxy-pay-button:not([hidden]) [part="button"]').click();
    await payInModal(page);
    await page.locator('#status', { hasText: /\S/ }).waitFor();

    assert.deepEqual(errors, []);
    return { status: (await page.locator('#status').textContent())!.trim(), page };
  }

  /**
   * Starts the app's own server (`next start`, `vite preview`, Nitro) and waits until it answers. It is asked
   * whenever the server writes something (each prints its address once it listens), never on a timer.
   */
  async function startServer(app: App, command: string[]): Promise<void> {
    const dir = join(work, app.name);
    const port = String(ports.get(app.name));
    const [program, ...args] = command.map(part => part.replace('{port}', port));
    const env = { ...appEnv(dir), PORT: port, HOST: '127.0.0.1', NITRO_HOST: '127.0.0.1' };
    const child = spawn(program!, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`${command.join(' ')} ${why}:\n${output}`));
      const timer = setTimeout(() => fail('did not answer in time'), STEP_MS);
      // One question at a time; output that comes meanwhile asks again once it is answered.
      let asking: Promise<void> | undefined;
      let again = false;
      let answered = false;
      const ask = (): void => {
        if (answered) return;
        if (asking) return void (again = true);
        asking = fetch(origins.get(app.name)!)
          .then(
            res => res.status < 500,
            () => false,
          )
          .then(ok => {
            asking = undefined;
            if (ok) {
              answered = true;
              clearTimeout(timer);
              resolve();
            } else if (again) {
              again = false;
              ask();
            }
          });
      };
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.on('data', chunk => {
          output += chunk;
          ask();
        });
      }
      child.on('exit', code => {
        clearTimeout(timer);
        fail(`exited ${code}`);
      });
    });
  }

  for (const app of APPS) {
    const what = app.serve
      ? 'builds for production and reports a paid sandbox payment'
      : 'type-checks (strict templates)';
    it(`${app.name}: installs the tarball, ${what}`, { timeout: APP_TIMEOUT_MS }, async () => {
      console.log(await ready.get(app.name));
      if (!app.serve) return;
      if ('command' in app.serve) await startServer(app, app.serve.command);
      if (app.ssr) {
        // Server-rendered: the element and its label are in the HTML before any script runs.
        const html = await (await fetch(`${origins.get(app.name)}/?signer=x&order=y`)).text();
        assert.match(html, app.ssr);
      }

      const { status, page } = await checkout(app);

      assert.equal(status, 'paid 150000 VND');
      await page.context().close();
    });
  }
});
