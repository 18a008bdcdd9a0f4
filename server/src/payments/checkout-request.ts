/**
 * The gateway request that opens a session's payment: which endpoint (the configured flow, or what the
 * session's plan asks for: saved card, QR, manual capture) and its data, built from stored data only.
 */

import {
  Endpoint,
  formatGatewayDateTime,
  type CheckoutRequestData,
  type PayRequestData,
  type PayWithOptionRequestData,
  type PayWithQrRequestData,
} from '@galaxy-pay/protocol';
import type { Order, Session } from '../store/store.js';

/** Which gateway API opens the hosted page (`GALAXY_PAY_FLOW`, router option `flow`). Default `checkout`. */
export type GatewayFlow = 'checkout' | 'pay' | 'payWithOption';

/** Builds the gateway request for the configured flow from stored data only. */
export function buildGatewayRequest(
  deps: { flow: GatewayFlow; publicUrl: string },
  session: Session,
  order: Order,
  at: Date,
  token?: string,
): {
  endpoint: (typeof Endpoint)[keyof typeof Endpoint];
  data: CheckoutRequestData | PayRequestData | PayWithOptionRequestData | PayWithQrRequestData;
} {
  const base = deps.publicUrl;
  const common = {
    orderID: session.gatewayOrderId,
    // orderNumber (Alphanumeric(20)) shows the merchant's own reference in Galaxy Pay's portal when it fits.
    ...(/^[A-Za-z0-9]{1,20}$/.test(order.orderRef) ? { orderNumber: order.orderRef } : {}),
    orderAmount: order.amount,
    orderCurrency: order.currency as 'VND',
    orderDateTime: formatGatewayDateTime(at),
    orderDescription: order.description,
    language: session.locale as 'vi' | 'en',
    successURL: `${base}/return/${session.id}/result`,
    failureURL: `${base}/return/${session.id}/result`,
    cancelURL: `${base}/return/${session.id}/cancel`,
    ipnURL: `${base}/ipn`,
  };
  const method = (session.paymentMethod ?? 'DOMESTIC') as PayRequestData['paymentMethod'];
  const source = session.sourceType ? { sourceType: session.sourceType } : {};
  const special = planRequest(session, common, method, source, token);
  if (special) return special;
  switch (deps.flow) {
    case 'checkout':
      // checkout documents no apiVersion or callback URLs; they are sent anyway (§6.4) and not relied on.
      return {
        endpoint: Endpoint.Checkout,
        data: {
          apiVersion: 2,
          ...common,
          orderNetAmount: order.netAmount,
          orderFeeAmount: order.feeAmount,
          orderDiscountAmount: order.discountAmount,
          paymentMethod: method,
          ...source,
        },
      };
    case 'pay':
      return {
        endpoint: Endpoint.Pay,
        data: { apiVersion: 2, apiOperation: 'PAY', ...common, paymentMethod: method, ...source },
      };
    case 'payWithOption':
      return {
        endpoint: Endpoint.PayWithOption,
        data: { apiVersion: 2, apiOperation: 'PAY', ...common },
      };
  }
}

/**
 * The request a session's plan asks for (saved card, QR, manual capture), or undefined for the configured
 * flow. Built from stored data only, like every other request; the token is decrypted by the caller.
 */
function planRequest(
  session: Session,
  common: Omit<PayRequestData, 'apiOperation' | 'paymentMethod'>,
  method: PayRequestData['paymentMethod'],
  source: { sourceType?: string },
  token: string | undefined,
): ReturnType<typeof buildGatewayRequest> | undefined {
  const plan = session.plan;
  if (!plan) return undefined;
  const capture = plan.capture === 'manual' ? { isAutoCapture: 'false' as const } : {};
  switch (plan.op) {
    case 'qr':
      return {
        endpoint: Endpoint.PayWithQr,
        data: {
          ...common,
          apiOperation: 'PAY',
          orderCurrency: 'VND',
          paymentMethod: method === 'WALLET' ? 'WALLET' : 'QRPAY',
          sourceType: session.sourceType ?? 'QRPAY',
        },
      };
    case 'create_token':
      // Without a chosen method the shopper picks one on the hosted page (payWithOption takes the operation).
      return session.paymentMethod
        ? {
            endpoint: Endpoint.Pay,
            data: {
              apiVersion: 2,
              ...common,
              apiOperation: 'PAY_WITH_CREATE_TOKEN',
              paymentMethod: method,
              ...source,
              ...capture,
            },
          }
        : {
            endpoint: Endpoint.PayWithOption,
            data: { apiVersion: 2, ...common, apiOperation: 'PAY_WITH_CREATE_TOKEN' },
          };
    case 'token':
    case 'fast_pay':
      if (token === undefined) throw new Error('a saved-card session needs its token');
      return {
        endpoint: Endpoint.Pay,
        data: {
          apiVersion: 2,
          ...common,
          apiOperation: plan.op === 'fast_pay' ? 'FAST_PAY' : 'PAY',
          paymentMethod: plan.op === 'fast_pay' ? 'INTERNATIONAL' : method,
          sourceOfFund: 'TOKEN',
          token,
          ...capture,
        },
      };
    default:
      if (plan.capture !== 'manual') return undefined;
      // Authorize only: isAutoCapture is a pay field; the other flows get it as an extra field [CONFIRM].
      return {
        endpoint: Endpoint.Pay,
        data: {
          apiVersion: 2,
          apiOperation: 'PAY',
          ...common,
          paymentMethod: session.paymentMethod ? method : 'INTERNATIONAL',
          ...source,
          ...capture,
        },
      };
  }
}
