/**
 * The small IPC protocol between the bench runner (`run.ts`, the load generator) and the target processes it
 * forks (`target.ts`): each server under test runs alone in its own process, so its peak RSS is its own.
 */

import type { LoopStats } from './loop-watch.js';

/** Which server a target process runs. */
export type TargetSpec =
  | {
      kind: 'baseline';
      /**
       * Started with the signer's heap flags (main.ts's shebang) instead of Node's defaults: the paced control,
       * whose own collections should weigh what the signer's do (docs/performance.md, session 12).
       */
      signerFlags?: boolean;
    }
  | { kind: 'sandbox' }
  | {
      kind: 'signer';
      /** A `file:` URL (SQLite) or a loopback `postgres://` URL. */
      databaseUrl: string;
      /** PostgreSQL only: the fresh schema of this run (the runner drops it at the end). */
      schema?: string;
      /** The sandbox the signer calls as its gateway. */
      gatewayUrl: string;
    };

/** A session seeded in `pending` with a checkout attached, so a signed IPN about it settles it. */
export interface SeededSession {
  gatewayOrderId: string;
  transactionId: string;
  requestId: string;
  amount: number;
}

/** What the runner asks a target to do; every command gets exactly one reply with the same `id`. */
export type Command =
  | { id: number; op: 'seedIpnSessions'; prefix: string; count: number }
  | { id: number; op: 'seedOrders'; prefix: string; count: number }
  | { id: number; op: 'memory' }
  /** Starts watching the target's event loop and GC (see loop-watch.ts); `loopStats` ends it. */
  | { id: number; op: 'watchLoop' }
  | { id: number; op: 'loopStats' }
  | { id: number; op: 'close' };

/** The result each command answers with. */
export interface CommandResults {
  seedIpnSessions: SeededSession[];
  seedOrders: string[];
  memory: MemoryBreakdown;
  watchLoop: null;
  loopStats: LoopStats;
  close: null;
}

/** `process.memoryUsage()` of a target after a full GC, in MB: what its RSS is made of. */
export interface MemoryBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  /** Memory of C++ objects bound to JS objects, as V8 knows it (native add-ons may not report theirs). */
  external: number;
}

/** What a target sends back. */
export type TargetMessage =
  | { type: 'ready'; url: string }
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'failed'; id: number | null; message: string };

/** The signer's credentials in the bench: the same fixed values the server tests use. */
export const BENCH_API_KEY = 'bench-api-key';
/** The gateway salt shared by the sandbox, the signer and the IPN generator. */
export const BENCH_SALT = 'GO@2021';
/** The merchant origin the `POST /sessions` load comes from. */
export const MERCHANT_ORIGIN = 'http://shop.test';

/** The signer's (and the baseline's) answer to an accepted IPN. */
export const ipnApplied = (body: string) => body.includes('"ipnStatus":"200"');
