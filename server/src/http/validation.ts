/**
 * Reading what a request says: bodies checked by a zod schema, their failures as the stable codes of
 * T01/T02/T04, and the admin API's own headers and query (`x-operator`, `Idempotency-Key`, `limit`).
 */

import type { Request } from 'express';
import type { z } from 'zod';
import { HttpError } from './errors.js';

/** Fields a browser must never send: money, callback URLs, card data, gateway operations (T04). */
const FORBIDDEN_FIELDS = new Set([
  'apiOperation',
  'ipnURL',
  'successURL',
  'failureURL',
  'cancelURL',
  'cardNumber',
  'cardHolderName',
  'cardExpireDate',
  'cardVerificationValue',
  'cardIssueDate',
  'token',
  'sourceOfFund',
  'extraData',
  'orderID',
  'signature',
  'apiKey',
]);

/** Turns a zod failure into the stable codes of T01/T02/T04. */
export function validationError(error: z.ZodError, body: unknown): HttpError {
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const forbidden = keys.find(key => FORBIDDEN_FIELDS.has(key));
  if (forbidden) {
    return new HttpError(
      400,
      'field_not_allowed',
      `${forbidden} cannot be sent from a browser; the signer sets it`,
    );
  }
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    // Name the field, but never echo kilobytes of attacker-chosen key names back.
    const names = issue.keys.slice(0, 3).map(key => JSON.stringify(key.slice(0, 40)));
    const more = issue.keys.length > 3 ? ` and ${issue.keys.length - 3} more` : '';
    return new HttpError(400, 'unknown_field', `unknown field ${names.join(', ')}${more}`);
  }
  const path = issue.path.join('.') || 'body';
  return new HttpError(400, 'invalid_field', `${path}: ${issue.message}`);
}

/** The body as `schema` reads it, or the 400 of {@link validationError}. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw validationError(result.error, body);
  return result.data;
}

const OPERATOR = /^[A-Za-z0-9_.@:+-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Who is acting: the `x-operator` header (a person or system name), else `admin`. */
export function operatorOf(req: Request): string {
  const given = req.get('x-operator');
  if (given === undefined) return 'admin';
  if (!OPERATOR.test(given)) {
    throw new HttpError(
      400,
      'invalid_operator',
      'x-operator must be 1-64 of A-Z a-z 0-9 _ . @ : + -',
    );
  }
  return given;
}

/** The admin request's `Idempotency-Key`; a refund must send one (`required`). */
export function idempotencyKeyOf(req: Request, required: boolean): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) {
    if (required) {
      throw new HttpError(
        400,
        'idempotency_key_required',
        'send an Idempotency-Key header: a retry with the same key never refunds twice',
      );
    }
    return undefined;
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-255 printable ASCII characters',
    );
  }
  return key;
}

/** `?limit=` of a list: 1-500, `fallback` when absent. */
export function limitOf(req: Request, fallback = 50): number {
  const raw = req.query.limit;
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= 500))
    throw new HttpError(400, 'invalid_field', 'limit must be 1-500');
  return value;
}
