/**
 * `GET|POST /return/:id/:kind`: where the gateway sends the shopper's browser (inside the merchant's iframe
 * or popup). The signed data is verified and kept as browser evidence, but it changes nothing by itself: it
 * only makes the signer ask the gateway. The page then tells the widget to look (postMessage to the exact
 * merchant origin, with the session nonce), or, in redirect mode, sends the shopper back to the shop.
 * The session comes from the path, never from a cookie (Safari, SameSite: T37).
 */

import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { CallbackError, verifyCallback } from '@galaxy-pay/protocol';
import { QueryThrottle } from '../../gateway/query-throttle.js';
import type { Logger } from '../../logger.js';
import { SESSION_ID } from '../../payments/ids.js';
import { reconcile, type ReconcileDeps } from '../../payments/reconcile.js';
import type { PaymentEvent, Session } from '../../store/store.js';

export interface ReturnDeps extends ReconcileDeps {
  salt: string;
  logger: Logger;
  /** Merchant origins allowed to frame this page. */
  allowedOrigins: readonly string[];
}

const WORDS = {
  vi: {
    title: 'Đang xác nhận thanh toán',
    body: 'Đang xác nhận kết quả với Galaxy Pay. Bạn có thể đóng cửa sổ này.',
  },
  en: {
    title: 'Confirming your payment',
    body: 'Confirming the result with Galaxy Pay. You can close this window.',
  },
};

/** The return page asks the gateway at most this often per session. */
const QUERY_INTERVAL_MS = 2000;

/** The return page's handler, for GET and for POST (routes.ts puts the form parser before the POST). */
export function returnPage(deps: ReturnDeps): RequestHandler {
  const throttle = new QueryThrottle(QUERY_INTERVAL_MS);
  return async (req: Request, res: Response) => {
    const kind = String(req.params.kind);
    const id = String(req.params.id);
    const session =
      (kind === 'result' || kind === 'cancel') && SESSION_ID.test(id)
        ? await deps.store.getSession(id)
        : null;
    if (!session) {
      pageHeaders(res, deps.allowedOrigins, undefined);
      res
        .status(404)
        .type('html')
        .send('<!doctype html><meta charset="utf-8"><title>Not found</title><p>Not found.</p>');
      return;
    }
    const fields = (req.method === 'POST' ? req.body : req.query) as
      Record<string, unknown> | undefined;
    await recordBrowserEvidence(deps, session, kind as 'result' | 'cancel', fields ?? {});
    // One gateway query per session per interval, however often the page is (re)loaded.
    const due = throttle.take(session.id, deps.now().getTime());
    const current = due ? (await reconcile(deps, session)).session : session;
    if (current.returnUrl) {
      const target = new URL(current.returnUrl);
      target.searchParams.set('galaxy_pay_session', current.id);
      res.set('cache-control', 'no-store').redirect(303, target.href);
      return;
    }
    renderNotifyPage(deps, res, current);
  };
}

/** Stores the redirect's signed data as evidence (verified or not); never moves state (rule 4). */
async function recordBrowserEvidence(
  deps: ReturnDeps,
  session: Session,
  kind: 'result' | 'cancel',
  fields: Record<string, unknown>,
): Promise<void> {
  if (fields.data === undefined && fields.signature === undefined) return;
  const raw = typeof fields.data === 'string' ? fields.data.slice(0, 8192) : '';
  const event: PaymentEvent = {
    sessionId: session.id,
    kind,
    transactionId: null,
    raw,
    verified: false,
    verdict: 'ignored',
    detail: 'browser evidence: triggers a query only',
    receivedAt: deps.now(),
  };
  try {
    const payload = verifyCallback({ data: fields.data, signature: fields.signature }, deps.salt);
    const orderId =
      'responseData' in payload
        ? (payload.responseData as { orderID?: unknown }).orderID
        : undefined;
    event.verified = true;
    if (orderId !== session.gatewayOrderId) {
      event.verdict = 'needs_review';
      event.detail = 'signed browser data of another order (replayed?)';
      deps.logger.warn({ sessionId: session.id }, 'return page got signed data of another order');
    }
  } catch (error) {
    if (!(error instanceof CallbackError)) throw error;
    event.verified = error.signed;
    event.verdict = error.signed
      ? 'rejected_schema'
      : error.code === 'invalid_signature'
        ? 'bad_signature'
        : 'malformed';
    event.detail = error.code;
  }
  await deps.store.recordEvent(event);
}

/** Headers of the return page: framable by the merchant origins only, opener kept, never cached. */
function pageHeaders(
  res: Response,
  allowedOrigins: readonly string[],
  nonce: string | undefined,
): void {
  const ancestors = allowedOrigins.length > 0 ? allowedOrigins.join(' ') : "'none'";
  const script = nonce ? `'nonce-${nonce}'` : "'none'";
  res.set({
    'content-security-policy': `default-src 'none'; script-src ${script}; style-src ${script}; base-uri 'none'; form-action 'none'; frame-ancestors ${ancestors}`,
    // unsafe-none keeps window.opener for the popup; X-Frame-Options cannot name other origins, so none.
    'cross-origin-opener-policy': 'unsafe-none',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  });
  res.removeHeader('x-frame-options');
}

/** The tiny page that wakes the widget up. Gateway strings are never rendered (T19). */
function renderNotifyPage(deps: ReturnDeps, res: Response, session: Session): void {
  const nonce = randomBytes(16).toString('base64');
  pageHeaders(res, deps.allowedOrigins, nonce);
  const words = session.locale === 'en' ? WORDS.en : WORDS.vi;
  // JSON in a script of type application/json is inert; `<` is escaped so it cannot end the element.
  const message = JSON.stringify({
    origin: session.merchantOrigin,
    message: { type: 'galaxy-pay:return', sessionId: session.id, nonce: session.nonce },
  }).replace(/</g, '\\u003c');
  res.status(200).type('html').send(`<!doctype html>
<html lang="${session.locale === 'en' ? 'en' : 'vi'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${words.title}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#1d1b2c}p{max-width:28rem;padding:1rem;text-align:center}</style>
</head><body><p role="status">${words.body}</p>
<script type="application/json" id="galaxy-pay-return">${message}</script>
<script nonce="${nonce}">
(function () {
  var info = JSON.parse(document.getElementById('galaxy-pay-return').textContent);
  if (!info.origin) return;
  var target = window.opener || (window.parent !== window ? window.parent : null);
  // An explicit targetOrigin: only the merchant page that opened the session can read this.
  if (target) target.postMessage(info.message, info.origin);
})();
</script></body></html>`);
}
