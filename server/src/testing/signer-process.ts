/**
 * The standalone signer as a child process (`src/main.ts` from source), configured by its environment, for
 * the tests that signal or kill it (graceful shutdown, crash consistency, whole-request deadlines).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox, type SandboxOptions } from '@galaxy-pay/sandbox';
import { merchantPost, rawRequest, type RawResponse } from './raw-http.js';
import { API_KEY, MERCHANT_ORIGIN, SALT, eventually, listenLater } from './test-support.js';

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface SignerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** Kills every signer process still running (should a test have failed half-way). */
function killLeftoverSigners(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** A free loopback port (listen on 0, read it, close). */
async function freePort(): Promise<number> {
  const { server, url } = await listenLater();
  await new Promise<void>(resolve => server.close(() => resolve()));
  return Number(new URL(url).port);
}

/** Starts `src/main.ts` as the standalone signer; its output is kept, never printed. */
function spawnSigner(env: Record<string, string>): SignerProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    url: `http://127.0.0.1:${env.PORT}`,
    port: Number(env.PORT),
    output: () => output,
    exited,
  };
}

/** Resolves once `/readyz` answers 200; fails with the process output if it exits first. */
async function waitReady(signer: SignerProcess, timeoutMs = 20_000): Promise<void> {
  let exited = false;
  void signer.exited.then(() => (exited = true));
  try {
    await eventually(async () => {
      if (exited) throw new Error('the signer exited during start-up');
      return fetch(`${signer.url}/readyz`).then(
        res => res.status === 200,
        () => false,
      );
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}:\n${signer.output()}`, { cause: error });
  }
}

/**
 * For the enclosing `describe`: a sandbox and a work directory (the catalog file, the SQLite file), and
 * `start()`, which spawns a standalone signer against them and waits until it is ready. Whatever is
 * still running is killed in its `after`.
 */
export function useStandaloneSigner(
  catalog: Record<string, { amount: number; description: string }>,
  sandboxOptions: Partial<SandboxOptions> = {},
) {
  const work = workDir(catalog);
  let sandbox: Sandbox | undefined;
  let sandboxUrl = '';
  before(async () => {
    sandbox = createSandbox({ apiKey: API_KEY, salt: SALT, ...sandboxOptions });
    sandboxUrl = await sandbox.listen(0, '127.0.0.1');
  });
  after(async () => {
    killLeftoverSigners();
    await sandbox?.close();
    work.remove();
  });
  return {
    /** The sandbox, as `completeInSandbox` and `ipnAttempts` take it. */
    gateway: {
      get sandboxUrl() {
        return sandboxUrl;
      },
    },
    /** The signer's SQLite file. */
    databaseUrl: work.databaseUrl,
    /** Spawns the signer (on `port`, or a free one, with `env` added) and waits until it is ready. */
    async start(options: { port?: number; env?: Record<string, string> } = {}) {
      const port = options.port ?? (await freePort());
      const signer = spawnSigner({ ...signerEnv({ port, sandboxUrl, ...work }), ...options.env });
      await waitReady(signer);
      return signer;
    },
  };
}

/** A temporary directory with a catalog file; `remove()` deletes it. */
function workDir(catalog: Record<string, { amount: number; description: string }>) {
  const dir = mkdtempSync(join(tmpdir(), 'galaxy-pay-hardening-'));
  const catalogFile = join(dir, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  return {
    dir,
    catalogFile,
    databaseUrl: `file:${join(dir, 'signer.db')}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The environment of a standalone signer on `port` against a sandbox, with a SQLite file and a catalog. */
function signerEnv(options: {
  port: number;
  sandboxUrl: string;
  databaseUrl: string;
  catalogFile: string;
}): Record<string, string> {
  return {
    PORT: String(options.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${options.port}`,
    GALAXY_PAY_BASE_URL: options.sandboxUrl,
    GALAXY_PAY_API_KEY: API_KEY,
    GALAXY_PAY_SALT: SALT,
    DATABASE_URL: options.databaseUrl,
    ALLOWED_ORIGINS: MERCHANT_ORIGIN,
    CATALOG_FILE: options.catalogFile,
  };
}

/** POST /sessions as the widget, from a chosen loopback address (the create limit is per IP). */
export async function createSessionFrom(
  signerUrl: string,
  orderRef: string,
  localAddress = '127.0.0.1',
): Promise<RawResponse & { json: Record<string, unknown> }> {
  const res = await rawRequest(`${signerUrl}/sessions`, {
    ...merchantPost(JSON.stringify({ orderRef })),
    localAddress,
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    // not JSON: the assertion shows the body
  }
  return { ...res, json };
}
