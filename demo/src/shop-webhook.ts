/** The signer's signed webhook (`POST /api/galaxy-pay/webhook`): how the shop learns what happened to a payment. */

import express from 'express';
import { verifyWebhook, type PaymentNotice } from '@galaxy-pay/server';
import { ShopError } from './admin-api.js';
import { applyNotice, type ShopOrder } from './shop-orders.js';

export function webhookRoute(
  app: express.Express,
  secret: string,
  orders: Map<string, ShopOrder>,
): void {
  app.post(
    '/api/galaxy-pay/webhook',
    express.text({ type: 'application/json', limit: '16kb' }),
    (req, res) => {
      const body = typeof req.body === 'string' ? req.body : '';
      try {
        verifyWebhook(body, req.headers as Record<string, string | undefined>, {
          secret,
          now: Date.now,
        });
      } catch {
        throw new ShopError(401, 'invalid_signature', 'webhook signature does not verify');
      }
      applyNotice(orders, JSON.parse(body) as PaymentNotice);
      res.status(204).end();
    },
  );
}
