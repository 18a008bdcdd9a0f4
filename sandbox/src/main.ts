#!/usr/bin/env node
/** `galaxy-pay-sandbox`: run the offline gateway from the command line. */

import { parseArgs } from 'node:util';
import { createSandbox } from './app.js';

const USAGE = `Usage: galaxy-pay-sandbox --api-key <key> --salt <salt> [options]

  --port <n>              port to listen on (default 8100; 0 picks a free one)
  --host <addr>           address to bind (default 127.0.0.1)
  --api-key <key>         the merchant API key to expect (or GALAXY_PAY_API_KEY)
  --salt <salt>           the signature salt (or GALAXY_PAY_SALT)
  --public-url <url>      origin to put in endpoint URLs (default http://<host>:<port>)
  --callback-method <m>   GET (default) or POST for result/cancel redirects
  --ipn-url <url>         IPN URL for requests that carry none (modal checkout)
  --faults <list>         fault tokens for every order, e.g. "dup:2,late:3"
  -h, --help              show this help`;

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8100' },
        host: { type: 'string', default: '127.0.0.1' },
        'api-key': { type: 'string' },
        salt: { type: 'string' },
        'public-url': { type: 'string' },
        'callback-method': { type: 'string', default: 'GET' },
        'ipn-url': { type: 'string' },
        faults: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const apiKey = values['api-key'] ?? process.env.GALAXY_PAY_API_KEY;
  const salt = values.salt ?? process.env.GALAXY_PAY_SALT;
  if (!apiKey) fail('--api-key (or GALAXY_PAY_API_KEY) is required');
  if (!salt) fail('--salt (or GALAXY_PAY_SALT) is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be 0-65535, not "${values.port}"`);
  const method = values['callback-method'].toUpperCase();
  if (method !== 'GET' && method !== 'POST') fail('--callback-method must be GET or POST');

  const sandbox = createSandbox({
    apiKey,
    salt,
    publicUrl: values['public-url'],
    callbackMethod: method,
    merchantUrls: values['ipn-url'] ? { ipnURL: values['ipn-url'] } : undefined,
    faults: values.faults,
  });
  sandbox.listen(port, values.host).then(
    url => {
      console.log(`galaxy-pay sandbox listening on ${url}`);
      console.log(`  API base URL:   ${url}  (POST ${url}/api/v1/transaction/checkout …)`);
      console.log(`  inspection API: ${url}/__sandbox/requests, ${url}/__sandbox/ipn`);
    },
    (error: Error) => fail(`cannot listen on ${values.host}:${port}: ${error.message}`),
  );
  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  console.error(`galaxy-pay-sandbox: ${message}\n\n${USAGE}`);
  process.exit(2);
}

main();
