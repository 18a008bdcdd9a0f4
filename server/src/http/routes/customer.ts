/**
 * Widget routes for returning customers and QR payments: the customer's masked saved cards (vouched by a
 * customer handle, never a raw customer id), deleting one, and a session's QR code as an SVG image rendered
 * here, so the widget only shows an `<img>`.
 */

import express, { type RequestHandler } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import { SESSION_ID } from '../checkout.js';
import { HttpError } from '../errors.js';
import type { GatewayClient } from '../gateway-client.js';
import { cardView, customerFromHandle, deleteCard, type CardsDeps } from '../tokens/cards.js';
import { validationError } from './sessions.js';

export interface CustomerRoutesDeps extends CardsDeps {
  gateway: GatewayClient;
  /** Shared widget guards from signer.ts (JSON only, depth limit) and a per-route limiter. */
  requireJson: RequestHandler;
  limitJsonDepth: RequestHandler;
  limiter: RequestHandler;
}

const deleteBody = z.strictObject({ customerHandle: z.string().max(600) });

/** The handle from `?handle=` or the `x-customer-handle` header (one of them, once). */
function handleOf(req: express.Request): unknown {
  const header = req.get('x-customer-handle');
  return header ?? req.query.handle;
}

export function customerRoutes(deps: CustomerRoutesDeps): express.Router {
  const router = express.Router();

  router.get('/customer/tokens', deps.limiter, async (req, res) => {
    const customerRef = customerFromHandle(deps, handleOf(req));
    const cards = await deps.store.listCards(customerRef);
    res.json({ cards: cards.map(cardView) });
  });

  router.post(
    '/customer/tokens/:id/delete',
    deps.limiter,
    deps.requireJson,
    express.json({ limit: '4kb', strict: true, inflate: false }),
    deps.limitJsonDepth,
    async (req, res) => {
      const parsed = deleteBody.safeParse(req.body);
      if (!parsed.success) throw validationError(parsed.error, req.body);
      const customerRef = customerFromHandle(deps, parsed.data.customerHandle);
      await deleteCard(deps, customerRef, String(req.params.id));
      res.json({ deleted: true });
    },
  );

  router.get('/sessions/:id/qr.svg', deps.limiter, async (req, res) => {
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
  });

  return router;
}
