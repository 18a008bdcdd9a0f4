/**
 * Widget handlers for returning customers and QR payments: the customer's masked saved cards (vouched by a
 * customer handle, never a raw customer id), deleting one, and a session's QR code as an SVG image rendered
 * here, so the widget only shows an `<img>`. Their middleware is in the routing table (routes.ts).
 */

import type { Request, RequestHandler } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { GatewayClient } from '../../gateway/client.js';
import { SESSION_ID } from '../../payments/ids.js';
import { customerFromHandle, deleteCard, type CardsDeps } from '../../tokens/cards.js';
import { HttpError } from '../errors.js';
import { parseBody } from '../validation.js';
import { cardView } from '../views.js';

export interface CustomerHandlersDeps extends CardsDeps {
  gateway: GatewayClient;
}

const deleteBody = z.strictObject({ customerHandle: z.string().max(600) });

/** The handle from `?handle=` or the `x-customer-handle` header (one of them, once). */
function handleOf(req: Request): unknown {
  const header = req.get('x-customer-handle');
  return header ?? req.query.handle;
}

export function customerHandlers(
  deps: CustomerHandlersDeps,
): Record<'listCards' | 'removeCard' | 'qrCode', RequestHandler> {
  /** `GET /customer/tokens`: the customer's saved cards, masked. */
  const listCards: RequestHandler = async (req, res) => {
    const customerRef = customerFromHandle(deps, handleOf(req));
    const cards = await deps.store.listCards(customerRef);
    res.json({ cards: cards.map(cardView) });
  };

  /** `POST /customer/tokens/:id/delete`: forget one of them (here and at the gateway). */
  const removeCard: RequestHandler = async (req, res) => {
    const body = parseBody(deleteBody, req.body);
    const customerRef = customerFromHandle(deps, body.customerHandle);
    await deleteCard(deps, customerRef, String(req.params.id));
    res.json({ deleted: true });
  };

  /** `GET /sessions/:id/qr.svg`: an open QR session's code, as an image. */
  const qrCode: RequestHandler = async (req, res) => {
    const id = String(req.params.id);
    const session = SESSION_ID.test(id) ? await deps.store.getSession(id) : null;
    if (!session || session.plan?.op !== 'qr' || !session.plan.qrCode) {
      throw new HttpError(404, 'qr_not_found', 'this session has no QR code');
    }
    const open = session.status === 'pending' || session.status === 'pending_unknown';
    if (!open || session.expiresAt <= deps.now()) {
      throw new HttpError(
        410,
        'qr_unavailable',
        `the QR code is no longer payable (${session.status})`,
      );
    }
    const svg = await QRCode.toString(session.plan.qrCode, {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 2,
    });
    res
      .status(200)
      // An <img> on the merchant's page loads it cross-origin: allow that resource, and nothing else.
      .set({
        'content-type': 'image/svg+xml; charset=utf-8',
        'cross-origin-resource-policy': 'cross-origin',
        'cache-control': 'no-store',
      })
      .send(svg);
  };

  return { listCards, removeCard, qrCode };
}
