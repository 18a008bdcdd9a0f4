/**
 * One error shape for every route: `{ error: { code, message, requestId } }` with a stable code. A 500 says
 * nothing about internals; nothing a handler throws can put a secret into a response.
 */

import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.js';

/** An error a route throws on purpose: its status, code and message are sent as they are. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Body-parser failures, mapped to stable codes. */
const PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.too.large': {
    status: 413,
    code: 'body_too_large',
    message: 'the request body is too large',
  },
  'entity.parse.failed': {
    status: 400,
    code: 'malformed_json',
    message: 'the request body is not valid JSON',
  },
  'encoding.unsupported': {
    status: 415,
    code: 'unsupported_encoding',
    message: 'compressed or unknown body encodings are not accepted',
  },
  'charset.unsupported': {
    status: 415,
    code: 'unsupported_charset',
    message: 'the body must be UTF-8',
  },
  'parameters.too.many': {
    status: 413,
    code: 'too_many_parameters',
    message: 'too many form parameters',
  },
  'entity.verify.failed': {
    status: 400,
    code: 'malformed_body',
    message: 'the request body was refused',
  },
  // raw-body: the upload ended before its Content-Length, or did not match it. The sender's fault.
  'request.aborted': {
    status: 400,
    code: 'malformed_body',
    message: 'the request body could not be read',
  },
  'request.size.invalid': {
    status: 400,
    code: 'malformed_body',
    message: 'the request body does not match its Content-Length',
  },
};

/** Refused before any body parser runs: no route takes a compressed body (docs/reliability.md rule 8). */
export const UNSUPPORTED_ENCODING = PARSER_ERRORS['encoding.unsupported']!;

/** The request id every response and log line carries. */
export function requestIdOf(res: Response): string {
  return String(res.locals.requestId ?? 'unknown');
}

/**
 * Sends the generic error body from an Express route. Through `res.json`, on purpose: the idempotency
 * middleware wraps it to record (or release) the key with the answer.
 */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message, requestId: requestIdOf(res) } });
}

/** Writes the generic error body on any Node response (the IPN intake runs outside Express). */
export function writeError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ error: { code, message, requestId } }));
}

/** The stable code of a body-parser failure, or undefined for anything else. */
export function parserError(
  error: unknown,
): { status: number; code: string; message: string } | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' && Object.hasOwn(PARSER_ERRORS, type)
    ? PARSER_ERRORS[type]
    : undefined;
}

/**
 * What Express and its parsers throw for the sender's fault, as a stable code: a path parameter that is not
 * valid %-encoding (the router's URIError), or any other `http-errors` 4xx (`expose`). Their own messages
 * may echo input, so they are never sent. Undefined for anything else (a 500).
 */
export function clientError(
  error: unknown,
): { status: number; code: string; message: string } | undefined {
  const known = parserError(error);
  if (known) return known;
  const { status, expose } = (error ?? {}) as { status?: unknown; expose?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (error instanceof URIError) {
    return {
      status: 400,
      code: 'malformed_path',
      message: 'the path is not valid percent-encoding',
    };
  }
  if (expose !== true) return undefined;
  return { status, code: 'bad_request', message: 'the request could not be understood' };
}

/**
 * The last handler: known errors keep their status and code; anything else is a bare 500. `setHeaders`
 * puts the API headers on every error answer, also on routes that had set others (the return pages).
 */
export function errorHandler(logger: Logger, setHeaders: (res: ServerResponse) => void = () => {}) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    setHeaders(res);
    if (error instanceof HttpError) {
      res.set(error.headers);
      sendError(res, error.status, error.code, error.message);
      return;
    }
    const client = clientError(error);
    if (client) {
      sendError(res, client.status, client.code, client.message);
      return;
    }
    // Log the kind and where, never the error's message: it may echo input or (from a library) a secret.
    logger.error(
      {
        requestId: requestIdOf(res),
        method: req.method,
        path: req.path,
        errorName: (error as Error)?.name,
      },
      'unhandled error',
    );
    sendError(res, 500, 'internal_error', 'something went wrong; try again later');
  };
}

/** For unmatched routes inside the signer. */
export function notFound(_req: Request, res: Response): void {
  sendError(res, 404, 'not_found', 'no such route');
}
