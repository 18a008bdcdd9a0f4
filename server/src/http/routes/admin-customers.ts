/**
 * Admin handlers for returning customers: mint a customer handle for the widget, list and delete a
 * customer's saved cards, and FAST_PAY an order with a saved international card. Behind the bearer check;
 * saved cards must be configured (else 400 `saved_cards_disabled`).
 */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { recordAudit, type OperationsDeps } from '../../operations/common.js';
import { querySession } from '../../operations/query.js';
import type { CheckoutDeps } from '../../payments/checkout-call.js';
import { openSession } from '../../payments/checkout.js';
import { orderRefSchema } from '../../payments/orders.js';
import { cardOf, deleteCard, requireCards, type CardsDeps } from '../../tokens/cards.js';
import {
  CUSTOMER_REF,
  MAX_HANDLE_TTL_SECONDS,
  mintCustomerHandle,
} from '../../tokens/customer-handle.js';
import { HttpError } from '../errors.js';
import { operatorOf, parseBody } from '../validation.js';
import { cardView, paymentView } from '../views.js';

export interface AdminCustomerDeps extends OperationsDeps, CardsDeps {
  /** FAST_PAY opens a checkout like the widget does (the signer's one CheckoutDeps). */
  checkout: CheckoutDeps;
  /** Sessions opened from now on are authorize-only (capture or void from this API). */
  manualCapture: boolean;
}

const handleBody = z.strictObject({
  customerRef: z
    .string()
    .regex(CUSTOMER_REF, 'customerRef must be 1-100 of A-Z a-z 0-9 _ . : @ + -'),
  ttlSeconds: z.number().int().min(60).max(MAX_HANDLE_TTL_SECONDS).optional(),
});
const fastPayBody = z.strictObject({
  orderRef: orderRefSchema,
  customerRef: z.string().regex(CUSTOMER_REF),
  tokenId: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
});

export function adminCustomerHandlers(
  deps: AdminCustomerDeps,
): Record<'mintHandle' | 'listCards' | 'removeCard' | 'fastPay', RequestHandler> {
  /** `POST /admin/customer-handles`: a signed, expiring handle the merchant page gives the widget. */
  const mintHandle: RequestHandler = (req, res) => {
    const cards = requireCards(deps);
    const body = parseBody(handleBody, req.body ?? {});
    const { handle, expiresAt } = mintCustomerHandle(
      cards.handleSecret,
      body.customerRef,
      body.ttlSeconds ?? 3600,
      deps.now(),
    );
    res.status(201).json({ handle, expiresAt: expiresAt.toISOString() });
  };

  /** `GET /admin/customers/:customerRef/cards`: the customer's saved cards, masked. */
  const listCards: RequestHandler = async (req, res) => {
    requireCards(deps);
    const customerRef = String(req.params.customerRef);
    if (!CUSTOMER_REF.test(customerRef))
      throw new HttpError(400, 'invalid_field', 'bad customerRef');
    res.json({ cards: (await deps.store.listCards(customerRef)).map(cardView) });
  };

  /** `DELETE /admin/customers/:customerRef/cards/:tokenId`: forget a card (audited). */
  const removeCard: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const customerRef = String(req.params.customerRef);
    if (!CUSTOMER_REF.test(customerRef))
      throw new HttpError(400, 'invalid_field', 'bad customerRef');
    const result = await deleteCard(deps, customerRef, String(req.params.tokenId));
    await recordAudit(
      deps,
      'token_delete',
      operator,
      `card ${String(req.params.tokenId)} of ${customerRef}`,
    );
    res.json({ deleted: true, ...result });
  };

  /** `POST /admin/fast-pay`: charge a registered order to a saved international card, no shopper. */
  const fastPay: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const body = parseBody(fastPayBody, req.body ?? {});
    const card = await cardOf(deps, body.customerRef, body.tokenId);
    if (card.paymentMethod !== 'INTERNATIONAL') {
      throw new HttpError(409, 'fast_pay_not_allowed', 'FAST_PAY takes international cards only');
    }
    const order = await deps.store.getOrder(body.orderRef);
    if (!order)
      throw new HttpError(404, 'order_not_found', 'register the order first (POST /admin/orders)');
    if (await deps.store.findOpenSession(order.orderRef, deps.now())) {
      throw new HttpError(
        409,
        'order_has_open_session',
        'this order has an open checkout; cancel it first',
      );
    }
    const { session } = await openSession(deps.checkout, order, {
      locale: 'vi',
      paymentMethod: 'INTERNATIONAL',
      merchantOrigin: null,
      plan: {
        op: 'fast_pay',
        customerRef: body.customerRef,
        cardId: card.id,
        ...(deps.manualCapture ? { capture: 'manual' as const } : {}),
      },
    });
    const settled = session.transactionId
      ? (await querySession(deps, session, operator, 'fast_pay')).session
      : session;
    res.status(201).json({ payment: await paymentView(deps, settled) });
  };

  return { mintHandle, listCards, removeCard, fastPay };
}
