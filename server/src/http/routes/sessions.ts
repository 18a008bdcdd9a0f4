/**
 * The widget's session handlers: open a session, read its verified status (JSON or Server-Sent Events),
 * cancel it. Thin: parse, call payments/, respond. Their middleware is in the routing table (routes.ts).
 */

import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { isKnownSourceType, sourceTypes } from '@galaxy-pay/protocol';
import type { SessionNotifier } from '../../delivery/notifier.js';
import { QueryThrottle } from '../../gateway/query-throttle.js';
import type { CheckoutDeps } from '../../payments/checkout-call.js';
import { openSession, ownsSession } from '../../payments/checkout.js';
import { randomId, SESSION_ID } from '../../payments/ids.js';
import {
  orderRefSchema,
  resolveOrder,
  type OrderInput,
  type ResolveOrder,
} from '../../payments/orders.js';
import { gatewayUnavailable, mayExpire, reconcile } from '../../payments/reconcile.js';
import { FINAL_STATUSES, type CancelReason, type Session } from '../../store/store.js';
import { planForWidget, type CardsDeps } from '../../tokens/cards.js';
import { HttpError, requestIdOf } from '../errors.js';
import { parseBody } from '../validation.js';
import { sessionView } from '../views.js';

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

export interface SessionHandlersDeps {
  /** Opening a checkout (built once by the signer; the background sweep uses the same). */
  checkout: CheckoutDeps;
  /** Saved cards (key and customer-handle secret in `cards.cards`; absent = off). */
  cards: CardsDeps;
  allowedOrigins: readonly string[];
  resolve?: ResolveOrder;
  catalog?: Record<string, OrderInput>;
  notifier: SessionNotifier;
  /** Minimum time between two gateway queries for one session on reads. */
  queryIntervalMs: number;
  /** New sessions are authorize-only (`isAutoCapture: "false"`). */
  manualCapture?: boolean;
}

async function loadSession(deps: SessionHandlersDeps, id: string): Promise<Session> {
  const session = SESSION_ID.test(id) ? await deps.checkout.store.getSession(id) : null;
  if (!session) throw new HttpError(404, 'session_not_found', 'no such session');
  return session;
}

/** An exact, allow-listed return URL for redirect mode. */
function checkReturnUrl(deps: SessionHandlersDeps, value: string | undefined): string | undefined {
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

/** The handlers of `/sessions` (routes.ts mounts them with their parsers, limits and idempotency). */
export function sessionHandlers(
  deps: SessionHandlersDeps,
): Record<'create' | 'read' | 'events' | 'cancel', RequestHandler> {
  const { checkout } = deps;
  const throttle = new QueryThrottle(deps.queryIntervalMs);

  /** `POST /sessions`: open a session for an order (or hand the open one back to its browser). */
  const create: RequestHandler = async (req, res) => {
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
    const { plan, paymentMethod } = await planForWidget(
      deps.cards,
      body,
      deps.manualCapture === true,
    );
    const order = await resolveOrder(
      { ...checkout, resolve: deps.resolve, catalog: deps.catalog },
      body.orderRef,
      req,
    );
    if (!order) throw new HttpError(404, 'order_not_found', 'no such order');
    const origin = req.get('origin');
    // A caller that brings no key of its own gets one minted here, returned once with the new session.
    const clientKey = body.clientKey ?? randomId();
    const { kind, session } = await openSession(checkout, order, {
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
              imageUrl: `${checkout.publicUrl}/sessions/${session.id}/qr.svg`,
              expiresAt: session.expiresAt.toISOString(),
            },
          }
        : {}),
      ...(body.clientKey === undefined && kind === 'created' ? { clientKey } : {}),
      ...(session.plan?.op === 'create_token' ? { saveCard: true } : {}),
      ...(session.plan?.op === 'token' ? { tokenId: session.plan.cardId } : {}),
    });
  };

  /** `GET /sessions/:id`: the verified status; asks the gateway (throttled) while the session is open. */
  const read: RequestHandler = async (req, res) => {
    let session = await loadSession(deps, String(req.params.id));
    // One clock (the injected one) for both checks, so "once per interval" means the same interval.
    const now = checkout.now().getTime();
    const open = session.status === 'pending' || session.status === 'pending_unknown';
    const stale = now - session.updatedAt.getTime() > deps.queryIntervalMs;
    if (open && session.transactionId !== null && stale && throttle.take(session.id, now)) {
      // Unanswered: the stored status is shown as it is (still open), never guessed.
      const result = await reconcile(checkout, session);
      session = result.session;
      // A lapsed session the gateway says is not paid ends now, not at the next background pass: the
      // widget asks exactly when its countdown runs out.
      const stillOpen = session.status === 'pending' || session.status === 'pending_unknown';
      if (stillOpen && session.expiresAt.getTime() <= now && mayExpire(result)) {
        session = (
          await checkout.store.transition(session.id, { to: 'expired', at: checkout.now() })
        ).session;
      }
    }
    res.json(sessionView(session));
  };

  /** `GET /sessions/:id/events`: the same, as Server-Sent Events. */
  const events: RequestHandler = async (req, res) => {
    const session = await loadSession(deps, String(req.params.id));
    streamSession(deps, req, res, session);
  };

  /** `POST /sessions/:id/cancel`: the shopper closed the dialog; the gateway is asked first. */
  const cancel: RequestHandler = async (req, res) => {
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
      const result = await reconcile(checkout, session);
      session = result.session;
      if (!FINAL_STATUSES.includes(session.status)) {
        if (result.outcome !== 'answered') throw gatewayUnavailable();
        const reason: CancelReason = body?.reason ?? 'closed';
        session = (
          await checkout.store.transition(session.id, {
            to: 'cancelled',
            reason,
            evidence: null,
            at: checkout.now(),
          })
        ).session;
      }
    }
    res.json(sessionView(session));
  };

  return { create, read, events, cancel };
}

/** Server-Sent Events: the current status now, then each change, closing after a final status. */
function streamSession(
  deps: SessionHandlersDeps,
  req: Request,
  res: Response,
  first: Session,
): void {
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
    const session = await deps.checkout.store.getSession(first.id).catch(() => null);
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
