#!/usr/bin/env node
/**
 * `galaxy-pay`: the merchant's command line over the signer's admin API (HTTP only: it holds no gateway
 * credential, just SIGNER_URL and ADMIN_TOKEN). Readable output by default, `--json` for scripts.
 *
 * Exit codes: 0 done; 1 the signer refused (a 4xx: bad state, not found, …); 2 usage error or missing
 * configuration; 3 the signer or the gateway is unreachable or failed (5xx, network): try again later.
 */

import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

const USAGE = `galaxy-pay — merchant operations on a galaxy-pay signer

Usage: galaxy-pay <command> [arguments] [options]

Commands:
  orders list [--status <s>] [--limit <n>]   recent payments (newest first)
  orders show <orderRef>                      an order, its payments and the audit trail
  query <orderRef>                            ask the gateway now and reconcile the store
  refund <orderRef> <amount> [--reason <t>] [--idempotency-key <k>]
                                              refund part or all of a captured payment
  void <orderRef>                             void an authorized (not captured) payment
  capture <orderRef> [--amount <n>]           capture an authorized payment
  reconcile [--older-than <seconds>]          query every stale pending session
  links create --amount <n> --name <t> --description <t> [--expires <n>] [--unit DAY|HOUR|MINUTE]
               [--methods GALAXYPAY,MPGS,…] [--fields email,fullname,phone,shippingAddress]
  links list [--limit <n>]

Options:
  --url <url>        the signer's base URL (default: $SIGNER_URL)
  --token <token>    admin bearer token (default: $ADMIN_TOKEN; prefer the variable: flags show in ps)
  --operator <name>  who you are, for the audit trail (default: $GALAXY_PAY_OPERATOR or $USER)
  --json             print the signer's JSON answer
  -h, --help         this help

Exit codes: 0 done, 1 refused by the signer (4xx), 2 usage or configuration error, 3 signer or gateway
unavailable (5xx, network).`;

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
}

type Json = Record<string, unknown>;

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        operator: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        status: { type: 'string' },
        limit: { type: 'string' },
        reason: { type: 'string' },
        'idempotency-key': { type: 'string' },
        amount: { type: 'string' },
        'older-than': { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        expires: { type: 'string' },
        unit: { type: 'string' },
        methods: { type: 'string' },
        fields: { type: 'string' },
      },
    });
  } catch (error) {
    io.err(`galaxy-pay: ${(error as Error).message}\nRun galaxy-pay --help for usage.`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  try {
    const request = planRequest(positionals, values);
    const url = (values.url ?? io.env.SIGNER_URL ?? '').replace(/\/+$/, '');
    const token = values.token ?? io.env.ADMIN_TOKEN;
    if (!url) throw new UsageError('set SIGNER_URL (or --url) to the signer base URL');
    if (!/^https?:\/\//.test(url)) throw new UsageError('SIGNER_URL must be an http(s) URL');
    if (!token) throw new UsageError('set ADMIN_TOKEN (or --token) to the signer admin token');
    const operator = values.operator ?? io.env.GALAXY_PAY_OPERATOR ?? io.env.USER ?? 'cli';
    let res: Response;
    try {
      res = await io.fetch(`${url}${request.path}`, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-operator': operator.replace(/[^A-Za-z0-9_.@:+-]/g, '_').slice(0, 64) || 'cli',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
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
      if (request.idempotencyKey && res.status >= 500) {
        io.err(`Retry with --idempotency-key ${request.idempotencyKey} to avoid a second refund.`);
      }
      return res.status >= 500 ? EXIT.unavailable : EXIT.refused;
    }
    io.out(values.json ? JSON.stringify(json, null, 2) : request.render(json));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`galaxy-pay: ${error.message}\nRun galaxy-pay --help for usage.`);
      return EXIT.usage;
    }
    throw error;
  }
}

interface Planned {
  method: 'GET' | 'POST';
  path: string;
  body?: Json;
  idempotencyKey?: string;
  render: (json: Json) => string;
}

type Values = Record<string, string | boolean | undefined>;

function wholeNumber(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new UsageError(`${name} must be a whole number, not "${String(value)}"`);
  }
  return Number(value);
}

function arg(positionals: string[], index: number, name: string): string {
  const value = positionals[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
}

function ref(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(value))
    throw new UsageError(`"${value}" is not an order reference`);
  return encodeURIComponent(value);
}

function query(values: Values, keys: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(keys)) {
    const value = values[flag];
    if (typeof value === 'string') params.set(param, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function planRequest(positionals: string[], values: Values): Planned {
  const [command, sub] = positionals;
  switch (command) {
    case 'orders':
      if (sub === 'list') {
        wholeNumber('--limit', values.limit);
        return {
          method: 'GET',
          path: `/admin/orders${query(values, { status: 'status', limit: 'limit' })}`,
          render: json => renderPayments(json.payments as Json[]),
        };
      }
      if (sub === 'show') {
        return {
          method: 'GET',
          path: `/admin/orders/${ref(arg(positionals, 2, 'orderRef'))}`,
          render: renderOrder,
        };
      }
      throw new UsageError('orders takes list or show');
    case 'query':
      return {
        method: 'POST',
        path: `/admin/orders/${ref(arg(positionals, 1, 'orderRef'))}/query`,
        body: {},
        render: json =>
          `${renderPayment(json.payment as Json)}\ngateway says: ${String((json.gateway as Json | null)?.transactionStatus ?? '?')} ${String((json.gateway as Json | null)?.transactionDescription ?? '')}`,
      };
    case 'refund': {
      const orderRef = ref(arg(positionals, 1, 'orderRef'));
      const amount = wholeNumber('<amount>', arg(positionals, 2, 'amount'))!;
      const key =
        typeof values['idempotency-key'] === 'string' ? values['idempotency-key'] : randomUUID();
      return {
        method: 'POST',
        path: `/admin/orders/${orderRef}/refund`,
        body: { amount, ...(typeof values.reason === 'string' ? { reason: values.reason } : {}) },
        idempotencyKey: key,
        render: json =>
          `${renderOperation(json.operation as Json)}\n${renderPayment(json.payment as Json)}`,
      };
    }
    case 'void':
    case 'capture': {
      const amount = command === 'capture' ? wholeNumber('--amount', values.amount) : undefined;
      return {
        method: 'POST',
        path: `/admin/orders/${ref(arg(positionals, 1, 'orderRef'))}/${command}`,
        body: amount === undefined ? {} : { amount },
        idempotencyKey:
          typeof values['idempotency-key'] === 'string' ? values['idempotency-key'] : undefined,
        render: json =>
          `${renderOperation(json.operation as Json)}\n${renderPayment(json.payment as Json)}`,
      };
    }
    case 'reconcile': {
      const olderThan = wholeNumber('--older-than', values['older-than']);
      return {
        method: 'POST',
        path: '/admin/reconcile',
        body: olderThan === undefined ? {} : { olderThanSeconds: olderThan },
        render: json => {
          const results = json.results as Json[];
          if (results.length === 0) return 'No stale pending sessions.';
          return table(
            ['ORDER', 'SESSION', 'BEFORE', 'AFTER', 'ERROR'],
            results.map(r => [r.orderRef, r.sessionId, r.before, r.after, r.error ?? '']),
          );
        },
      };
    }
    case 'links':
      if (sub === 'list') {
        wholeNumber('--limit', values.limit);
        return {
          method: 'GET',
          path: `/admin/links${query(values, { limit: 'limit' })}`,
          render: json => renderLinks(json.links as Json[]),
        };
      }
      if (sub === 'create') {
        const amount = wholeNumber('--amount', values.amount);
        if (amount === undefined) throw new UsageError('links create needs --amount');
        if (typeof values.name !== 'string') throw new UsageError('links create needs --name');
        const list = (v: string | boolean | undefined) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map(s => s.trim())
                .filter(Boolean)
            : undefined;
        return {
          method: 'POST',
          path: '/admin/links',
          body: {
            amount,
            name: values.name,
            description: typeof values.description === 'string' ? values.description : values.name,
            expiryDuration: wholeNumber('--expires', values.expires) ?? 3,
            ...(typeof values.unit === 'string' ? { expiryUnit: values.unit.toUpperCase() } : {}),
            ...(list(values.methods) ? { methods: list(values.methods) } : {}),
            ...(list(values.fields) ? { fields: list(values.fields) } : {}),
          },
          render: json => renderLinks([json.link as Json]),
        };
      }
      throw new UsageError('links takes create or list');
    default:
      throw new UsageError(`unknown command "${String(command)}"`);
  }
}

function table(head: string[], rows: unknown[][]): string {
  const cells = [
    head,
    ...rows.map(row => row.map(cell => (cell === null || cell === undefined ? '' : String(cell)))),
  ];
  const widths = head.map((_, i) => Math.max(...cells.map(row => row[i]!.length)));
  return cells
    .map(row =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const vnd = (value: unknown) =>
  typeof value === 'number' ? `${value.toLocaleString('en-US')} VND` : '';

function renderPayments(payments: Json[]): string {
  if (payments.length === 0) return 'No payments.';
  return table(
    ['ORDER', 'STATUS', 'AMOUNT', 'TRANSACTION', 'SESSION', 'UPDATED'],
    payments.map(p => [
      p.orderRef,
      p.status,
      vnd(p.amount),
      p.transactionId,
      p.sessionId,
      p.paidAt ?? p.expiresAt,
    ]),
  );
}

function renderPayment(p: Json): string {
  const lines = [
    `order ${String(p.orderRef)}  session ${String(p.sessionId)}`,
    `  status       ${String(p.status)}${p.lateSuccess ? ' (late success)' : ''}`,
    `  amount       ${vnd(p.amount)}`,
    `  transaction  ${String(p.transactionId ?? '-')}`,
  ];
  if (typeof p.captured === 'number') {
    lines.push(`  captured     ${vnd(p.captured)}`, `  refunded     ${vnd(p.refunded)}`);
    if (p.refundPending) lines.push(`  in doubt     ${vnd(p.refundPending)}`);
    lines.push(`  refundable   ${vnd(p.refundable)}`);
  }
  return lines.join('\n');
}

function renderOperation(op: Json): string {
  return `${String(op.kind)} ${String(op.state)}${op.amount ? ` ${vnd(op.amount)}` : ''} by ${String(op.operator)} (operation ${String(op.id)}${op.responseCode ? `, gateway ${String(op.responseCode)}` : ''})`;
}

function renderOrder(json: Json): string {
  const order = json.order as Json;
  const payments = json.payments as Json[];
  const operations = json.operations as Json[];
  const parts = [
    `order ${String(order.orderRef)}: ${vnd(order.amount)} — ${String(order.description)}`,
    ...payments.map(renderPayment),
  ];
  if (operations.length > 0) {
    parts.push(
      'audit trail:',
      table(
        ['WHEN', 'WHO', 'WHAT', 'AMOUNT', 'STATE', 'GATEWAY'],
        operations.map(op => [
          op.createdAt,
          op.operator,
          op.kind,
          vnd(op.amount),
          op.state,
          op.responseCode ?? op.detail ?? '',
        ]),
      ),
    );
  }
  return parts.join('\n');
}

function renderLinks(links: Json[]): string {
  if (links.length === 0) return 'No payment links.';
  return table(
    ['ORDER NO', 'STATUS', 'AMOUNT', 'EXPIRES', 'LINK', 'NAME'],
    links.map(l => [l.orderNo, l.status, vnd(l.amount), l.expiresAt, l.shortLink, l.name]),
  );
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
