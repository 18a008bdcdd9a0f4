/**
 * `Idempotency-Key` for `POST /sessions`, as Stripe and the IETF draft describe: the same key and body
 * replays the saved answer; the same key with another body is 422; a key still in flight is 409. Keys live
 * in the store, so a restart forgets nothing (T06, T25).
 */

import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';
import type { Store } from '../store/store.js';

const KEY = /^[\x21-\x7e]{1,255}$/;
/** Answers worth replaying; a 409, 429 or 5xx may well change on retry, so its key is released. */
const replayable = (status: number) => status < 500 && status !== 409 && status !== 429;

export function idempotency(deps: {
  store: Store;
  now: () => Date;
  ttlMs: number;
}): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      throw new HttpError(
        400,
        'invalid_idempotency_key',
        'Idempotency-Key must be 1-255 printable ASCII characters',
      );
    }
    const now = deps.now();
    const begin = await deps.store.beginIdempotent(
      key,
      requestHash({ path: req.path, body: req.body as unknown }),
      now,
      new Date(now.getTime() - deps.ttlMs),
    );
    switch (begin.state) {
      case 'done':
        res
          .status(begin.status)
          .set({ 'idempotent-replayed': 'true', 'content-type': 'application/json; charset=utf-8' })
          .send(begin.body);
        return;
      case 'in_flight':
        throw new HttpError(
          409,
          'request_in_progress',
          'a request with this Idempotency-Key is still being processed',
          { 'retry-after': '1' },
        );
      case 'mismatch':
        throw new HttpError(
          422,
          'idempotency_key_reused',
          'this Idempotency-Key was used with a different request',
        );
      case 'started':
        break;
    }
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const text = JSON.stringify(body);
      const saved = replayable(res.statusCode)
        ? deps.store.finishIdempotent(key, res.statusCode, text)
        : deps.store.abandonIdempotent(key);
      // Answer only once the outcome is saved: a retry must find it.
      void saved.then(
        () => send(body),
        () => send(body),
      );
      return res;
    };
    next();
  };
}

/** A stable hash of a request body for idempotency (key order does not matter). */
function requestHash(body: unknown): string {
  const canonical = JSON.stringify(body, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : value,
  );
  return createHash('sha256').update(canonical).digest('hex');
}
