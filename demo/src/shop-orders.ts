/** The shop's own record of an order: pricing a cart, a new order reference, and what the signer's webhook says. */

import { randomBytes } from 'node:crypto';
import type { PaymentNotice } from '@galaxy-pay/server';
import { ShopError } from './admin-api.js';
import { productById } from './products.js';

export type ShopOrderStatus =
  | 'awaiting_payment'
  | 'authorized'
  | 'voided'
  | 'paid'
  | 'partially_refunded'
  | 'refunded'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'needs_review';

export interface ShopOrderLine {
  productId: string;
  name: { vi: string; en: string };
  quantity: number;
  unitPrice: number;
  lineTotal: number;
}

/** The shop's own record of an order (in memory: this is a demo). */
export interface ShopOrder {
  orderRef: string;
  lines: ShopOrderLine[];
  amount: number;
  currency: 'VND';
  status: ShopOrderStatus;
  transactionId: string | null;
  createdAt: string;
  paidAt: string | null;
  /** What the signer reports refunded so far (its `refunded` events carry the running total). */
  refunded: number;
  /** Webhook ids already applied (the signer delivers at least once). */
  notices: string[];
}

const MAX_LINES = 10;
const MAX_QUANTITY = 20;

/** Prices a cart from the catalogue; quantities and ids are all the browser may say. */
export function priceCart(body: unknown): ShopOrderLine[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_LINES) {
    throw new ShopError(400, 'invalid_cart', `send 1 to ${MAX_LINES} items`);
  }
  const quantities = new Map<string, number>();
  for (const item of items as Array<{ id?: unknown; quantity?: unknown }>) {
    const product = typeof item?.id === 'string' ? productById.get(item.id) : undefined;
    const quantity = item?.quantity;
    if (!product || !Number.isInteger(quantity)) {
      throw new ShopError(400, 'invalid_cart', 'unknown product or bad quantity');
    }
    quantities.set(product.id, (quantities.get(product.id) ?? 0) + (quantity as number));
  }
  return [...quantities].map(([id, quantity]) => {
    const product = productById.get(id)!;
    if (quantity < 1 || quantity > MAX_QUANTITY) {
      throw new ShopError(400, 'invalid_cart', `quantities go from 1 to ${MAX_QUANTITY}`);
    }
    return {
      productId: id,
      name: product.name,
      quantity,
      unitPrice: product.price,
      lineTotal: product.price * quantity,
    };
  });
}

export function applyNotice(orders: Map<string, ShopOrder>, notice: PaymentNotice): void {
  const order = orders.get(notice.orderRef);
  if (!order || order.notices.includes(notice.id)) return;
  order.notices.push(notice.id);
  if (notice.event === 'refunded') {
    // Each refund carries the total refunded so far: the largest seen wins (deliveries may cross).
    order.refunded = Math.max(order.refunded, notice.refunded ?? 0);
    order.status = order.refunded >= order.amount ? 'refunded' : 'partially_refunded';
    return;
  }
  // A paid order stays paid; anything later about another session of it is only recorded.
  if (order.paidAt !== null) return;
  const status = notice.status as ShopOrderStatus;
  // An authorization is held until the back office captures it (then `paid`) or voids it (`voided`).
  if (order.status === 'authorized' && notice.event !== 'paid' && notice.event !== 'voided') return;
  if (
    ['paid', 'authorized', 'voided', 'failed', 'cancelled', 'expired', 'needs_review'].includes(
      status,
    )
  ) {
    order.status = status;
  }
  if (status === 'paid') {
    order.transactionId = notice.transactionId;
    order.paidAt = notice.at;
  }
}

export function publicOrder(order: ShopOrder) {
  const { notices: _notices, ...rest } = order;
  return rest;
}

/**
 * `GC<base36 time><random>`, 16 letters and digits: unique, and it fits the gateway's `orderNumber`
 * (alphanumeric, ≤ 20), so the hosted page and Galaxy Pay's portal show the shop's own reference.
 */
export function newOrderRef(): string {
  return `GC${Date.now().toString(36).toUpperCase()}${randomBytes(3).toString('hex').toUpperCase()}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
