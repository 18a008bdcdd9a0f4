/**
 * Helmet configured without nonces or per-request directives always sets the same headers, yet runs a
 * dozen middlewares on every request (about a tenth of an IPN's CPU time). This works the headers out once
 * and sets them in a single step; `fixed-headers.test.ts` checks the result against helmet itself.
 */

import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';

/** The middleware, plus the same headers for a plain Node response (the IPN intake runs outside Express). */
export type FixedHeaders = RequestHandler & { applyTo(res: ServerResponse): void };

export function fixedHeaders(
  middleware: RequestHandler,
  extra: Readonly<Record<string, string>> = {},
): FixedHeaders {
  const set = new Map<string, string>();
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      set.set(name.toLowerCase(), String(value));
    },
    removeHeader(name: string) {
      removed.push(name.toLowerCase());
    },
  };
  let called = false;
  void middleware({} as Request, recorder as unknown as Response, () => {
    called = true;
  });
  // A middleware that does not answer synchronously is not a fixed set of headers: refuse at start.
  if (!called) throw new Error('fixedHeaders: the middleware did not finish synchronously');
  for (const [name, value] of Object.entries(extra)) set.set(name.toLowerCase(), value);
  const headers = [...set];
  const applyTo = (res: ServerResponse) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of headers) res.setHeader(name, value);
  };
  const setFixed: RequestHandler = (_req, res, next) => {
    applyTo(res);
    next();
  };
  return Object.assign(setFixed, { applyTo });
}
