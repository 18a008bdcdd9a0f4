/**
 * Where prices come from: never the browser. An order reference is resolved by the merchant's hook (router
 * mode), an order pre-registered through `POST /admin/orders`, or the catalog file (demo).
 */

import { readFileSync } from 'node:fs';
import type { Request } from 'express';
import { z } from 'zod';
import type { Order, Store } from '../store/store.js';

/** The largest amount the signer accepts: far below Number.MAX_SAFE_INTEGER (Numeric(16) is not). */
export const MAX_ORDER_AMOUNT = 100_000_000_000;

/** An order as a merchant describes it. Only VND is enabled (the hosted domestic methods take VND only). */
export const orderInputSchema = z.strictObject({
  amount: z.number().int().min(1).max(MAX_ORDER_AMOUNT),
  currency: z.literal('VND').default('VND'),
  // Normalized before the length check: the gateway's 250 characters apply to the NFC text we send.
  description: z
    .string()
    .transform(text => text.normalize('NFC'))
    .pipe(z.string().min(1).max(250)),
  netAmount: z.number().int().min(0).max(MAX_ORDER_AMOUNT).optional(),
  feeAmount: z.number().int().min(0).max(MAX_ORDER_AMOUNT).optional(),
  discountAmount: z.number().int().min(0).max(MAX_ORDER_AMOUNT).optional(),
});
export type OrderInput = z.input<typeof orderInputSchema>;

/** Order references: what a merchant system uses as an id, nothing that needs escaping. */
export const orderRefSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,50}$/, 'orderRef must be 1-50 of A-Z a-z 0-9 _ -');

/** The merchant's pricing hook (router mode). Return null for an unknown order. */
export type ResolveOrder = (
  orderRef: string,
  req: Request,
) => OrderInput | null | undefined | Promise<OrderInput | null | undefined>;

/** Checks an order input and fills in the breakdown the checkout API wants. Throws on inconsistency. */
export function toOrder(orderRef: string, input: OrderInput, now: Date): Order {
  const parsed = orderInputSchema.parse(input);
  const netAmount = parsed.netAmount ?? parsed.amount;
  const feeAmount = parsed.feeAmount ?? 0;
  const discountAmount = parsed.discountAmount ?? 0;
  if (netAmount + feeAmount - discountAmount !== parsed.amount) {
    throw new Error('order amounts must satisfy netAmount + feeAmount - discountAmount = amount');
  }
  return {
    orderRef,
    amount: parsed.amount,
    currency: parsed.currency,
    description: parsed.description,
    netAmount,
    feeAmount,
    discountAmount,
    createdAt: now,
  };
}

/** Reads a catalog file: a JSON object `{ "<orderRef>": { amount, description, … } }`. */
export function loadCatalog(path: string): Record<string, OrderInput> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const catalog = z.record(orderRefSchema, orderInputSchema).parse(parsed);
  return catalog as Record<string, OrderInput>;
}

/**
 * Resolves an order reference to a stored, priced order: the hook first, then what the store already has
 * (pre-registered orders), then the catalog. The first resolution is saved, and its amount and currency
 * never change afterwards (`putOrder` keeps the first).
 */
export async function resolveOrder(
  deps: {
    store: Store;
    resolve?: ResolveOrder;
    catalog?: Record<string, OrderInput>;
    now: () => Date;
  },
  orderRef: string,
  req: Request,
): Promise<Order | null> {
  const fromHook = deps.resolve ? await deps.resolve(orderRef, req) : undefined;
  if (fromHook) return deps.store.putOrder(toOrder(orderRef, fromHook, deps.now()));
  const stored = await deps.store.getOrder(orderRef);
  if (stored) return stored;
  const fromCatalog =
    deps.catalog && Object.hasOwn(deps.catalog, orderRef) ? deps.catalog[orderRef] : undefined;
  if (fromCatalog) return deps.store.putOrder(toOrder(orderRef, fromCatalog, deps.now()));
  return null;
}
