/**
 * Test helpers for the `galaxy-pay-sandbox` CLI (main.ts): run it from source, read what it prints, wait for it
 * to listen or to exit.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the `galaxy-pay-sandbox` CLI from source, as `pnpm start` does. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for the CLI to exit: its exit code and what it printed. */
export async function cliExit(
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
export function listeningUrl(child: ChildProcess): Promise<string> {
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

/** Runs the CLI with `args` until it listens, hands its URL to `body`, then stops it. */
export async function withCli(
  args: readonly string[],
  body: (url: string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<{ code: number | null }> {
  const child = runCli(args, env);
  try {
    await body(await listeningUrl(child));
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code };
}
