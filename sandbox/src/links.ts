/**
 * Payment links: their creation (`createPaymentLink`), the short-link page where a payer fills the requested
 * fields and pays, and the link's IPN in either documented shape (`linkIpnShape`), with what the payer typed
 * in `extraData`.
 */

import express, { type Request, type Response } from 'express';
import {
  ResponseCode,
  encodeCallback,
  formatGatewayDateTime,
  type PaymentLinkCallback,
  type PaymentLinkTransactionCallbackData,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';
import { mergeFaults, type FaultPlan } from './faults.js';
import { escapeHtml as e, formatAmount, layout } from './html.js';
import type { PaymentLink } from './ledger.js';
import { pageHeaders } from './pages.js';
import { duplicateOrderId, ok, type Operation } from './reply.js';
import { pickLang, strings, type Strings } from './strings.js';
import { amountOf } from './transactions.js';

type PaymentLinkTransactionCallback = Omit<TransactionCallback, 'responseData'> & {
  responseData: PaymentLinkTransactionCallbackData;
};

const FIELD_KEYS = ['fullname', 'email', 'phone', 'shippingAddress'] as const;
type FieldKey = (typeof FIELD_KEYS)[number];

const UNIT_MS = { DAY: 86_400_000, HOUR: 3_600_000, MINUTE: 60_000 } as const;

/** `createPaymentLink`: a link with its short URL; api.ts has checked the call's signature and fields. */
export const createPaymentLink: Operation = (ctx, { request, data, faults }) => {
  const orderID = String(data.orderID);
  if (ctx.ledger.linkOrderIds.has(orderID)) throw duplicateOrderId(orderID);
  const unit = (data.expiryUnit as keyof typeof UNIT_MS | undefined) ?? 'DAY';
  const { orderNo, code } = ctx.ledger.newLinkReference();
  const now = ctx.options.now();
  ctx.ledger.links.set(orderNo, {
    orderNo,
    code,
    requestID: String(request.requestID),
    data,
    amount: amountOf(data.orderAmount),
    currency: String(data.orderCurrency),
    expiresAt: new Date(now.getTime() + amountOf(data.expiryDuration) * UNIT_MS[unit]),
    state: 'open',
    faults,
  });
  ctx.ledger.linkOrderIds.add(orderID);
  return ok({ orderNo, shortLink: `${ctx.origin()}/link/${code}` });
};

export function linksRouter(ctx: SandboxContext): express.Router {
  const router = express.Router();
  router.get('/link/:code', (req, res) => showLink(ctx, req, res));
  router.post(
    '/link/:code/pay',
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
    (req, res) => payLink(ctx, req, res),
  );
  return router;
}

/** The payer fields the link page shows: the requested ones it has an input for. */
function wantedFields(link: PaymentLink): FieldKey[] {
  return (link.data.paymentFields as string[]).filter((f): f is FieldKey =>
    (FIELD_KEYS as readonly string[]).includes(f),
  );
}

function linkState(ctx: SandboxContext, link: PaymentLink): 'open' | 'paid' | 'expired' {
  if (link.state === 'paid') return 'paid';
  return ctx.options.now() > link.expiresAt ? 'expired' : 'open';
}

function lookup(ctx: SandboxContext, req: Request, res: Response) {
  const link = ctx.ledger.findLinkByCode(String(req.params.code));
  const lang = pickLang(req.query.lang, link?.data.language);
  const t = strings[lang];
  pageHeaders(res, false);
  if (!link) {
    res
      .status(404)
      .type('html')
      .send(layout({ title: t.notFound, lang, body: `<h1>${e(t.notFound)}</h1>` }));
    return undefined;
  }
  return { link, lang, t };
}

function showLink(ctx: SandboxContext, req: Request, res: Response, error?: string): void {
  const found = lookup(ctx, req, res);
  if (!found) return;
  const { link, lang, t } = found;
  const state = linkState(ctx, link);
  const head = `<p class="muted">${e(link.data.orderName)}</p><h1>${e(link.data.orderDescription)}</h1>
<p class="amount">${e(formatAmount(link.amount, link.currency, lang))}</p>`;
  if (state !== 'open') {
    const title = state === 'paid' ? t.linkPaid : t.linkExpired;
    res
      .status(state === 'expired' ? 410 : 200)
      .type('html')
      .send(layout({ title, lang, body: `${head}<h2 role="status">${e(title)}</h2>` }));
    return;
  }
  const inputs = wantedFields(link)
    .map(
      f =>
        `<label>${e(t[f as keyof Strings])}<input name="${f}" ${f === 'email' ? 'type="email" ' : ''}required></label>`,
    )
    .join('');
  const methods = (link.data.paymentMethods as string[])
    .map(m => `<option>${e(m)}</option>`)
    .join('');
  res
    .status(error ? 400 : 200)
    .type('html')
    .send(
      layout({
        title: t.title,
        lang,
        body: `${head}${error ? `<p class="error" role="alert">${e(error)}</p>` : ''}
<form method="post" action="/link/${e(link.code)}/pay?lang=${lang}">${inputs}
<label>${e(t.method)}<select name="method">${methods}</select></label>
<button type="submit">${e(t.pay)}</button></form>`,
      }),
    );
}

function payLink(ctx: SandboxContext, req: Request, res: Response): void {
  const found = lookup(ctx, req, res);
  if (!found) return;
  const { link, t } = found;
  if (linkState(ctx, link) !== 'open') return showLink(ctx, req, res);
  const body = req.body as Record<string, unknown>;
  const payer: Record<string, string> = {};
  // Only the fields the page asks for: an unknown one has no input and could never be filled.
  for (const key of wantedFields(link)) {
    const value = body[key];
    if (typeof value !== 'string' || value.trim() === '') return showLink(ctx, req, res, `${key}?`);
    payer[key] = value.trim().slice(0, 250);
  }
  link.state = 'paid';
  link.paidAt = ctx.options.now();
  link.payer = payer;
  sendLinkIpn(ctx, link, mergeFaults(ctx.globalFaults, link.faults));
  res.type('html').send(
    layout({
      title: t.paid,
      lang: found.lang,
      body: `<p class="outcome" aria-hidden="true">✓</p><h2 role="status">${e(t.paid)}</h2>`,
    }),
  );
}

/** The payment-link IPN. Returns the delivery, or undefined when there is nowhere (or no wish) to send it. */
export function sendLinkIpn(
  ctx: SandboxContext,
  link: PaymentLink,
  faults: FaultPlan,
): Promise<unknown> | undefined {
  const url =
    typeof link.data.ipnURL === 'string' && link.data.ipnURL !== ''
      ? link.data.ipnURL
      : ctx.options.merchantUrls?.ipnURL;
  if (!url || faults.noIpn) return undefined;
  const payer = link.payer ?? {};
  const extraData = {
    fullName: payer.fullname,
    phone: payer.phone,
    email: payer.email,
    shippingAddress: payer.shippingAddress,
  };
  const amount = String(link.amount + (faults.amountDelta ?? 0));
  const payload: PaymentLinkCallback | PaymentLinkTransactionCallback =
    ctx.options.linkIpnShape === 'table'
      ? {
          requestId: link.requestID,
          responseDateTime: ctx.clock.now(),
          responseCode: ResponseCode.Success,
          responseMessage: 'Success',
          responseData: {
            orderNo: link.orderNo,
            orderReference: String(link.data.orderID),
            orderAmount: amount,
            extraData,
          },
        }
      : {
          requestID: link.requestID,
          responseDateTime: ctx.clock.now(),
          responseCode: ResponseCode.Success,
          responseMessage: 'Giao dịch thanh toán thành công.',
          responseData: {
            transactionID: (link.transactionID ??= ctx.ledger.newTransactionId(ctx.options.now())),
            orderID: link.orderNo,
            // 32 hex in the example: read as the merchant's create-time orderID [INFERRED].
            orderNumber: String(link.data.orderID),
            orderAmount: amount,
            orderDescription: String(link.data.orderDescription),
            orderCurrency: link.currency,
            orderDateTime: formatGatewayDateTime(link.paidAt ?? ctx.options.now()),
            extraData: { ...extraData, paymentLink: `${ctx.origin()}/link/${link.code}` },
            language: link.data.language === 'en' ? 'en' : 'vi',
          },
        };
  return ctx.ipn.deliver({
    url,
    envelope: encodeCallback(payload, ctx.options.salt),
    orderNo: link.orderNo,
    delayMs: (faults.lateIpnSeconds ?? 0) * 1000,
  }).settled;
}
