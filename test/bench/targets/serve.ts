/**
 * What every target process shares: loopback listening, and the IPC loop that reports `ready`, answers the
 * runner's commands and exits after `close` (or as soon as the runner goes away).
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watchLoop, type LoopWatch } from '../loop-watch.js';
import type { Command, CommandResults, MemoryBreakdown, TargetMessage } from '../messages.js';

/** A running server under test. */
export interface Target {
  /** Its base URL on loopback. */
  url: string;
  /** Runs one runner command (seeding); targets without commands leave it out. */
  handle?: <C extends Command>(command: C) => Promise<CommandResults[C['op']]>;
  /** Closes the server and everything it holds. */
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 and an ephemeral port, listening before the app is built. */
export async function listen(): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/** Closes a server and its keep-alive connections. */
export async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>(resolve => server.close(() => resolve()));
}

/** Memory after a full collection (the runner starts targets with `--expose-gc`): live data only. */
function memoryBreakdown(): MemoryBreakdown {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  return {
    rss: mb(usage.rss),
    heapTotal: mb(usage.heapTotal),
    heapUsed: mb(usage.heapUsed),
    external: mb(usage.external),
  };
}

function send(message: TargetMessage): void {
  process.send?.(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Starts the target and serves the runner over IPC until told to close. */
export async function serve(start: () => Promise<Target>): Promise<void> {
  let target: Target;
  try {
    target = await start();
  } catch (error) {
    send({ type: 'failed', id: null, message: messageOf(error) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= target.close());
  let loop: LoopWatch | undefined;

  process.on('message', (command: Command) => {
    void (async () => {
      try {
        if (command.op === 'close') {
          await close();
          send({ type: 'reply', id: command.id, result: null });
          process.disconnect?.();
          return;
        }
        if (command.op === 'memory') {
          send({ type: 'reply', id: command.id, result: memoryBreakdown() });
          return;
        }
        if (command.op === 'watchLoop') {
          loop?.stop();
          loop = watchLoop();
          send({ type: 'reply', id: command.id, result: null });
          return;
        }
        if (command.op === 'loopStats') {
          if (!loop) throw new Error('loopStats without watchLoop');
          send({ type: 'reply', id: command.id, result: loop.stop() });
          loop = undefined;
          return;
        }
        if (!target.handle) throw new Error(`this target does not handle ${command.op}`);
        send({ type: 'reply', id: command.id, result: await target.handle(command) });
      } catch (error) {
        send({ type: 'failed', id: command.id, message: messageOf(error) });
      }
    })();
  });
  // The runner closed the channel or died: never outlive it.
  process.on('disconnect', () => {
    void close().finally(() => process.exit());
  });
  send({ type: 'ready', url: target.url });
}

/** The spec the runner passed as the process's only argument. */
export function specFromArgv<T>(): T {
  const text = process.argv[2];
  if (text === undefined) throw new Error('a target process takes its spec as its only argument');
  return JSON.parse(text) as T;
}
