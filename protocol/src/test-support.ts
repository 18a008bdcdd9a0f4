/**
 * Test vectors the protocol's tests share (docs/protocol.md §4.6): the documented Pay request V1 and the
 * checkout body S1, as objects. Their exact texts and signatures stay in sign.test.ts.
 */

import type { GatewayRequest } from './types.js';

/** Vector V1 (§4.6): the documented Pay request, built exactly as the docs build it. */
export const V1_REQUEST = {
  requestID: '14653fa1-2f69-4f4f-9d4b-240e1bebbdf3',
  requestDateTime: 20220426083322,
  requestData: {
    apiOperation: 'PAY',
    orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
    orderNumber: 205249008064,
    orderAmount: 100000,
    orderCurrency: 'VND',
    orderDateTime: 20220426083322,
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '970400',
    language: 'vi',
  },
} satisfies GatewayRequest;

/** Vector S1 (§4.6): a complete checkout body, dates as strings. */
export const S1_REQUEST = {
  requestID: 'aaa04cf8d97f4c6ebede69135d1bce35',
  requestDateTime: '20230726175152',
  requestData: {
    orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
    orderNumber: '205249008064',
    orderDateTime: '20230726175152',
    orderAmount: 100000,
    orderNetAmount: 100000,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
    orderCurrency: 'VND',
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    language: 'vi',
    extraData: {},
  },
} satisfies GatewayRequest;
