/**
 * `/__sandbox/`: what tests look at and drive. Every API request (raw body, headers, verdict), every IPN
 * attempt and its answer, the transactions, and a way to finish a payment without a browser.
 */

import express, { type Request, type Response } from 'express';
import { findTestCard } from '@galaxy-pay/protocol';
import { cardAccount } from './cards.js';
import type { SandboxContext } from './context.js';
import { FaultTokenError, mergeFaults, parseFaults } from './faults.js';
import type { Transaction } from './ledger.js';
import { sendLinkIpn } from './links.js';
import { PaymentFinishedError, expireIfStale, finishPayment, type Outcome } from './payments.js';

export function inspectRouter(ctx: SandboxContext): express.Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });

  router.get('/__sandbox/requests', (req, res) => {
    const path = typeof req.query.path === 'string' ? req.query.path : undefined;
    res.json(ctx.ledger.requests.filter(r => path === undefined || r.path === path));
  });
  router.get('/__sandbox/ipn', (req, res) => {
    const { transactionID, orderNo } = req.query;
    res.json(
      ctx.ledger.ipnAttempts.filter(
        a =>
          (transactionID === undefined || a.transactionID === transactionID) &&
          (orderNo === undefined || a.orderNo === orderNo),
      ),
    );
  });
  router.get('/__sandbox/transactions', (_req, res) => {
    res.json([...ctx.ledger.transactions.values()].map(txn => describe(ctx, txn)));
  });
  router.get('/__sandbox/transactions/:id', (req, res) => {
    const txn = ctx.ledger.transactions.get(String(req.params.id));
    if (!txn) return notFound(res, 'transaction');
    res.json(describe(ctx, txn));
  });
  router.post('/__sandbox/transactions/:id/complete', json, (req, res) => complete(ctx, req, res));
  router.post('/__sandbox/transactions/:id/cancel', (req, res) => {
    req.body = { outcome: 'cancel' };
    return complete(ctx, req, res);
  });
  router.get('/__sandbox/tokens', (_req, res) => {
    // The sandbox keeps the full test-card number to behave like the card; it is never shown.
    res.json([...ctx.ledger.tokens.values()].map(({ cardNumber: _n, ...token }) => token));
  });
  router.get('/__sandbox/links', (_req, res) => res.json([...ctx.ledger.links.values()]));
  router.post('/__sandbox/links/:orderNo/pay', json, async (req, res) => {
    const link = ctx.ledger.links.get(String(req.params.orderNo));
    if (!link) return notFound(res, 'payment link');
    if (link.state === 'paid' || ctx.options.now() > link.expiresAt) {
      return res.status(409).json({
        error: {
          code: 'link_not_open',
          message: `payment link is ${link.state === 'paid' ? 'paid' : 'expired'}`,
        },
      });
    }
    link.state = 'paid';
    link.paidAt = ctx.options.now();
    link.payer = isStringRecord(req.body) ? req.body : {};
    const delivery = sendLinkIpn(ctx, link, mergeFaults(ctx.globalFaults, link.faults));
    if (req.query.wait === 'ipn') await delivery;
    res.json(link);
  });
  router.get('/__sandbox/faults', (_req, res) => res.json(ctx.globalFaults));
  router.post('/__sandbox/faults', json, (req, res) => {
    const list = (req.body as { faults?: unknown } | undefined)?.faults;
    if (typeof list !== 'string') {
      res
        .status(400)
        .json({ error: { code: 'bad_faults', message: 'send {"faults": "<token>,<token>"}' } });
      return;
    }
    try {
      ctx.globalFaults = parseFaults(list);
    } catch (error) {
      if (!(error instanceof FaultTokenError)) throw error;
      res.status(400).json({ error: { code: 'bad_faults', message: error.message } });
      return;
    }
    res.json(ctx.globalFaults);
  });
  router.post('/__sandbox/reset', (_req, res) => {
    ctx.ipn.cancelAll();
    ctx.ledger.clear();
    ctx.globalFaults = parseFaults(ctx.options.faults);
    res.status(204).end();
  });
  return router;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every(v => typeof v === 'string')
  );
}

function notFound(res: Response, what: string): void {
  res.status(404).json({ error: { code: 'not_found', message: `no such ${what}` } });
}

function describe(ctx: SandboxContext, txn: Transaction) {
  expireIfStale(ctx, txn);
  const { pendingCard: _card, ...rest } = txn;
  return rest;
}

async function complete(ctx: SandboxContext, req: Request, res: Response): Promise<void> {
  const txn = ctx.ledger.transactions.get(String(req.params.id));
  if (!txn) return notFound(res, 'transaction');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const outcome = toOutcome(txn, body);
  if (!outcome) {
    res.status(400).json({
      error: { code: 'bad_outcome', message: 'outcome must be success, failure or cancel' },
    });
    return;
  }
  try {
    const finish = finishPayment(ctx, txn, outcome);
    if (req.query.wait === 'ipn') await finish.ipnSettled;
    res.json({ transaction: describe(ctx, txn), callback: finish.callback ?? null });
  } catch (error) {
    if (!(error instanceof PaymentFinishedError)) throw error;
    res.status(409).json({ error: { code: 'already_finished', message: error.message } });
  }
}

function toOutcome(txn: Transaction, body: Record<string, unknown>): Outcome | undefined {
  const card = typeof body.card === 'string' ? findTestCard(body.card) : undefined;
  const account = card ? cardAccount(card, card.holder ?? 'SANDBOX TESTER') : txn.account;
  const paymentMethod =
    typeof body.paymentMethod === 'string'
      ? body.paymentMethod
      : (card?.method ?? txn.paymentMethod);
  const sourceType = typeof body.sourceType === 'string' ? body.sourceType : txn.sourceType;
  switch (body.outcome) {
    case 'success':
      return { result: 'success', account, cardNumber: card?.number, paymentMethod, sourceType };
    case 'failure':
      return {
        result: 'failure',
        code: typeof body.code === 'string' ? body.code : '505',
        message: typeof body.message === 'string' ? body.message : 'Authentication Failure',
        account,
        paymentMethod,
        sourceType,
      };
    case 'cancel':
      return { result: 'cancel' };
    default:
      return undefined;
  }
}
