/**
 * A standalone signer in its own process: `server/src/main.ts` (the `galaxy-pay-signer` entry point) run
 * from source and configured only through its environment, as an operator would run it.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = fileURLToPath(new URL('../../server/', import.meta.url));

/** A port that was free a moment ago (the child binds it itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

export interface SignerProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr (for failure messages). */
  output(): string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startSignerProcess(
  port: number,
  env: Record<string, string>,
): Promise<SignerProcess> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', chunk => (stderr += String(chunk)));
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`signer on :${port} exited with ${child.exitCode}: ${stderr}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      res => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`signer on :${port} not ready within 30 s: ${stderr}`);
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return { url, child, output: () => stderr, stop };
}
