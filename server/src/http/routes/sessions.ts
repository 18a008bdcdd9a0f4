/**
 * The widget's routes: open a session, read its verified status (JSON or Server-Sent Events), cancel it.
 * Thin: parse, call, respond.
 */

import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { isKnownSourceType, sourceTypes } from '@galaxy-pay/protocol';
import { SESSION_ID, openSession, ownsSession, randomId, type CheckoutDeps } from '../checkout.js';
import { HttpError, requestIdOf } from '../errors.js';
import { orderRefSchema, resolveOrder, type OrderInput, type ResolveOrder } from '../orders.js';
import { gatewayUnavailable, mayExpire, reconcile } from '../reconcile.js';
import { FINAL_STATUSES, type CancelReason, type Session } from '../store/store.js';
import type { SessionNotifier } from '../notifier.js';
import { QueryThrottle } from '../query-throttle.js';
import { planForWidget, type SavedCardsConfig } from '../tokens/cards.js';

/** Fields a browser must never send: money, callback URLs, card data, gateway operations (T04). */
const FORBIDDEN_FIELDS = new Set([
  'apiOperation',
  'ipnURL',
  'successURL',
  'failureURL',
  'cancelURL',
  'cardNumber',
  'cardHolderName',
  'cardExpireDate',
  'cardVerificationValue',
  'cardIssueDate',
  'token',
  'sourceOfFund',
  'extraData',
  'orderID',
  'signature',
  'apiKey',
]);

/** A browser's secret for one order (≥ 96 bits, base64url or hex). */
const CLIENT_KEY = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/, 'clientKey must be 16-64 base64url characters');

/**
 * Methods a shopper may ask for: every `paymentMethod` of the Pay table (docs › Pay; G3.5 §2.3.1 for HUB;
 * sample-dotnet `variables.ts` for BNPL/KREDIVO). HUB and BNPL still need the merchant's set-up at Galaxy Pay.
 */
const WIDGET_METHODS = ['DOMESTIC', 'INTERNATIONAL', 'WALLET', 'QRPAY', 'HUB', 'BNPL'] as const;
/** "sourceType NOT Required when paymentMethod = DOMESTIC or INTERNATIONAL" (docs › Pay): required here. */
const NEEDS_SOURCE_TYPE: ReadonlySet<string> = new Set(['HUB', 'BNPL']);

const createBody = z.strictObject({
  orderRef: orderRefSchema,
  locale: z.enum(['vi', 'en']).optional(),
  paymentMethod: z.enum(WIDGET_METHODS).optional(),
  sourceType: z
    .string()
    .regex(/^[A-Z0-9]{1,20}$/)
    .optional(),
  returnUrl: z.string().max(500).optional(),
  /** A customer handle minted by the merchant's back end (saved cards). */
  customerHandle: z.string().max(600).optional(),
  /** Save the card for the customer (PAY_WITH_CREATE_TOKEN). */
  saveCard: z.boolean().optional(),
  /** Pay with one of the customer's saved cards (its `tokenId` from GET /customer/tokens). */
  tokenId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22}$/)
    .optional(),
  /** WALLET: show a wallet QR code instead of the hosted page. QRPAY always is a QR code. */
  qr: z.boolean().optional(),
  /** The browser's secret for this order: the open session is handed back only to its holder. */
  clientKey: CLIENT_KEY.optional(),
});

const cancelBody = z
  .strictObject({ reason: z.enum(['user', 'closed']).optional(), clientKey: CLIENT_KEY.optional() })
  .optional();

export interface SessionRoutesDeps extends CheckoutDeps {
  allowedOrigins: readonly string[];
  resolve?: ResolveOrder;
  catalog?: Record<string, OrderInput>;
  notifier: SessionNotifier;
  /** Minimum time between two gateway queries for one session on reads. */
  queryIntervalMs: number;
  /** Saved cards (key and customer-handle secret); absent = off. */
  cards?: SavedCardsConfig;
  /** New sessions are authorize-only (`isAutoCapture: "false"`). */
  manualCapture?: boolean;
}

/** What the widget may know about a session: verified status, no secrets, no nonce. */
export function sessionView(session: Session) {
  return {
    sessionId: session.id,
    status: session.status,
    orderRef: session.orderRef,
    amount: session.amount,
    currency: session.currency,
    transactionId: session.transactionId,
    code: session.code,
    message: session.message,
    cancelReason: session.cancelReason,
    lateSuccess: session.lateSuccess,
    paidAt: session.paidAt?.toISOString() ?? null,
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** Turns a zod failure into the stable codes of T01/T02/T04. */
export function validationError(error: z.ZodError, body: unknown): HttpError {
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const forbidden = keys.find(key => FORBIDDEN_FIELDS.has(key));
  if (forbidden) {
    return new HttpError(
      400,
      'field_not_allowed',
      `${forbidden} cannot be sent from a browser; the signer sets it`,
    );
  }
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    // Name the field, but never echo kilobytes of attacker-chosen key names back.
    const names = issue.keys.slice(0, 3).map(key => JSON.stringify(key.slice(0, 40)));
    const more = issue.keys.length > 3 ? ` and ${issue.keys.length - 3} more` : '';
    return new HttpError(400, 'unknown_field', `unknown field ${names.join(', ')}${more}`);
  }
  const path = issue.path.join('.') || 'body';
  return new HttpError(400, 'invalid_field', `${path}: ${issue.message}`);
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw validationError(result.error, body);
  return result.data;
}

async function loadSession(deps: SessionRoutesDeps, id: string): Promise<Session> {
  const session = SESSION_ID.test(id) ? await deps.store.getSession(id) : null;
  if (!session) throw new HttpError(404, 'session_not_found', 'no such session');
  return session;
}

/** An exact, allow-listed return URL for redirect mode. */
function checkReturnUrl(deps: SessionRoutesDeps, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HttpError(400, 'invalid_field', 'returnUrl must be an absolute URL');
  }
  if (!deps.allowedOrigins.includes(url.origin)) {
    throw new HttpError(
      400,
      'return_url_not_allowed',
      'returnUrl must be on an allowed merchant origin',
    );
  }
  return url.href;
}

export function sessionRoutes(deps: SessionRoutesDeps): express.Router {
  const router = express.Router();
  const throttle = new QueryThrottle(deps.queryIntervalMs);

  router.post('/sessions', async (req, res) => {
    const body = parseBody(createBody, req.body);
    if (
      body.sourceType &&
      (!body.paymentMethod || !isKnownSourceType(body.paymentMethod, body.sourceType))
    ) {
      throw new HttpError(
        400,
        'invalid_field',
        'sourceType is not one of the chosen payment method',
      );
    }
    if (body.paymentMethod && NEEDS_SOURCE_TYPE.has(body.paymentMethod) && !body.sourceType) {
      throw new HttpError(
        400,
        'source_type_required',
        `paymentMethod ${body.paymentMethod} needs a sourceType (${sourceTypes[body.paymentMethod as 'HUB' | 'BNPL'].join(', ')})`,
      );
    }
    const returnUrl = checkReturnUrl(deps, body.returnUrl);
    // Checked before anything is stored: a bad handle or another customer's card changes nothing.
    const { plan, paymentMethod } = await planForWidget(deps, body, deps.manualCapture === true);
    const order = await resolveOrder(
      { ...deps, resolve: deps.resolve, catalog: deps.catalog },
      body.orderRef,
      req,
    );
    if (!order) throw new HttpError(404, 'order_not_found', 'no such order');
    const origin = req.get('origin');
    // A caller that brings no key of its own gets one minted here, returned once with the new session.
    const clientKey = body.clientKey ?? randomId();
    const { kind, session } = await openSession(deps, order, {
      clientKey,
      locale: body.locale ?? 'vi',
      paymentMethod: paymentMethod ?? body.paymentMethod,
      sourceType: body.sourceType ?? (body.paymentMethod === 'QRPAY' ? 'QRPAY' : undefined),
      returnUrl,
      merchantOrigin: origin && deps.allowedOrigins.includes(origin) ? origin : null,
      plan,
    });
    res.status(kind === 'created' ? 201 : 200).json({
      sessionId: session.id,
      nonce: session.nonce,
      checkoutUrl: session.checkoutUrl,
      gatewayOrigin: session.checkoutUrl ? new URL(session.checkoutUrl).origin : null,
      status: session.status,
      expiresAt: session.expiresAt.toISOString(),
      ...(session.plan?.op === 'qr'
        ? {
            qr: {
              // The EMV payload itself is public (it is what the shopper scans); the image is rendered here.
              data: session.plan.qrCode ?? null,
              imageUrl: `${deps.publicUrl}/sessions/${session.id}/qr.svg`,
              expiresAt: session.expiresAt.toISOString(),
            },
          }
        : {}),
      ...(body.clientKey === undefined && kind === 'created' ? { clientKey } : {}),
      ...(session.plan?.op === 'create_token' ? { saveCard: true } : {}),
      ...(session.plan?.op === 'token' ? { tokenId: session.plan.cardId } : {}),
    });
  });

  router.get('/sessions/:id', async (req, res) => {
    let session = await loadSession(deps, String(req.params.id));
    // One clock (the injected one) for both checks, so "once per interval" means the same interval.
    const now = deps.now().getTime();
    const open = session.status === 'pending' || session.status === 'pending_unknown';
    const stale = now - session.updatedAt.getTime() > deps.queryIntervalMs;
    if (open && session.transactionId !== null && stale && throttle.take(session.id, now)) {
      // Unanswered: the stored status is shown as it is (still open), never guessed.
      const result = await reconcile(deps, session);
      session = result.session;
      // A lapsed session the gateway says is not paid ends now, not at the next background pass: the
      // widget asks exactly when its countdown runs out.
      const stillOpen = session.status === 'pending' || session.status === 'pending_unknown';
      if (stillOpen && session.expiresAt.getTime() <= now && mayExpire(result)) {
        session = (await deps.store.transition(session.id, { to: 'expired', at: deps.now() }))
          .session;
      }
    }
    res.json(sessionView(session));
  });

  router.get('/sessions/:id/events', async (req, res) => {
    const session = await loadSession(deps, String(req.params.id));
    streamSession(deps, req, res, session);
  });

  router.post('/sessions/:id/cancel', async (req, res) => {
    const body = parseBody(cancelBody, req.body);
    let session = await loadSession(deps, String(req.params.id));
    // Only the browser that opened the session may cancel it: orderRefs are guessable (issue 11 §4).
    if (session.clientKeyHash !== null && !ownsSession(session, body?.clientKey)) {
      throw new HttpError(
        403,
        'not_session_owner',
        'only the browser that opened this session may cancel it',
      );
    }
    if (!FINAL_STATUSES.includes(session.status)) {
      if (session.transactionId === null) {
        // Its checkout call is under way or in doubt: nothing the shopper saw can be cancelled yet.
        throw new HttpError(409, 'request_in_progress', 'the checkout is still being opened', {
          'retry-after': '1',
        });
      }
      // Ask the gateway first: the shopper may have paid just before closing the dialog. Only its answer
      // lets the session end: without one, it stays open and the caller is told to try again.
      const result = await reconcile(deps, session);
      session = result.session;
      if (!FINAL_STATUSES.includes(session.status)) {
        if (result.outcome !== 'answered') throw gatewayUnavailable();
        const reason: CancelReason = body?.reason ?? 'closed';
        session = (
          await deps.store.transition(session.id, {
            to: 'cancelled',
            reason,
            evidence: null,
            at: deps.now(),
          })
        ).session;
      }
    }
    res.json(sessionView(session));
  });

  return router;
}

/** Server-Sent Events: the current status now, then each change, closing after a final status. */
function streamSession(deps: SessionRoutesDeps, req: Request, res: Response, first: Session): void {
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  let lastSent = '';
  let closed = false;
  const send = (session: Session) => {
    const view = JSON.stringify(sessionView(session));
    if (view === lastSent || closed) return;
    lastSent = view;
    res.write(`event: status\nid: ${requestIdOf(res)}\ndata: ${view}\n\n`);
    if (FINAL_STATUSES.includes(session.status)) finish();
  };
  const onChange = async () => {
    const session = await deps.store.getSession(first.id).catch(() => null);
    if (session) send(session);
  };
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const unsubscribe = deps.notifier.watch(first.id, () => void onChange());
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  req.on('close', finish);
  send(first);
  // A change committed between loading `first` and subscribing was published to nobody: read once more.
  void onChange();
}
