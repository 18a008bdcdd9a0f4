#!/usr/bin/env node
/**
 * `galaxy-pay`: the merchant's command line over the signer's admin API (HTTP only: it holds no gateway
 * credential, just SIGNER_URL and ADMIN_TOKEN). Readable output by default, `--json` for scripts.
 *
 * Exit codes: 0 done; 1 the signer refused (a 4xx: bad state, not found, …); 2 usage error or missing
 * configuration; 3 the signer or the gateway is unreachable or failed (5xx, network): try again later.
 */

import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
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
                                              refund part or all of a captured payment; the same
                                              command again is the same refund, never a second one
                                              (for a second refund of the same amount, give it
                                              another --reason or its own --idempotency-key)
  void <orderRef> [--idempotency-key <k>]     void an authorized (not captured) payment
  capture <orderRef> [--amount <n>] [--idempotency-key <k>]
                                              capture an authorized payment
  reconcile [--older-than <seconds>]          query every stale pending session
  links create --amount <n> --name <t> [--description <t>] [--expires <n>] [--unit DAY|HOUR|MINUTE]
               [--methods GALAXYPAY,MPGS,…] [--fields email,fullname,phone,shippingAddress]
  links list [--limit <n>]
  gateway-tokens <customerRef> [--customer-token <t>]
                                              the cards Galaxy Pay keeps for a customer (Query
                                              Tokens), masked; the token from Galaxy Pay's identity
                                              provider: $GALAXY_PAY_CUSTOMER_TOKEN or --customer-token

Options:
  --url <url>        the signer's base URL (default: $SIGNER_URL)
  --token <token>    admin bearer token (default: $ADMIN_TOKEN; prefer the variable: flags show in ps)
  --operator <name>  who you are, for the audit trail (default: $GALAXY_PAY_OPERATOR or $USER)
  --json             print the signer's JSON answer
  -h, --help         this help
  --version          the version of galaxy-pay

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

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  operator: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
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
  'customer-token': { type: 'string' },
} as const;

type Option = keyof typeof OPTIONS;

/** Options every command takes. */
const GLOBAL: readonly Option[] = ['url', 'token', 'operator', 'json', 'help', 'version'];

/**
 * Each command's words, the positional arguments after them, and its own options: anything else on the
 * line is a mistake (a typo, or an option meant for another command) and exits 2 rather than being ignored.
 */
const COMMANDS: Record<string, { args: string[]; options: Option[] }> = {
  'orders list': { args: [], options: ['status', 'limit'] },
  'orders show': { args: ['orderRef'], options: [] },
  query: { args: ['orderRef'], options: [] },
  refund: { args: ['orderRef', 'amount'], options: ['reason', 'idempotency-key'] },
  void: { args: ['orderRef'], options: ['idempotency-key'] },
  capture: { args: ['orderRef'], options: ['amount', 'idempotency-key'] },
  reconcile: { args: [], options: ['older-than'] },
  'links create': {
    args: [],
    options: ['amount', 'name', 'description', 'expires', 'unit', 'methods', 'fields'],
  },
  'links list': { args: [], options: ['limit'] },
  'gateway-tokens': { args: ['customerRef'], options: ['customer-token'] },
};

/** This package's version, read from its package.json (one level above both `src/` and `dist/`). */
function version(): string {
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

type Values = Partial<Record<Option, string | boolean>>;

/**
 * Parses the command line strictly: unknown options, options given twice or not taken by the command, and
 * stray arguments are usage errors. A leading `--` is dropped: `pnpm … cli -- <args>` (and npm) pass it on.
 */
function parse(argv: string[]): { values: Values; positionals: string[] } {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`unknown option ${/'([^']+)'/.exec(message)?.[1] ?? message}`);
    }
    throw new UsageError(message);
  }
  const { values, positionals, tokens } = parsed;
  const given = new Set<Option>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const name = token.name as Option;
    if (given.has(name)) throw new UsageError(`--${name} is given twice`);
    given.add(name);
  }
  if (values.help || values.version) return { values, positionals };
  if (positionals.length === 0) return { values, positionals };
  const words = positionals[0] === 'orders' || positionals[0] === 'links' ? 2 : 1;
  const name = positionals.slice(0, words).join(' ');
  const command = COMMANDS[name];
  if (command === undefined) {
    const [first, second] = positionals;
    if (words === 2) {
      throw new UsageError(
        second === undefined
          ? `${String(first)} takes ${first === 'orders' ? 'list or show' : 'create or list'}`
          : `unknown command "${name}"`,
      );
    }
    throw new UsageError(`unknown command "${String(first)}"`);
  }
  const rest = positionals.slice(words);
  if (rest.length < command.args.length) {
    throw new UsageError(
      `missing <${command.args[rest.length]!}>: galaxy-pay ${name} ${command.args.map(a => `<${a}>`).join(' ')}`,
    );
  }
  if (rest.length > command.args.length) {
    throw new UsageError(`unexpected argument "${rest[command.args.length]!}" after ${name}`);
  }
  for (const option of given) {
    if (!GLOBAL.includes(option) && !command.options.includes(option)) {
      throw new UsageError(`${name} does not take --${option}`);
    }
  }
  return { values, positionals };
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

interface Planned {
  method: 'GET' | 'POST';
  path: string;
  body?: Json;
  /** The Idempotency-Key sent, and whether the CLI derived it (no --idempotency-key was given). */
  idempotency?: { value: string; derived: boolean; kind: string };
  /** Extra request headers (a credential that must not go in the URL). */
  headers?: Record<string, string>;
  render: (json: Json) => string;
}

const str = (value: string | boolean | undefined) =>
  typeof value === 'string' ? value : undefined;

/**
 * The Idempotency-Key of a refund given without --idempotency-key: derived from what the command says
 * (order, amount, reason), so the same command run twice is one refund, whatever made it run twice (a retry
 * after a timeout, a line re-run from the shell history, two people acting on one complaint); the signer
 * answers the second with the first's outcome. Chosen over asking for confirmation, which scripts and
 * retries cannot answer and people learn to type through. The price: two equal refunds of one order need
 * something that tells them apart, a distinct --reason ("item 1 of 2", "item 2 of 2") or each its own
 * --idempotency-key, which always wins over the derived one.
 */
export function refundKey(orderRef: string, amount: number, reason: string | undefined): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['refund', orderRef, amount, reason ?? null]))
    .digest('base64url');
  return `galaxy-pay-cli-refund-${digest}`;
}

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

function query(values: Values, keys: Partial<Record<Option, string>>): string {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(keys)) {
    const value = values[flag as Option];
    if (typeof value === 'string') params.set(param, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function planRequest(positionals: string[], values: Values, env: Io['env']): Planned {
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
      const reason = str(values.reason);
      const given = str(values['idempotency-key']);
      return {
        method: 'POST',
        path: `/admin/orders/${orderRef}/refund`,
        body: { amount, ...(reason === undefined ? {} : { reason }) },
        idempotency: {
          value: given ?? refundKey(decodeURIComponent(orderRef), amount, reason),
          derived: given === undefined,
          kind: 'refund',
        },
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
        ...(typeof values['idempotency-key'] === 'string'
          ? { idempotency: { value: values['idempotency-key'], derived: false, kind: command } }
          : {}),
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
    case 'gateway-tokens': {
      const customerRef = arg(positionals, 1, 'customerRef');
      if (!/^[A-Za-z0-9_.:@+-]{1,100}$/.test(customerRef))
        throw new UsageError(`"${customerRef}" is not a customer reference`);
      const customerToken = str(values['customer-token']) ?? env.GALAXY_PAY_CUSTOMER_TOKEN;
      if (!customerToken)
        throw new UsageError('set GALAXY_PAY_CUSTOMER_TOKEN (or --customer-token)');
      return {
        method: 'GET',
        path: `/admin/customers/${encodeURIComponent(customerRef)}/gateway-tokens`,
        headers: { 'x-customer-token': customerToken },
        render: json => {
          const tokens = json.tokens as Json[];
          const who = `${String(json.customerName ?? '')} (${String(json.customerID ?? '?')})`;
          if (tokens.length === 0) return `No cards at Galaxy Pay for ${who}.`;
          return `${who}\n${table(
            ['TOKEN ID', 'BRAND', 'SOURCE', 'NUMBER', 'HOLDER'],
            tokens.map(t => [t.tokenID, t.brand, t.source, t.maskedNumber, t.holderName]),
          )}`;
        },
      };
    }
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
      // When the payment last changed (a pending one's expiresAt is in the future: never shown here).
      p.updatedAt ?? p.paidAt,
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
