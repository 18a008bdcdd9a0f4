/** A signer logger whose output a test reads: every JSON line, as text and parsed. */

import { createLogger, type Logger } from '../logger.js';

export interface LogCapture {
  logger: Logger;
  /** Every line written so far, as written. */
  lines: string[];
  /** The same lines, parsed. */
  records(): Array<Record<string, unknown>>;
}

/** A pino logger at `level` that keeps every line it writes. */
export function captureLog(level = 'debug'): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: line => void lines.push(line) } });
  return {
    logger,
    lines,
    records: () => lines.map(line => JSON.parse(line) as Record<string, unknown>),
  };
}
