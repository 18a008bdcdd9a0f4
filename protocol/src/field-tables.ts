/**
 * The documented field tables (docs/protocol.md §6) as data: every endpoint's `requestData` fields with their
 * types, lengths, whether they are mandatory, and their code values. fields.ts validates against them.
 */

import {
  ApiOperation,
  currencies,
  Endpoint,
  expiryUnits,
  languages,
  PaymentMethod,
  paymentMethods,
  SourceOfFund,
} from './codes.js';
import type { EndpointPath } from './types.js';

/** Documented field types: `alpha` letters (and `_`), `numeric` digits (number or string), `text` anything. */
export type FieldType = 'alpha' | 'numeric' | 'text' | 'object' | 'array' | 'integer';

/** One row of a documented field table. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Maximum length (characters, or digits for `numeric`). */
  max?: number;
  /** `true` mandatory; a function for conditional (C) fields. */
  required: boolean | ((data: Record<string, unknown>) => boolean);
  /** Allowed values, where the documentation lists them. */
  oneOf?: readonly string[];
  /** A `text` field that may also arrive as a JSON number of digits. */
  acceptsNumber?: boolean;
}
const M = true;
const O = false;

/** A row of one type: `text('orderID', 50, M)`; `oneOf` where the documentation lists the values. */
const row =
  (type: 'text' | 'numeric' | 'alpha') =>
  (name: string, max: number, required: FieldSpec['required'], oneOf?: readonly string[]) =>
    ({ name, type, max, required, ...(oneOf && { oneOf }) }) satisfies FieldSpec;
const text = row('text');
const numeric = row('numeric');
const alpha = row('alpha');
const object = (name: string): FieldSpec => ({ name, type: 'object', required: O });

const orderID = text('orderID', 50, M);
const orderAmount = numeric('orderAmount', 16, M);
const orderCurrency = alpha('orderCurrency', 3, M, currencies);
const orderDateTime = numeric('orderDateTime', 14, M);
const orderDescription = text('orderDescription', 250, M);
const language = alpha('language', 2, O, languages);
const apiVersion = numeric('apiVersion', 5, O);
const customerToken = text('customerToken', 2048, O);

const orderFields: FieldSpec[] = [
  orderID,
  // Alphanumeric, but Galaxy Pay's own examples (V1, checkout) send it as a JSON number.
  { ...text('orderNumber', 20, O), acceptsNumber: true },
  orderAmount,
  orderCurrency,
  orderDateTime,
  orderDescription,
  language,
  object('extraData'),
  object('subMerchant'),
];

const callbackUrlFields: FieldSpec[] = ['successURL', 'failureURL', 'cancelURL', 'ipnURL'].map(
  name => text(name, 500, O),
);

const needsSourceType = (data: Record<string, unknown>) =>
  data.paymentMethod !== undefined &&
  data.paymentMethod !== PaymentMethod.Domestic &&
  data.paymentMethod !== PaymentMethod.International;
const byCard = (data: Record<string, unknown>) => data.sourceOfFund === SourceOfFund.Card;
const international = (data: Record<string, unknown>) =>
  data.paymentMethod === PaymentMethod.International;

/** A card's number, holder and expiry (`required`), and its CVV (`cvvRequired`). */
const cardFields = (
  required: FieldSpec['required'],
  cvvRequired: FieldSpec['required'],
): FieldSpec[] => [
  numeric('cardNumber', 19, required),
  text('cardHolderName', 19, required),
  text('cardExpireDate', 5, required),
  numeric('cardVerificationValue', 3, cvvRequired),
];

/** A payment's `paymentMethod` and `sourceType`, as pay and checkout document them. */
const methodFields: FieldSpec[] = [
  alpha('paymentMethod', 20, M, paymentMethods),
  text('sourceType', 20, needsSourceType),
];

const payFields: FieldSpec[] = [
  apiVersion,
  alpha('apiOperation', 21, M, Object.values(ApiOperation)),
  ...orderFields,
  ...methodFields,
  alpha('isAutoCapture', 20, O, ['true', 'false']),
  ...callbackUrlFields,
  alpha(
    'sourceOfFund',
    50,
    data => data.apiOperation === ApiOperation.FastPay,
    Object.values(SourceOfFund),
  ),
  ...cardFields(byCard, data => byCard(data) && international(data)),
  text('cardIssueDate', 5, O),
  text('token', 50, data => data.sourceOfFund === SourceOfFund.Token),
];

const managementFields: FieldSpec[] = [
  text('transactionID', 50, M),
  orderID,
  orderAmount,
  orderCurrency,
  orderDateTime,
  orderDescription,
];

/** The documented `requestData` fields of every endpoint. */
export const endpointFields: Readonly<Record<EndpointPath, readonly FieldSpec[]>> = {
  [Endpoint.Pay]: payFields,
  [Endpoint.PayWithOption]: [
    apiVersion,
    alpha('apiOperation', 21, M, [ApiOperation.Pay, ApiOperation.PayWithCreateToken]),
    ...orderFields,
    ...callbackUrlFields,
  ],
  [Endpoint.PayWithQr]: [
    alpha('apiOperation', 20, M, [ApiOperation.Pay]),
    ...orderFields.map(f => (f.name === 'orderCurrency' ? { ...f, oneOf: ['VND'] } : f)),
    alpha('paymentMethod', 20, M, [PaymentMethod.QrPay, PaymentMethod.Wallet]),
    text('sourceType', 20, M),
    ...callbackUrlFields,
  ],
  [Endpoint.Checkout]: [
    apiVersion,
    ...orderFields,
    numeric('orderNetAmount', 16, M),
    numeric('orderFeeAmount', 16, M),
    numeric('orderDiscountAmount', 16, M),
    ...methodFields,
    customerToken,
    ...callbackUrlFields,
  ],
  [Endpoint.CreatePaymentLink]: [
    orderID,
    text('orderName', 250, M),
    orderAmount,
    orderCurrency,
    orderDescription,
    { name: 'expiryDuration', type: 'integer', max: 5, required: M },
    alpha('expiryUnit', 6, O, expiryUnits),
    { name: 'paymentMethods', type: 'array', required: M },
    { name: 'paymentFields', type: 'array', required: M },
    text('ipnURL', 500, O),
    language,
    object('subMerchant'),
  ],
  [Endpoint.Query]: [text('transactionID', 50, M)],
  [Endpoint.Refund]: managementFields,
  [Endpoint.Void]: managementFields,
  [Endpoint.Capture]: managementFields,
  [Endpoint.CreateToken]: [
    alpha('paymentMethod', 50, M, [PaymentMethod.Domestic, PaymentMethod.International]),
    ...cardFields(M, international),
    customerToken,
  ],
  [Endpoint.DeleteToken]: [text('token', 50, M)],
  [Endpoint.QueryTokens]: [text('customerToken', 2048, M)],
  [Endpoint.RemoveToken]: [text('token', 50, M)],
  [Endpoint.ApplePayValidation]: [
    text('validationURL', 500, M),
    text('domainName', 253, M),
    text('displayName', 64, O),
  ],
};
