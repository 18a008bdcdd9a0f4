/**
 * Hosted pages on the sandbox's own origin: method choice, the test cards, the OTP step, wallets and QR,
 * cancel, and the redirect back to the merchant. Framable (they live in the merchant's iframe) unless the
 * order carries the `deny-framing` fault.
 */

import express, { type Request, type Response } from 'express';
import {
  PaymentMethod,
  SourceOfFund,
  TEST_OTP,
  domesticBanks,
  findTestCard,
  testCards,
  type PaymentMethod as Method,
} from '@galaxy-pay/protocol';
import { cardAccount, checkCard } from './cards.js';
import type { SandboxContext } from './context.js';
import { escapeHtml as e, formatAmount, layout } from './html.js';
import type { Transaction, TransactionKind } from './ledger.js';
import {
  PaymentFinishedError,
  cardOutcome,
  expireIfStale,
  faultsFor,
  finishPayment,
  type BrowserCallback,
  type Outcome,
} from './payments.js';
import { pickLang, strings, type Lang, type Strings } from './strings.js';

const PAGE_KINDS: Record<string, TransactionKind> = {
  pay: 'pay',
  payWithOption: 'payWithOption',
  checkout: 'checkout',
  qr: 'payWithQR',
};
const CHOOSABLE: Method[] = ['DOMESTIC', 'INTERNATIONAL', 'WALLET', 'QRPAY'];

interface PageContext {
  txn: Transaction;
  lang: Lang;
  t: Strings;
  base: string;
}

/**
 * Chromium ignores `autofocus` in a cross-origin frame ("Blocked autofocusing on a <input> element in a
 * cross-origin subframe"), which is where the OTP step runs in the merchant's dialog; a script's `focus()`
 * is allowed there. No `allow` attribute of the iframe changes that (`focus-without-user-activation` is an
 * origin trial only).
 */
const AUTOFOCUS_SCRIPT = "document.querySelector('[autofocus]')?.focus();\n";

export function pagesRouter(ctx: SandboxContext): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  router.get('/__assets/autofocus.js', (_req, res) => {
    res.set('cache-control', 'no-cache').type('js').send(AUTOFOCUS_SCRIPT);
  });
  router.get('/:kind/:id', (req, res) =>
    withTransaction(ctx, req, res, page => showPage(ctx, req, res, page)),
  );
  router.post('/:kind/:id/card', form, (req, res) =>
    withTransaction(ctx, req, res, page => submitCard(ctx, req, res, page)),
  );
  router.post('/:kind/:id/otp', form, (req, res) =>
    withTransaction(ctx, req, res, page => submitOtp(ctx, req, res, page)),
  );
  router.post('/:kind/:id/approve', form, (req, res) =>
    withTransaction(ctx, req, res, page => submitApproval(ctx, req, res, page)),
  );
  router.post('/:kind/:id/cancel', form, (req, res) =>
    withTransaction(ctx, req, res, page => finish(ctx, res, page, { result: 'cancel' })),
  );
  return router;
}

/** Headers of every hosted page: strict CSP, framable by anyone unless `deny-framing`. */
export function pageHeaders(res: Response, denyFraming: boolean): void {
  res.set({
    'content-security-policy': `default-src 'self'; img-src 'self' data:; form-action *; base-uri 'none'; frame-ancestors ${denyFraming ? "'none'" : '*'}`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  });
  if (denyFraming) res.set('x-frame-options', 'DENY');
}

function withTransaction(
  ctx: SandboxContext,
  req: Request,
  res: Response,
  next: (page: PageContext) => void,
): void {
  const kind = PAGE_KINDS[String(req.params.kind)];
  const txn = ctx.ledger.transactions.get(String(req.params.id));
  const lang = pickLang(req.query.lang, txn?.data.language);
  const t = strings[lang];
  if (!kind || !txn || txn.kind !== kind) {
    pageHeaders(res, false);
    res
      .status(404)
      .type('html')
      .send(layout({ title: t.notFound, lang, body: `<h1>${e(t.notFound)}</h1>` }));
    return;
  }
  pageHeaders(res, faultsFor(ctx, txn).denyFraming === true);
  next({ txn, lang, t, base: `/${String(req.params.kind)}/${txn.transactionID}` });
}

function render(res: Response, page: PageContext, body: string, status = 200): void {
  const other: Lang = page.lang === 'vi' ? 'en' : 'vi';
  const langLink = `<nav class="lang"><a href="?lang=${other}">${other === 'vi' ? 'Tiếng Việt' : 'English'}</a></nav>`;
  res
    .status(status)
    .type('html')
    .send(layout({ title: page.t.title, lang: page.lang, body: body + langLink }));
}

function header(page: PageContext): string {
  const { txn, t, lang } = page;
  return `<p class="muted">${e(t.order)} ${e(txn.data.orderNumber ?? txn.orderID)}</p>
<h1>${e(txn.data.orderDescription)}</h1>
<p class="amount">${e(formatAmount(txn.amount, txn.currency, lang))}</p>`;
}

function cancelButton(page: PageContext): string {
  return `<form method="post" action="${e(page.base)}/cancel?lang=${page.lang}"><button class="secondary" type="submit">${e(page.t.cancel)}</button></form>`;
}

function showPage(ctx: SandboxContext, req: Request, res: Response, page: PageContext): void {
  const { txn, t } = page;
  expireIfStale(ctx, txn);
  if (txn.state !== 'processing') return showFinished(res, page);
  if (txn.pendingCard?.otp) return render(res, page, otpForm(page));
  if (txn.kind === 'pay' && txn.data.sourceOfFund === SourceOfFund.Token) {
    return render(res, page, savedCardForm(page));
  }
  if (txn.kind === 'payWithQR') {
    return render(
      res,
      page,
      approvalForm(page, String(txn.paymentMethod), t.qrPrompt, String(txn.sourceType)),
    );
  }
  const chosen =
    typeof req.query.method === 'string' && (CHOOSABLE as string[]).includes(req.query.method)
      ? (req.query.method as Method)
      : undefined;
  const method = txn.kind === 'pay' ? (txn.paymentMethod as Method) : chosen;
  if (!method) return render(res, page, methodChoice(page));
  render(res, page, methodForm(page, method));
}

function methodChoice(page: PageContext): string {
  const { t, base, lang, txn } = page;
  const preferred = txn.paymentMethod;
  const order = [...CHOOSABLE].sort((a, b) => Number(b === preferred) - Number(a === preferred));
  const links = order
    .map(m => `<a href="${e(base)}?method=${m}&amp;lang=${lang}">${e(t[m])}</a>`)
    .join('');
  return `${header(page)}<h2>${e(t.chooseMethod)}</h2><div class="methods">${links}</div><div class="actions">${cancelButton(page)}</div>`;
}

function methodForm(page: PageContext, method: Method, error?: string): string {
  const { t } = page;
  if (method === PaymentMethod.Domestic || method === PaymentMethod.International) {
    return cardForm(page, method, error);
  }
  const prompt = method === PaymentMethod.QrPay ? t.qrPrompt : t.walletPrompt;
  return approvalForm(page, method, prompt, String(page.txn.sourceType ?? method));
}

function cardForm(page: PageContext, method: 'DOMESTIC' | 'INTERNATIONAL', error?: string): string {
  const { t, base, lang, txn } = page;
  const domestic = method === PaymentMethod.Domestic;
  const bankSelect =
    domestic && !txn.sourceType
      ? `<label>${e(t.bank)}<select name="sourceType" required><option value="">${e(t.anyBank)}</option>${domesticBanks.map(b => `<option>${e(b)}</option>`).join('')}</select></label>`
      : '';
  const cards = testCards
    .filter(c => c.method === method)
    .map(
      c =>
        `<li><code>${e(c.number)}</code> ${e(c.date)}${c.cvv ? ` CVV ${e(c.cvv)}` : ''}${c.otp ? ' · OTP' : ''}${c.outcome === 'decline' ? ' · ✗' : ''}</li>`,
    )
    .join('');
  return `${header(page)}<h2>${e(t[method])}</h2>
${error ? `<p class="error" role="alert">${e(t.cardRejected)}: ${e(error)}</p>` : ''}
<form method="post" action="${e(base)}/card?lang=${lang}">
<input type="hidden" name="paymentMethod" value="${e(method)}">
${bankSelect}
<label>${e(t.cardNumber)}<input name="cardNumber" inputmode="numeric" autocomplete="cc-number" required></label>
<label>${e(t.cardHolder)}<input name="cardHolderName" autocomplete="cc-name" required></label>
<div class="row">
<label>${e(domestic ? t.issueDate : t.expiry)}<input name="${domestic ? 'cardIssueDate' : 'cardExpireDate'}" placeholder="MM/YY" required></label>
${domestic ? '' : `<label>${e(t.cvv)}<input name="cardVerificationValue" inputmode="numeric" autocomplete="cc-csc" required></label>`}
</div>
<button type="submit">${e(t.pay)}</button>
</form>
<div class="actions">${cancelButton(page)}</div>
<details class="hint"><summary>${e(t.testCards)}</summary><ul>${cards}</ul></details>`;
}

function approvalForm(
  page: PageContext,
  method: string,
  prompt: string,
  sourceType: string,
): string {
  const { t, base, lang, txn } = page;
  const qr = txn.qrCode ? `<p class="qr" data-qr>${e(txn.qrCode)}</p>` : '';
  return `${header(page)}<h2>${e(sourceType)}</h2><p>${e(prompt)}</p>${qr}
<form method="post" action="${e(base)}/approve?lang=${lang}">
<input type="hidden" name="paymentMethod" value="${e(method)}">
<input type="hidden" name="sourceType" value="${e(sourceType)}">
<button type="submit" name="decision" value="approve">${e(t.approve)}</button>
<button class="secondary" type="submit" name="decision" value="decline">${e(t.decline)}</button>
</form>
<div class="actions">${cancelButton(page)}</div>`;
}

function savedCardForm(page: PageContext): string {
  const { t, base, lang, txn } = page;
  return `${header(page)}<h2>${e(t.savedCard)}</h2><p><code>${e(txn.account?.accountNumber ?? '')}</code> ${e(txn.account?.accountBrand ?? '')}</p>
<form method="post" action="${e(base)}/approve?lang=${lang}"><button type="submit" name="decision" value="approve">${e(t.pay)}</button></form>
<div class="actions">${cancelButton(page)}</div>`;
}

function otpForm(page: PageContext): string {
  const { t, base, lang } = page;
  return `${header(page)}<h2>${e(t.otpTitle)}</h2><p class="hint">${e(t.otpHint)}</p>
<form method="post" action="${e(base)}/otp?lang=${lang}">
<label>${e(t.otp)}<input name="otp" autocomplete="one-time-code" required autofocus></label>
<button type="submit">${e(t.confirm)}</button>
</form>
<script src="/__assets/autofocus.js"></script>
<div class="actions">${cancelButton(page)}</div>`;
}

function submitCard(ctx: SandboxContext, req: Request, res: Response, page: PageContext): void {
  const fields = req.body as Record<string, unknown>;
  const method = (
    page.txn.kind === 'pay' ? page.txn.paymentMethod : fields.paymentMethod
  ) as Method;
  if (method !== PaymentMethod.Domestic && method !== PaymentMethod.International) {
    return render(res, page, methodChoice(page), 400);
  }
  // A stale form must not record card details on a transaction that has expired meanwhile.
  expireIfStale(ctx, page.txn);
  if (page.txn.state !== 'processing') return showFinished(res, page);
  const checked = checkCard({ ...fields, paymentMethod: method }, '');
  if ('error' in checked) return render(res, page, cardForm(page, method, checked.error), 400);
  const { card } = checked;
  const txn = page.txn;
  txn.paymentMethod = method;
  if (typeof fields.sourceType === 'string' && fields.sourceType !== '')
    txn.sourceType = fields.sourceType;
  txn.account = cardAccount(card, String(fields.cardHolderName ?? ''));
  if (card.otp) {
    txn.pendingCard = card;
    res.redirect(303, `${page.base}?lang=${page.lang}`);
    return;
  }
  finish(ctx, res, page, cardOutcome(txn, card.number, card.outcome));
}

function submitOtp(ctx: SandboxContext, req: Request, res: Response, page: PageContext): void {
  const card = page.txn.pendingCard;
  if (!card || page.txn.state !== 'processing') {
    res.redirect(303, `${page.base}?lang=${page.lang}`);
    return;
  }
  page.txn.pendingCard = undefined;
  const otp = (req.body as Record<string, unknown>).otp;
  if (otp !== TEST_OTP) {
    return finish(ctx, res, page, {
      result: 'failure',
      code: '505',
      message: 'Authentication Failure: wrong OTP',
      account: page.txn.account,
      paymentMethod: page.txn.paymentMethod,
      sourceType: page.txn.sourceType,
    });
  }
  finish(ctx, res, page, cardOutcome(page.txn, card.number, card.outcome));
}

function submitApproval(ctx: SandboxContext, req: Request, res: Response, page: PageContext): void {
  const fields = req.body as Record<string, unknown>;
  const txn = page.txn;
  if (txn.state !== 'processing') return showFinished(res, page);
  if (txn.kind === 'pay' && txn.data.sourceOfFund === SourceOfFund.Token) {
    const saved = ctx.ledger.tokens.get(String(txn.data.token));
    const card = saved ? findTestCard(saved.cardNumber) : undefined;
    if (!card) {
      return finish(ctx, res, page, {
        result: 'failure',
        code: '400',
        message: 'Token no longer exists',
        paymentMethod: txn.paymentMethod,
      });
    }
    if (card.otp) {
      txn.pendingCard = card;
      res.redirect(303, `${page.base}?lang=${page.lang}`);
      return;
    }
    return finish(ctx, res, page, cardOutcome(txn, card.number, card.outcome));
  }
  const method =
    txn.kind === 'payWithQR'
      ? txn.paymentMethod
      : String(fields.paymentMethod ?? txn.paymentMethod);
  const sourceType =
    typeof fields.sourceType === 'string' && fields.sourceType !== ''
      ? fields.sourceType
      : txn.sourceType;
  finish(
    ctx,
    res,
    page,
    fields.decision === 'approve'
      ? { result: 'success', paymentMethod: method, sourceType }
      : {
          result: 'failure',
          code: '505',
          message: 'Authentication Failure: declined in the app',
          paymentMethod: method,
          sourceType,
        },
  );
}

function finish(ctx: SandboxContext, res: Response, page: PageContext, outcome: Outcome): void {
  try {
    const { callback } = finishPayment(ctx, page.txn, outcome);
    if (callback) return sendToMerchant(res, callback, page.t.continue);
  } catch (error) {
    if (!(error instanceof PaymentFinishedError)) throw error;
  }
  showFinished(res, page);
}

function showFinished(res: Response, page: PageContext): void {
  const { txn, t } = page;
  const words: Record<Transaction['state'], [string, string]> = {
    processing: ['…', t.title],
    captured: ['✓', t.paid],
    authorized: ['✓', t.authorized],
    failed: ['✗', t.failed],
    cancelled: ['✗', t.cancelled],
    expired: ['⌛', t.expired],
    voided: ['✗', t.voided],
  };
  const [icon, title] = words[txn.state];
  render(
    res,
    page,
    `${header(page)}<p class="outcome" aria-hidden="true">${icon}</p><h2 role="status">${e(title)}</h2><p class="muted">${e(txn.resultMessage)}</p><p>${e(t.closeWindow)}</p>`,
  );
}

/** Sends the browser back to the merchant: a 303 with the query, or an auto-submitted form POST. */
export function sendToMerchant(
  res: Response,
  callback: BrowserCallback,
  continueLabel: string,
): void {
  if (callback.method === 'GET') {
    res.redirect(303, callback.location);
    return;
  }
  res.type('html').send(`<!doctype html><html><head><meta charset="utf-8"><title>Galaxy Pay</title>
<script src="/__assets/autosubmit.js"></script></head><body>
<form id="callback" method="post" action="${e(callback.url)}">
<input type="hidden" name="data" value="${e(callback.envelope.data)}">
<input type="hidden" name="signature" value="${e(callback.envelope.signature)}">
<noscript><button type="submit">${e(continueLabel)}</button></noscript>
</form></body></html>`);
}
