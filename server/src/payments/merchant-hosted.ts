/**
 * Merchant Hosted Checkout: card data posted to Galaxy Pay through the merchant's own server (`pay` with
 * `sourceOfFund: CARD`). OPT-IN ONLY, server-side only: whoever calls this receives, transmits (and must
 * protect) full card numbers and CVVs, which puts the merchant in PCI DSS SAQ D scope — the full set of
 * requirements, quarterly scans, penetration tests. The widget and every browser route refuse card fields;
 * nothing in the signer's HTTP API calls this. Prefer the hosted page (SAQ A) unless you really need it.
 */

import { formatGatewayDateTime, newRequestId } from '@galaxy-pay/protocol';
import { newGatewayOrderId, newSessionId, randomId } from './ids.js';
import type { GatewayClient } from '../gateway/client.js';
import { GatewayError } from '../gateway/errors.js';
import type { Session, Store } from '../store/store.js';

/** The card as the merchant's server collected it. Never log it, never store it. */
export interface HostedCard {
  number: string;
  holderName: string;
  /** `MM/YY`. */
  expiry: string;
  /** International cards. */
  cvv?: string;
  /** `MM/YY`, some domestic cards. */
  issueDate?: string;
}

export interface MerchantHostedOptions {
  store: Store;
  gateway: GatewayClient;
  /** The signer's public base URL (IPN and the 3-D Secure return go there). */
  publicUrl: string;
  /** Must be `true`: you accept PCI DSS SAQ D scope for the servers this runs on. */
  acknowledgePciDssSaqD: true;
  now?: () => Date;
  sessionTtlMs?: number;
}

export interface MerchantHostedResult {
  session: Session;
  /**
   * The gateway's page for this payment (`endpoint`): where the shopper completes 3-D Secure / OTP when the
   * card needs it. The gateway returns one for every card, so send the shopper there unless the session is
   * already final (the IPN may settle a card without OTP first). Null only if the gateway gave none.
   */
  authenticationUrl: string | null;
}

/**
 * Returns `pay(orderRef, card)`: charges a pre-registered order with card data through the gateway. The
 * session is saved before the call, as every checkout is; the outcome arrives by IPN or query like any other.
 */
export function merchantHostedCheckout(options: MerchantHostedOptions) {
  if (options.acknowledgePciDssSaqD !== true) {
    throw new TypeError(
      'merchantHostedCheckout: pass acknowledgePciDssSaqD: true — card data through your server is PCI DSS SAQ D scope',
    );
  }
  const now = options.now ?? (() => new Date());
  const base = options.publicUrl.replace(/\/+$/, '');
  return {
    async pay(
      orderRef: string,
      card: HostedCard,
      method: 'DOMESTIC' | 'INTERNATIONAL' = 'INTERNATIONAL',
    ): Promise<MerchantHostedResult> {
      const monthYear = /^(0[1-9]|1[0-2])\/\d{2}$/;
      if (
        !/^\d{12,19}$/.test(card.number) ||
        !monthYear.test(card.expiry) ||
        (card.cvv !== undefined && !/^\d{3}$/.test(card.cvv)) ||
        (card.issueDate !== undefined && !monthYear.test(card.issueDate))
      ) {
        throw new TypeError(
          'merchantHostedCheckout: the card number, expiry, CVV or issue date is malformed',
        );
      }
      const order = await options.store.getOrder(orderRef);
      if (!order) throw new TypeError(`merchantHostedCheckout: no order ${orderRef}`);
      const at = now();
      let session = await options.store.createSession({
        id: newSessionId(at.getTime()),
        nonce: randomId(),
        orderRef,
        gatewayOrderId: newGatewayOrderId(at.getTime()),
        requestId: newRequestId(),
        amount: order.amount,
        currency: order.currency,
        locale: 'vi',
        paymentMethod: method,
        sourceType: null,
        returnUrl: null,
        merchantOrigin: null,
        createdAt: at,
        expiresAt: new Date(at.getTime() + (options.sessionTtlMs ?? 1_800_000)),
      });
      try {
        const reply = await options.gateway.pay(
          {
            apiVersion: 2,
            apiOperation: 'PAY',
            orderID: session.gatewayOrderId,
            orderAmount: order.amount,
            orderCurrency: 'VND',
            orderDateTime: formatGatewayDateTime(at),
            orderDescription: order.description,
            language: 'vi',
            paymentMethod: method,
            sourceOfFund: 'CARD',
            cardNumber: card.number,
            cardHolderName: card.holderName,
            cardExpireDate: card.expiry,
            ...(card.cvv ? { cardVerificationValue: card.cvv } : {}),
            ...(card.issueDate ? { cardIssueDate: card.issueDate } : {}),
            successURL: `${base}/return/${session.id}/result`,
            failureURL: `${base}/return/${session.id}/result`,
            cancelURL: `${base}/return/${session.id}/cancel`,
            ipnURL: `${base}/ipn`,
          },
          { requestId: session.requestId },
        );
        session = await options.store.attachCheckout(
          session.id,
          {
            transactionId: reply.responseData.transactionID,
            checkoutUrl: reply.responseData.endpoint,
          },
          now(),
        );
        return { session, authenticationUrl: reply.responseData.endpoint ?? null };
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        // As checkout-call.ts: only a timeout, a transport error or a duplicate leaves the outcome in doubt. A
        // definitive refusal (a 400 naming a card field, bad credentials…) created no transaction: failed.
        const inDoubt =
          error.mayHaveReachedGateway &&
          (error.code === 'upstream_timeout' ||
            error.code === 'upstream_error' ||
            error.code === 'gateway_duplicate');
        if (inDoubt) {
          await options.store.markPendingUnknown(session.id, now());
        } else {
          await options.store.transition(session.id, {
            to: 'failed',
            at: now(),
            evidence: {
              kind: 'checkout',
              transactionId: null,
              code: error.responseCode ?? '502',
              message: error.code,
            },
          });
        }
        throw error;
      }
    },
  };
}
