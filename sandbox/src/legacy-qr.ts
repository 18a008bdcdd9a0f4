/**
 * The archived QR API (`uat-pms.galaxypay.vn/api-ex/...`), for merchants still on it. What the docs show
 * (GitBook › Archive › QR Payment (Old version)): the query path `api-ex/qrpayment/query` and the headers
 * `X-Caller`, `X-Api-Key`, `X-Signature`; the archived payment-link page's example curl posts to
 * `api-ex/qrpayment/create` with the same headers and a flat body (`requestId`, `amount`, `description`,
 * `orderReference`, `ipnUrl`) answered by `{requestId, responseDateTime, responseCode, responseData}`. The
 * create-QR page itself, the signature formula and the status values are not available: those parts are
 * [INFERRED] (ledger K9–K11), and the signature check can be switched off (`legacyQrSignature: 'unchecked'`).
 * `api-ex/qr/{create,status}` are served as aliases of the same two calls.
 */

import express, { type Request, type Response } from 'express';
import { sha256Hex, signText, signatureMatches } from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';
import type { Transaction } from './ledger.js';
import { vietQrPayload } from './qr.js';

/** One archived-API QR order. `status` values are [INFERRED]. */
export interface LegacyQrOrder {
  orderNo: string;
  requestId: string;
  caller: string;
  amount: number;
  description: string;
  orderReference: string | null;
  ipnUrl: string | null;
  qrCode: string;
  status: 'PENDING' | 'PAID' | 'EXPIRED';
  createdAt: string;
  expiresAt: string;
  paidAt: string | null;
}

/** A QR stays payable this long (the archived pages give no figure) [INFERRED]. */
const QR_TTL_MS = 15 * 60_000;
const AMOUNT = /^\d{1,16}$/;

interface LegacyReply {
  status: number;
  responseCode: string;
  responseMessage: string;
  responseData?: Record<string, unknown>;
}

const refuse = (status: number, message: string): LegacyReply => ({
  status,
  responseCode: String(status),
  responseMessage: message,
});

export function legacyQrRouter(ctx: SandboxContext): express.Router {
  const router = express.Router();
  const orders = new Map<string, LegacyQrOrder>();
  const requestIds = new Set<string>();
  // Raw text whatever the content type: the signature covers the exact bytes.
  const raw = express.text({ type: () => true, limit: '16kb', defaultCharset: 'utf-8' });

  const handle =
    (operation: (body: Record<string, unknown>, caller: string) => LegacyReply) =>
    (req: Request, res: Response) => {
      const text = typeof req.body === 'string' ? req.body : '';
      let requestId: unknown = null;
      let reply: LegacyReply;
      const caller = req.get('x-caller') ?? '';
      const apiKey = req.get('x-api-key');
      if (!caller || (ctx.options.legacyQrCaller && caller !== ctx.options.legacyQrCaller)) {
        reply = refuse(401, 'Unauthorized: unknown X-Caller');
      } else if (apiKey === undefined || sha256Hex(apiKey) !== sha256Hex(ctx.options.apiKey)) {
        reply = refuse(401, 'Unauthorized: Invalid X-Api-Key');
      } else if (
        ctx.options.legacyQrSignature === 'body+salt' &&
        !signatureMatches(text, req.get('x-signature'), ctx.options.salt)
      ) {
        reply = refuse(401, 'Unauthorized: Invalid X-Signature');
      } else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          reply = refuse(400, 'Bad Request: body is not a JSON object');
        } else {
          const fields = body as Record<string, unknown>;
          requestId = fields.requestId;
          reply =
            typeof fields.requestId !== 'string' ||
            fields.requestId === '' ||
            fields.requestId.length > 50
              ? refuse(400, 'Bad Request: requestId is required (at most 50 characters)')
              : operation(fields, caller);
        }
      }
      ctx.ledger.recordRequest({
        at: new Date().toISOString(),
        method: req.method,
        path: req.originalUrl.split('?')[0]!,
        headers: { ...req.headers },
        rawBody: text,
        verdict: {
          httpStatus: reply.status,
          responseCode: reply.responseCode,
          message: reply.responseMessage,
        },
      });
      const envelope: Record<string, unknown> = {
        requestId: typeof requestId === 'string' ? requestId : null,
        responseDateTime: ctx.clock.now(),
        responseCode: reply.responseCode,
        responseMessage: reply.responseMessage,
        ...(reply.responseData ? { responseData: reply.responseData } : {}),
      };
      const out = JSON.stringify(envelope);
      res
        .status(reply.status)
        .set({
          'content-type': 'application/json; charset=utf-8',
          'x-signature': signText(out, ctx.options.salt),
        })
        .send(out);
    };

  const create = handle((body, caller) => {
    const requestId = String(body.requestId);
    const amount = typeof body.amount === 'number' ? String(body.amount) : body.amount;
    if (typeof amount !== 'string' || !AMOUNT.test(amount) || Number(amount) < 1) {
      return refuse(400, 'Bad Request: amount must be a positive whole number (VND)');
    }
    for (const [name, max] of [
      ['description', 250],
      ['orderReference', 50],
      ['ipnUrl', 500],
    ] as const) {
      const value = body[name];
      if (value !== undefined && (typeof value !== 'string' || value.length > max)) {
        return refuse(400, `Bad Request: ${name} must be text of at most ${max} characters`);
      }
    }
    if (requestIds.has(requestId)) return refuse(409, 'Duplicate Request');
    requestIds.add(requestId);
    const now = ctx.options.now();
    const orderNo = ctx.ledger.newTransactionId(now);
    const order: LegacyQrOrder = {
      orderNo,
      requestId,
      caller,
      amount: Number(amount),
      description: typeof body.description === 'string' ? body.description : '',
      orderReference: typeof body.orderReference === 'string' ? body.orderReference : null,
      ipnUrl: typeof body.ipnUrl === 'string' ? body.ipnUrl : null,
      qrCode: vietQrPayload({
        amount: Number(amount),
        transactionID: orderNo,
      } as Pick<Transaction, 'amount' | 'transactionID'> as Transaction),
      status: 'PENDING',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + QR_TTL_MS).toISOString(),
      paidAt: null,
    };
    orders.set(orderNo, order);
    return {
      status: 200,
      responseCode: '200',
      responseMessage: 'Success',
      responseData: {
        orderNo,
        orderReference: order.orderReference,
        amount: order.amount,
        qrCode: order.qrCode,
        expiredAt: order.expiresAt,
      },
    };
  });

  const query = handle(body => {
    const order = typeof body.orderNo === 'string' ? orders.get(body.orderNo) : undefined;
    if (!order) return refuse(404, 'Transaction Not Found: orderNo is unknown');
    if (order.status === 'PENDING' && ctx.options.now().toISOString() > order.expiresAt) {
      order.status = 'EXPIRED';
    }
    return {
      status: 200,
      responseCode: '200',
      responseMessage: 'Success',
      responseData: {
        orderNo: order.orderNo,
        orderReference: order.orderReference,
        amount: order.amount,
        status: order.status,
        paidAt: order.paidAt,
      },
    };
  });

  router.post(['/api-ex/qrpayment/create', '/api-ex/qr/create'], raw, create);
  router.post(['/api-ex/qrpayment/query', '/api-ex/qr/status', '/api-ex/qr/query'], raw, query);

  // Inspection: list the orders, and pay one as a banking app scanning the QR would.
  router.get('/__sandbox/legacy-qr', (_req, res) => res.json([...orders.values()]));
  router.post('/__sandbox/legacy-qr/:orderNo/pay', (req, res) => {
    const order = orders.get(String(req.params.orderNo));
    if (!order) {
      res.status(404).json({ error: { code: 'not_found', message: 'no such QR order' } });
      return;
    }
    if (order.status === 'PENDING' && ctx.options.now().toISOString() > order.expiresAt) {
      order.status = 'EXPIRED';
    }
    if (order.status !== 'PENDING') {
      res.status(409).json({
        error: { code: 'qr_not_payable', message: `the QR order is ${order.status.toLowerCase()}` },
      });
      return;
    }
    order.status = 'PAID';
    order.paidAt = ctx.options.now().toISOString();
    res.json(order);
  });
  return router;
}
