/**
 * The `galaxy-pay` command line: its help text, its options, each command's words, arguments and options,
 * and the strict parser that holds a line to them (a typo exits 2 rather than being ignored).
 */

import { parseArgs } from 'node:util';

export const USAGE = `galaxy-pay — merchant operations on a galaxy-pay signer

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

export class UsageError extends Error {}

export const OPTIONS = {
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

export type Option = keyof typeof OPTIONS;

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

export type Values = Partial<Record<Option, string | boolean>>;

/** A string option's value (`--flag` alone is a boolean). */
export const str = (value: string | boolean | undefined) =>
  typeof value === 'string' ? value : undefined;

/**
 * Parses the command line strictly: unknown options, options given twice or not taken by the command, and
 * stray arguments are usage errors. A leading `--` is dropped: `pnpm … cli -- <args>` (and npm) pass it on.
 */
export function parse(argv: string[]): { values: Values; positionals: string[] } {
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
