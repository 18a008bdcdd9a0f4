/**
 * `/api/bank/*`: the demo bank, a stand-in for the banking app a shopper scans a QR code with. A visitor has
 * no app that can pay the offline sandbox, so `/bank` lists the sandbox's QR payments waiting to be paid and
 * "scans" one through the sandbox's inspection API (`/__sandbox/transactions/:id/complete`): the sandbox then
 * sends the signer its IPN exactly as Galaxy Pay would after a real scan. Demo only: it exists only when the
 * shop runs next to the local sandbox.
 */

import express from 'express';
import { ShopError } from './admin-api.js';

interface SandboxTransaction {
  transactionID: string;
  kind: string;
  state: string;
  orderID: string;
  amount: number;
  currency: string;
  createdAt: string;
  data: { orderNumber?: unknown; orderDescription?: unknown };
}

const TRANSACTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function bankRoutes(sandboxUrl: string): express.Router {
  const base = sandboxUrl.replace(/\/+$/, '');
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  async function waiting(): Promise<SandboxTransaction[]> {
    const res = await fetch(`${base}/__sandbox/transactions`, {
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    if (!res?.ok) throw new ShopError(502, 'bank_unavailable', 'the sandbox did not answer');
    const all = (await res.json()) as SandboxTransaction[];
    return all.filter(txn => txn.kind === 'payWithQR' && txn.state === 'processing');
  }

  router.get('/payments', async (_req, res) => {
    const payments = (await waiting())
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map(txn => ({
        id: txn.transactionID,
        amount: txn.amount,
        currency: txn.currency,
        order: String(txn.data.orderNumber ?? txn.orderID),
        description: String(txn.data.orderDescription ?? ''),
        createdAt: txn.createdAt,
      }));
    res.json({ payments });
  });

  router.post('/payments/:id/:decision', async (req, res) => {
    const id = String(req.params.id);
    const decision = String(req.params.decision);
    if (!TRANSACTION_ID.test(id) || (decision !== 'approve' && decision !== 'decline')) {
      throw new ShopError(404, 'not_found', 'no such payment');
    }
    // Only a QR payment waiting to be scanned: the bank cannot finish anything else.
    if (!(await waiting()).some(txn => txn.transactionID === id)) {
      throw new ShopError(409, 'not_waiting', 'this QR payment is not waiting any more');
    }
    const done = await fetch(`${base}/__sandbox/transactions/${id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        decision === 'approve'
          ? { outcome: 'success' }
          : { outcome: 'failure', message: 'Declined in the banking app' },
      ),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    if (!done?.ok) throw new ShopError(502, 'bank_unavailable', 'the sandbox did not take it');
    res.json({ id, decision });
  });

  return router;
}
