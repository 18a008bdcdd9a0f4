/**
 * Servers in their own processes, as an operator runs them: a standalone signer (`server/src/main.ts`, the
 * `galaxy-pay-signer` entry point, configured only through its environment) and `pnpm demo`. Waits are on
 * what the process says or answers, each with a deadline.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from './stack.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_DIR = `${ROOT}server/`;

/** A port that was free a moment ago (the child binds it itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/** Whether nothing accepts connections on a loopback port any more. */
export function portIsClosed(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** A child process whose output is kept, with waits on what it prints and on its exit. */
export interface Watched {
  child: ChildProcess;
  /** Everything it printed so far (the streams that were piped). */
  output(): string;
  /** Resolves once `text` has been printed; fails if the process exits first or the deadline passes. */
  printed(text: string, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code; fails if the deadline passes first. */
  exit(timeoutMs: number): Promise<number | null>;
}

export function watch(child: ChildProcess): Watched {
  let output = '';
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  const onChunk = (chunk: unknown) => {
    output += String(chunk);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  const within = <T>(
    timeoutMs: number,
    what: string,
    run: (done: (value: T) => void, fail: (error: Error) => void) => void,
  ) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what} not within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      run(
        value => {
          clearTimeout(timer);
          resolve(value);
        },
        error => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  return {
    child,
    output: () => output,
    printed: (text, timeoutMs) =>
      within<void>(timeoutMs, `"${text}" printed`, (done, fail) => {
        const check = () => {
          if (!output.includes(text)) return;
          listeners.delete(check);
          done();
        };
        listeners.add(check);
        check();
        void exited.then(code => {
          if (listeners.delete(check)) {
            fail(new Error(`exited (${code}) before printing "${text}":\n${output}`));
          }
        });
      }),
    exit: timeoutMs => within(timeoutMs, 'exit', done => void exited.then(done)),
  };
}

/** `pnpm demo` from the repository root, in its own process group (as a terminal runs it). */
export function startDemoCommand(env: Record<string, string>): Watched {
  return watch(
    spawn('pnpm', ['demo'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

/** Signals the whole process group (as Ctrl-C in a terminal does); quiet if it is gone already. */
export function signalGroup(watched: Watched, signal: NodeJS.Signals): void {
  if (watched.child.exitCode !== null || watched.child.signalCode !== null) return;
  try {
    process.kill(-watched.child.pid!, signal);
  } catch {
    // already gone
  }
}

export interface SignerProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr (for failure messages). */
  output(): string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a signer on `port` and waits until it answers `/readyz`. */
export async function startSignerProcess(
  port: number,
  env: Record<string, string>,
): Promise<SignerProcess> {
  const url = `http://127.0.0.1:${port}`;
  const watched = watch(
    spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
      cwd: SERVER_DIR,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const { child } = watched;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return watched.exit(30_000);
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`signer on :${port} exited with ${child.exitCode}: ${watched.output()}`);
        }
        return fetch(`${url}/readyz`).then(
          res => res.ok,
          () => false,
        );
      },
      30_000,
      `signer on :${port} ready`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, child, output: watched.output, stop };
}
