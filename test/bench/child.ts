/** Runner side of the target processes: fork, wait for `ready`, send commands, read their RSS, stop. */

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, CommandResults, TargetMessage, TargetSpec } from './messages.js';

/** How long a target may take to start or to close before the runner gives up on it. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** CPU time a process has used so far, in microseconds: its main thread, and all its threads. */
export interface CpuTime {
  mainThreadUs: number;
  processUs: number;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on every Linux Node runs on). */
const TICKS_PER_SECOND = 100;

/** user + system time of one `/proc/.../stat` line, in microseconds. */
function statCpuUs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
}

/**
 * CPU time of a live process from `/proc`: the main thread (task `pid` itself) runs the event loop, where
 * a Node server's per-request work happens; the others are V8's, libuv's thread pool and worker threads.
 * Null where /proc is missing (not Linux) or the process is gone.
 */
export function cpuOf(pid: number): CpuTime | null {
  try {
    return {
      mainThreadUs: statCpuUs(`/proc/${pid}/task/${pid}/stat`),
      processUs: statCpuUs(`/proc/${pid}/stat`),
    };
  } catch {
    return null;
  }
}

/** A server under test running in its own process. */
export interface TargetProcess {
  name: string;
  pid: number;
  url: string;
  /** Sends a command and resolves with its result (rejects with the target's error). */
  call<O extends Command['op']>(
    op: O,
    args: Omit<Extract<Command, { op: O }>, 'id' | 'op'>,
  ): Promise<CommandResults[O]>;
  /** The process's peak resident set size so far (`VmHWM`), in MB; null where /proc is missing. */
  peakRssMb(): number | null;
  /** Its current resident set size (`VmRSS`), in MB. */
  rssMb(): number | null;
  /** CPU time used so far (see {@link cpuOf}). */
  cpu(): CpuTime | null;
  /** Asks the target to close, waits for it to exit (kills it if it does not). */
  stop(): Promise<void>;
}

/**
 * A memory figure of a live process from `/proc/<pid>/status`, in MB: `VmHWM` is the peak resident set
 * size, `VmRSS` the current one. Null where /proc is missing (not Linux) or the process is gone.
 */
export function memoryOf(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/**
 * The node flags the `galaxy-pay-signer` bin runs with, read from its shebang
 * (`#!/usr/bin/env -S node --flag …`), so that the bench measures the signer as shipped.
 */
export function shippedSignerFlags(): string[] {
  const main = join(dirname(fileURLToPath(import.meta.resolve('@galaxy-pay/server'))), 'main.ts');
  const shebang = readFileSync(main, 'utf8').split('\n', 1)[0]!;
  const match = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang);
  if (!match) throw new Error(`unexpected shebang in ${main}: ${shebang}`);
  return match[1]!.split(' ').filter(Boolean);
}

const SERVER_MODULES = fileURLToPath(new URL('../../server/node_modules', import.meta.url));

/** Forks the compiled target for `spec.kind` (see `build.ts`) from `dir`, on plain `node`. */
export function spawnTarget(name: string, spec: TargetSpec, dir: string): Promise<TargetProcess> {
  const child: ChildProcess = fork(join(dir, `${spec.kind}.mjs`), [JSON.stringify(spec)], {
    // Only the final `memory` report calls gc(), after every measurement.
    execArgv: [
      '--expose-gc',
      ...(spec.kind === 'signer' || (spec.kind === 'baseline' && spec.signerFlags)
        ? shippedSignerFlags()
        : []),
      ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ],
    // The target's stdout goes to our stderr: the runner's stdout carries only the JSON result.
    stdio: ['ignore', 2, 2, 'ipc'],
    // The signer loads its database driver at run time (an optional peer dependency, `require`d from the
    // bundle's folder in the temp dir): let that resolve where the server package has its dependencies.
    env: { ...process.env, NODE_PATH: SERVER_MODULES },
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));

  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  child.once('exit', code =>
    failAll(new Error(`${name} target exited (code ${code}) with commands pending`)),
  );
  child.on('message', (message: TargetMessage) => {
    if (message.type === 'ready') return;
    const waiter = message.id === null ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.type === 'reply') waiter.resolve(message.result);
    else waiter.reject(new Error(`${name} target: ${message.message}`));
  });

  const handle = (url: string): TargetProcess => ({
    name,
    pid: child.pid!,
    url,
    call(op, args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...args, op, id });
      });
    },
    peakRssMb: () => memoryOf(child.pid!, 'VmHWM'),
    rssMb: () => memoryOf(child.pid!, 'VmRSS'),
    cpu: () => cpuOf(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      try {
        if (child.connected) {
          const id = nextId++;
          child.send({ id, op: 'close' } satisfies Command);
        } else {
          child.kill('SIGTERM');
        }
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} target did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onMessage = (message: TargetMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(handle(message.url));
      } else if (message.type === 'failed' && message.id === null) {
        clearTimeout(timer);
        reject(new Error(`${name} target failed to start: ${message.message}`));
      }
    };
    child.on('message', onMessage);
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`${name} target exited during start (code ${code})`));
    });
  });
}
