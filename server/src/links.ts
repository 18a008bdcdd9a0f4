/**
 * Payment links: created from the admin API (amount, expiry, methods, fields to collect), and settled by
 * their own IPN format (§8.4: `requestId`, `orderNo`, what the payer typed). The IPN is verified like any
 * other (signature over the received `data` first), then one conditional write: open → paid once.
 */

import { randomBytes } from 'node:crypto';
import { numericText, type PaymentLinkCallback } from '@galaxy-pay/protocol';
import { HttpError } from './errors.js';
import { GatewayError, type GatewayClient } from './gateway-client.js';
import type { Logger } from './logger.js';
import type { PaymentLink, Store } from './store/store.js';

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

/** What the admin API shows of a link; `status` says `expired` for an open link past its expiry. */
export function linkView(link: PaymentLink, now: Date) {
  const expired = link.status === 'open' && link.expiresAt <= now;
  return {
    orderNo: link.orderNo,
    linkRef: link.linkRef,
    name: link.name,
    description: link.description,
    amount: link.amount,
    currency: link.currency,
    methods: link.methods,
    fields: link.fields,
    shortLink: link.shortLink,
    status: expired ? 'expired' : link.status,
    late: link.late,
    payer: link.payer,
    paidAmount: link.paidAmount,
    detail: link.detail,
    operator: link.operator,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
    paidAt: link.paidAt?.toISOString() ?? null,
  };
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
 * Applies a verified payment-link IPN: unknown `orderNo` → 404 (kept as a dead letter); a repeat → 409; a
 * paid amount that disagrees with the link → `needs_review`; a payment after the expiry is recorded anyway
 * (flagged `late`), because a verified payment is never discarded.
 */
export async function settleLinkIpn(
  deps: Pick<LinkDeps, 'store' | 'logger' | 'now'>,
  raw: string,
  payload: PaymentLinkCallback,
): Promise<LinkIpnResult> {
  const at = deps.now();
  const data = (payload.responseData ?? {}) as Partial<PaymentLinkCallback['responseData']>;
  const orderNo = typeof data.orderNo === 'string' ? data.orderNo.slice(0, 100) : '';
  const record = (
    verdict: 'applied' | 'duplicate' | 'needs_review' | 'unknown_order' | 'ignored',
    detail: string,
  ) =>
    deps.store.recordEvent({
      sessionId: null,
      kind: 'ipn',
      transactionId: null,
      raw,
      verified: true,
      verdict,
      detail: `payment link ${orderNo}: ${detail}`.slice(0, 500),
      receivedAt: at,
    });
  const link = orderNo ? await deps.store.getLink(orderNo) : null;
  if (!link) {
    await record('unknown_order', 'no such link');
    deps.logger.warn({}, 'verified payment-link IPN for an unknown link');
    return { ipnStatus: '404', description: 'payment link not found' };
  }
  if (String(payload.responseCode) !== '200') {
    await record('ignored', `responseCode ${String(payload.responseCode).slice(0, 10)}`);
    return { ipnStatus: link.status === 'open' ? '200' : '409', description: 'not a payment' };
  }
  const paid = numericText(data.orderAmount);
  const paidAmount = paid === undefined ? null : Number(paid);
  const payer: Record<string, string> = {};
  const extra = (data.extraData ?? {}) as Record<string, unknown>;
  for (const key of PAYER_KEYS) {
    const value = extra[key];
    if (typeof value === 'string' && value !== '') payer[key] = value.slice(0, 250);
  }
  const mismatch = paidAmount !== link.amount;
  const result = await deps.store.settleLink(link.orderNo, {
    status: mismatch ? 'needs_review' : 'paid',
    late: at > link.expiresAt,
    payer,
    paidAmount,
    raw,
    detail: mismatch
      ? `amount ${String(data.orderAmount)} differs from the link's ${link.amount}`
      : null,
    at,
  });
  if (!result.changed) {
    await record('duplicate', `already ${result.link?.status ?? 'settled'}`);
    return { ipnStatus: '409', description: `already ${result.link?.status ?? 'settled'}` };
  }
  await record(mismatch ? 'needs_review' : 'applied', mismatch ? 'amount mismatch' : 'paid');
  if (mismatch) deps.logger.warn({ orderNo }, 'payment-link IPN amount disagrees with the link');
  return { ipnStatus: '200', description: `now ${result.link?.status}` };
}
