/**
 * Payment links: created from the admin API (amount, expiry, methods, fields to collect), and settled by
 * their IPN, in either documented shape (the docs table's `requestId` + `orderNo`, or the transaction shape
 * of Galaxy Pay's own example: `requestID` + `orderID`). The IPN is verified like any other (signature over
 * the received `data` first), then one conditional write: open → paid once.
 */

import { randomBytes } from 'node:crypto';
import { numericText, type CallbackPayload, type TransactionCallback } from '@galaxy-pay/protocol';
import { HttpError } from '../http/errors.js';
import type { GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import type { Logger } from '../logger.js';
import type { PaymentLink, Store } from '../store/store.js';

export interface LinkDeps {
  store: Store;
  gateway: GatewayClient;
  logger: Logger;
  now: () => Date;
  publicUrl: string;
}

export const LINK_UNIT_MS = { DAY: 86_400_000, HOUR: 3_600_000, MINUTE: 60_000 } as const;

export interface LinkInput {
  name: string;
  description: string;
  amount: number;
  expiryDuration: number;
  expiryUnit: keyof typeof LINK_UNIT_MS;
  methods: string[];
  fields: string[];
  language?: 'vi' | 'en';
  operator: string;
}

/** Creates a link at the gateway, then stores it (the IPN names its `orderNo`). */
export async function createLink(deps: LinkDeps, input: LinkInput): Promise<PaymentLink> {
  const linkRef = randomBytes(16).toString('hex');
  const now = deps.now();
  let reply;
  try {
    reply = await deps.gateway.createPaymentLink({
      orderID: linkRef,
      orderName: input.name,
      orderAmount: input.amount,
      orderCurrency: 'VND',
      orderDescription: input.description,
      expiryDuration: input.expiryDuration,
      expiryUnit: input.expiryUnit,
      paymentMethods: input.methods as never,
      paymentFields: input.fields,
      ipnURL: `${deps.publicUrl}/ipn`,
      ...(input.language ? { language: input.language } : {}),
    });
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    if (error.code === 'gateway_rejected') {
      throw new HttpError(
        422,
        'gateway_refused',
        `the gateway refused: ${error.responseCode ?? ''} ${error.responseMessage ?? ''}`.trim(),
      );
    }
    throw new HttpError(error.status, error.code, 'the gateway call failed; try again later');
  }
  const { orderNo, shortLink } = reply.responseData;
  return deps.store.createLink({
    orderNo: String(orderNo),
    linkRef,
    name: input.name,
    description: input.description,
    amount: input.amount,
    currency: 'VND',
    methods: input.methods,
    fields: input.fields,
    shortLink: String(shortLink),
    operator: input.operator,
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.expiryDuration * LINK_UNIT_MS[input.expiryUnit]),
  });
}

/** The IPN answer for a verified payment-link notification. */
export interface LinkIpnResult {
  ipnStatus: '200' | '404' | '409';
  description: string;
}

const PAYER_KEYS = ['fullName', 'phone', 'email', 'shippingAddress'] as const;

/**
 * A payment-link IPN reduced to what settles it. Galaxy Pay documents two shapes (docs
 * `/upc/payment-link/ipn-callback`): its table says `requestId` + `responseData.orderNo`; its own example
 * (seed `001_…`) decodes to the transaction shape, `requestID` + `responseData.orderID` (the link's
 * `orderNo`), `transactionID`, `orderNumber`, `orderCurrency`. Both are accepted (ledger L1–L3).
 */
export interface LinkNotice {
  shape: 'table' | 'example';
  orderNo: string;
  responseCode: string;
  amount: unknown;
  /** Only the example shape carries one; checked against the link when present. */
  currency?: string;
  transactionId?: string;
  extra: Record<string, unknown>;
}

/** The link notice in a verified payload of either shape. */
export function linkNotice(payload: CallbackPayload): LinkNotice {
  const table = 'requestId' in payload && !('requestID' in payload);
  const data = (payload.responseData ?? {}) as unknown as Record<string, unknown>;
  const ref = table ? data.orderNo : data.orderID;
  const extra = data.extraData;
  return {
    shape: table ? 'table' : 'example',
    orderNo: typeof ref === 'string' || typeof ref === 'number' ? String(ref).slice(0, 100) : '',
    responseCode: String(payload.responseCode),
    amount: data.orderAmount,
    ...(typeof data.orderCurrency === 'string' ? { currency: data.orderCurrency } : {}),
    ...(typeof data.transactionID === 'string' || typeof data.transactionID === 'number'
      ? { transactionId: String(data.transactionID).slice(0, 50) }
      : {}),
    extra:
      typeof extra === 'object' && extra !== null && !Array.isArray(extra)
        ? (extra as Record<string, unknown>)
        : {},
  };
}

type LinkIpnDeps = Pick<LinkDeps, 'store' | 'logger' | 'now'>;

/**
 * Applies a verified payment-link IPN (either shape): unknown `orderNo` → 404 (kept as a dead letter); a
 * repeat → 409; a paid amount (or currency) that disagrees with the link → `needs_review`; a payment after
 * the expiry is recorded anyway (flagged `late`), because a verified payment is never discarded.
 */
export async function settleLinkIpn(
  deps: LinkIpnDeps,
  raw: string,
  payload: CallbackPayload,
): Promise<LinkIpnResult> {
  const notice = linkNotice(payload);
  const link = notice.orderNo ? await deps.store.getLink(notice.orderNo) : null;
  if (!link) {
    await recordLinkEvent(deps, raw, notice, 'unknown_order', 'no such link');
    deps.logger.warn({}, 'verified payment-link IPN for an unknown link');
    return { ipnStatus: '404', description: 'payment link not found' };
  }
  return applyLinkIpn(deps, raw, notice, link);
}

/**
 * A transaction-shaped IPN whose `orderID` no session has: a payment link's, in the shape of Galaxy Pay's own
 * example, when a link has that `orderNo`; otherwise undefined (an unknown order, handled as such).
 */
export async function settleLinkIpnIfKnown(
  deps: LinkIpnDeps,
  raw: string,
  payload: TransactionCallback,
): Promise<LinkIpnResult | undefined> {
  const notice = linkNotice(payload);
  const link = notice.orderNo ? await deps.store.getLink(notice.orderNo) : null;
  return link ? applyLinkIpn(deps, raw, notice, link) : undefined;
}

function recordLinkEvent(
  deps: LinkIpnDeps,
  raw: string,
  notice: LinkNotice,
  verdict: 'applied' | 'duplicate' | 'needs_review' | 'unknown_order' | 'ignored',
  detail: string,
) {
  return deps.store.recordEvent({
    sessionId: null,
    kind: 'ipn',
    transactionId: notice.transactionId ?? null,
    raw,
    verified: true,
    verdict,
    detail: `payment link ${notice.orderNo} (${notice.shape} shape): ${detail}`.slice(0, 500),
    receivedAt: deps.now(),
  });
}

async function applyLinkIpn(
  deps: LinkIpnDeps,
  raw: string,
  notice: LinkNotice,
  link: PaymentLink,
): Promise<LinkIpnResult> {
  const at = deps.now();
  const record = (verdict: Parameters<typeof recordLinkEvent>[3], detail: string) =>
    recordLinkEvent(deps, raw, notice, verdict, detail);
  if (notice.responseCode !== '200') {
    await record('ignored', `responseCode ${notice.responseCode.slice(0, 10)}`);
    return { ipnStatus: link.status === 'open' ? '200' : '409', description: 'not a payment' };
  }
  const paid = numericText(notice.amount);
  const paidAmount = paid === undefined ? null : Number(paid);
  const payer: Record<string, string> = {};
  for (const key of PAYER_KEYS) {
    const value = notice.extra[key];
    if (typeof value === 'string' && value !== '') payer[key] = value.slice(0, 250);
  }
  const mismatch =
    paidAmount !== link.amount
      ? `amount ${String(notice.amount).slice(0, 20)} differs from the link's ${link.amount}`
      : notice.currency !== undefined && notice.currency !== link.currency
        ? `currency ${notice.currency.slice(0, 10)} differs from the link's ${link.currency}`
        : null;
  const result = await deps.store.settleLink(link.orderNo, {
    status: mismatch ? 'needs_review' : 'paid',
    late: at > link.expiresAt,
    payer,
    paidAmount,
    raw,
    detail: mismatch,
    at,
  });
  if (!result.changed) {
    await record('duplicate', `already ${result.link?.status ?? 'settled'}`);
    return { ipnStatus: '409', description: `already ${result.link?.status ?? 'settled'}` };
  }
  await record(mismatch ? 'needs_review' : 'applied', mismatch ? 'amount mismatch' : 'paid');
  if (mismatch)
    deps.logger.warn({ orderNo: link.orderNo }, 'payment-link IPN disagrees with the link');
  return { ipnStatus: '200', description: `now ${result.link?.status}` };
}
