/**
 * Structured JSON logs (pino) with static redaction paths (docs/reliability.md §5: case-sensitive, never built
 * from input). Nothing logs request bodies; callbacks are logged by verdict, never by content.
 */

import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

/** Paths pino replaces with "[redacted]", in every casing seen in Galaxy Pay clients. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.apikey',
  'req.headers.signature',
  'headers.authorization',
  'headers.apikey',
  'headers.APIKey',
  'headers.apiKey',
  'headers.signature',
  'headers.Signature',
  'body.signature',
  'body.data',
  'query.data',
  'query.signature',
  'apiKey',
  'salt',
  'signature',
  'data',
  // Saved cards and Merchant Hosted Checkout: never a token, a customer handle or card data in a log line.
  'token',
  'body.token',
  'body.customerHandle',
  'query.handle',
  'req.headers["x-customer-handle"]',
  'cardNumber',
  'cardVerificationValue',
];

/** A logger writing JSON lines with UTC timestamps; `destination` lets tests capture the output. */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { service: 'galaxy-pay-signer' },
    },
    options.destination,
  );
}

/**
 * The logger of a signer given none (router mode): warnings and errors as JSON lines on stderr, so that a
 * misconfiguration the signer detects (a body parser mounted ahead of it, a gateway reply that does not
 * verify…) is seen. Pass `logger` to route them elsewhere, or `createLogger({ level: 'silent' })`.
 */
export function defaultLogger(): Logger {
  return createLogger({ level: 'warn', destination: process.stderr });
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = pino({ level: 'silent' });
