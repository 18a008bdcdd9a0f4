#!/usr/bin/env node
/**
 * `galaxy-pay`: the merchant's command line over the signer's admin API (HTTP only: it holds no gateway
 * credential, just SIGNER_URL and ADMIN_TOKEN). Readable output by default, `--json` for scripts.
 *
 * Exit codes: 0 done; 1 the signer refused (a 4xx: bad state, not found, …); 2 usage error or missing
 * configuration; 3 the signer or the gateway is unreachable or failed (5xx, network): try again later.
 */

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, str, USAGE, UsageError, type Values } from './cli/args.js';
import { planRequest } from './cli/requests.js';
import type { Json } from './cli/render.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
}

/** This package's version, read from its package.json (one level above both `src/` and `dist/`). */
function version(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`galaxy-pay: ${error.message}\nRun galaxy-pay --help for usage.`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (values.version) {
    io.out(version());
    return EXIT.ok;
  }
  if (positionals.length === 0) {
    io.err(USAGE);
    return EXIT.usage;
  }
  try {
    const request = planRequest(positionals, values, io.env);
    const url = (str(values.url) ?? io.env.SIGNER_URL ?? '').replace(/\/+$/, '');
    const token = str(values.token) ?? io.env.ADMIN_TOKEN;
    if (!url) throw new UsageError('set SIGNER_URL (or --url) to the signer base URL');
    if (!/^https?:\/\//.test(url)) throw new UsageError('SIGNER_URL must be an http(s) URL');
    if (!token) throw new UsageError('set ADMIN_TOKEN (or --token) to the signer admin token');
    const operator = str(values.operator) ?? io.env.GALAXY_PAY_OPERATOR ?? io.env.USER ?? 'cli';
    let res: Response;
    try {
      res = await io.fetch(`${url}${request.path}`, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-operator': operator.replace(/[^A-Za-z0-9_.@:+-]/g, '_').slice(0, 64) || 'cli',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(request.idempotency ? { 'idempotency-key': request.idempotency.value } : {}),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      io.err(`galaxy-pay: cannot reach the signer at ${url}: ${(error as Error).message}`);
      return EXIT.unavailable;
    }
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = {};
    }
    if (!res.ok) {
      const error = (json.error ?? {}) as Json;
      if (values.json) io.out(text);
      io.err(
        `galaxy-pay: ${String(error.code ?? `http_${res.status}`)}: ${String(error.message ?? res.statusText)}` +
          (error.requestId ? ` (request ${String(error.requestId)})` : ''),
      );
      const key = request.idempotency;
      if (key && res.status >= 500) {
        io.err(
          key.derived
            ? `Run the same command again to retry safely: it sends the same key (${key.value}), so it cannot ${key.kind} twice.`
            : `Retry with --idempotency-key ${key.value} so it cannot ${key.kind} twice.`,
        );
      }
      if (key?.derived && error.code === 'gateway_refused') {
        io.err(
          `This command's ${key.kind} is recorded as refused, and the same command gets the same answer. ` +
            'To try it again, give it its own --idempotency-key.',
        );
      }
      return res.status >= 500 ? EXIT.unavailable : EXIT.refused;
    }
    io.out(values.json ? JSON.stringify(json, null, 2) : request.render(json));
    if (request.idempotency && res.headers.get('idempotent-replayed') === 'true') {
      const { kind, derived } = request.idempotency;
      io.err(
        derived
          ? `Already done: the same command (order, amount, reason) made this ${kind} before; nothing was done again. ` +
              `For another ${kind} of the same amount, give it a different --reason or its own --idempotency-key.`
          : `Already done: this --idempotency-key made this ${kind} before; nothing was done again.`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`galaxy-pay: ${error.message}\nRun galaxy-pay --help for usage.`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** True when run as a program (also through the `galaxy-pay` bin symlink), false when imported. */
function invokedDirectly(): boolean {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  void run(process.argv.slice(2), {
    out: text => process.stdout.write(`${text}\n`),
    err: text => process.stderr.write(`${text}\n`),
    env: process.env,
    fetch,
  }).then(
    code => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `galaxy-pay: unexpected error: ${(error as Error)?.message ?? String(error)}\n`,
      );
      process.exitCode = EXIT.unavailable;
    },
  );
}
