#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=128
/**
 * `galaxy-pay-signer`: the standalone signer. The only file that reads process.env and listens.
 * The shebang sets a memory budget: V8's young generation capped at 2 MB per semi-space and the old
 * generation at 128 MB (the live heap is about 20 MB; thousands of SSE streams fit). By default V8 lets both
 * grow under a burst and the process peaked near 180 MB RSS; with these it stays near 130 MB in `pnpm bench`,
 * for a few more collections. `pnpm bench` runs the signer with the flags of this line. Raise them with
 * `node --max-old-space-size=… dist/main.js` for very many open widgets.
 * Shutdown (SIGTERM/SIGINT): fail readiness, stop accepting, let in-flight work commit or roll back, exit
 * before a hard deadline — a response is only ever sent for committed work.
 */

import { createServer } from 'node:http';
import { createApp } from './http/app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { loadCatalog } from './payments/orders.js';
import { parseCommand, loadDotEnv } from './signer-command.js';
import { openStore, StoreError } from './store/index.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  // --help and --version need no configuration; then .env (the README's `cp .env.example .env`), under
  // whatever the environment already sets.
  const command = parseCommand(process.argv.slice(2));
  if (command.kind === 'print') {
    process[command.stream].write(command.text);
    process.exit(command.exitCode);
  }
  loadDotEnv('.env', process.env);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`galaxy-pay-signer: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let store;
  try {
    store = await openStore(config.databaseUrl, { unverifiedEvidence: config.unverifiedEvidence });
  } catch (error) {
    // A driver to install, or a DATABASE_URL to fix: say which, without a stack.
    if (error instanceof StoreError && ['driver_missing', 'invalid_config'].includes(error.code)) {
      console.error(`galaxy-pay-signer: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  await store.migrate();
  const { listener, signer } = createApp({
    apiKey: config.apiKey,
    salt: config.salt,
    gatewayBaseUrl: config.gatewayBaseUrl,
    gatewayPageOrigins: config.gatewayPageOrigins,
    flow: config.flow,
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    store,
    catalog: config.catalogFile ? loadCatalog(config.catalogFile) : undefined,
    adminToken: config.adminToken,
    sessionTtlSeconds: config.sessionTtlSeconds,
    webhook: config.merchantWebhook,
    logger,
    trustProxy: config.trustProxy,
    unverifiedIpnRate: config.unverifiedIpnRate,
    unverifiedIpnRateTotal: config.unverifiedIpnRateTotal,
    savedCards: config.savedCards,
    captureMode: config.captureMode,
    refundWindowDays: config.refundWindowDays,
    unexpectedAuthorization: config.unexpectedAuthorization,
    managementOrderId: config.managementOrderId,
    applePayValidationPath: config.applePayValidationPath,
    gateway: { verifyResponseSignature: config.responseSignature },
  });
  if (config.responseSignature === 'log') {
    logger.warn(
      { event: 'response_signature_log_only' },
      'GALAXY_PAY_RESPONSE_SIGNATURE=log: gateway replies whose signature does not verify are accepted ' +
        '(each one logged as gateway_untrusted_reply); set it back to enforce once UAT has confirmed the formula',
    );
  }
  await signer.ready;
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  const server = createServer(
    {
      // A request (headers and body) must arrive whole in time: a trickled upload cannot hold a
      // connection or an IPN slot (T27). Node checks every `connectionsCheckingInterval` (30 s by default).
      requestTimeout,
      headersTimeout: Math.min(10_000, requestTimeout),
      connectionsCheckingInterval: 1000,
    },
    listener,
  ).listen(config.port, config.host, () => {
    logger.info(
      { url: config.publicUrl, port: config.port, flow: config.flow },
      'galaxy-pay signer listening',
    );
  });
  server.on('error', error => {
    logger.error({ errorName: error.name }, `cannot listen on ${config.host}:${config.port}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    signer.drain();
    const deadline = setTimeout(() => {
      logger.error({}, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.close(async () => {
      await signer.close();
      await store.close();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
