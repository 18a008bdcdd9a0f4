/**
 * What `galaxy-pay-signer` does before it reads its configuration: `--help` and `--version`, which need none,
 * and the `.env` file of the working directory.
 */

import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { REQUIRED_VARIABLES } from './config.js';

/** What the command line asks for: start the signer, or print something and exit. */
export type SignerCommand =
  { kind: 'run' } | { kind: 'print'; stream: 'stdout' | 'stderr'; text: string; exitCode: 0 | 2 };

/** This package's version, from its package.json (one level above both `src/` and `dist/`). */
export function signerVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Optional variables worth knowing on day one; the README's table has them all. */
const COMMON_VARIABLES: ReadonlyArray<[string, string]> = [
  ['PORT', 'listen port (8200)'],
  ['HOST', 'bind address (127.0.0.1; 0.0.0.0 in a container)'],
  ['PUBLIC_URL', 'where the gateway and browsers reach the signer, base path included'],
  ['ALLOWED_ORIGINS', "your shop's exact origins, comma-separated (the widget's pages)"],
  ['DATABASE_URL', 'file:galaxy-pay.db (SQLite, needs better-sqlite3) or postgres://… (needs pg)'],
  ['ADMIN_TOKEN', '32+ characters: turns on /admin for your back end and the galaxy-pay CLI'],
  ['MERCHANT_WEBHOOK_URL', 'with MERCHANT_WEBHOOK_SECRET: signed events to your back end'],
  ['LOG_LEVEL', 'fatal, error, warn, info (default), debug or silent'],
];

/** The `--help` text. */
export function helpText(version: string): string {
  const width = Math.max(
    ...[...Object.keys(REQUIRED_VARIABLES), ...COMMON_VARIABLES.map(([name]) => name)].map(
      name => name.length,
    ),
  );
  const line = (name: string, what: string) => `  ${name.padEnd(width)}  ${what}`;
  return [
    `galaxy-pay-signer ${version}: the Galaxy Pay signer (checkout sessions, verified callbacks,`,
    'durable payment state) for the <galaxy-pay-button> widget.',
    '',
    'Usage: galaxy-pay-signer [--help | --version]',
    '',
    'Configuration comes from the environment, and from a .env file in the working directory',
    '(variables already set in the environment win). Start from the .env.example shipped with',
    '@galaxy-pay/server: cp node_modules/@galaxy-pay/server/.env.example .env',
    '',
    'Required:',
    ...Object.entries(REQUIRED_VARIABLES).map(([name, what]) => line(name, what)),
    '',
    'Common:',
    ...COMMON_VARIABLES.map(([name, what]) => line(name, what)),
    '',
    'Every variable: the README of @galaxy-pay/server, section "Environment variables".',
    'Exit codes: 0 stopped on SIGTERM/SIGINT; 1 failed while running; 2 usage or configuration error.',
    '',
  ].join('\n');
}

/** Reads the command line: only `--help`/`-h` and `--version`/`-v` are options; anything else is refused. */
export function parseCommand(argv: readonly string[], version = signerVersion): SignerCommand {
  if (argv.length === 0) return { kind: 'run' };
  const [first] = argv;
  if (argv.length === 1 && (first === '--help' || first === '-h')) {
    return { kind: 'print', stream: 'stdout', text: helpText(version()), exitCode: 0 };
  }
  if (argv.length === 1 && (first === '--version' || first === '-v')) {
    return { kind: 'print', stream: 'stdout', text: `${version()}\n`, exitCode: 0 };
  }
  return {
    kind: 'print',
    stream: 'stderr',
    text:
      `galaxy-pay-signer: unexpected ${argv.length === 1 ? 'argument' : 'arguments'} ` +
      `${argv.map(arg => JSON.stringify(arg)).join(' ')}; it is configured by environment ` +
      'variables (see --help)\n',
    exitCode: 2,
  };
}

/**
 * Loads a `.env` file into `env` the way `node --env-file` does (Node's own parser), without replacing a
 * variable the environment already has. A missing file is not an error: production sets real variables.
 * Returns the names it set.
 */
export function loadDotEnv(path: string, env: Record<string, string | undefined>): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const loaded: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined || value === undefined) continue;
    env[name] = value;
    loaded.push(name);
  }
  return loaded;
}
