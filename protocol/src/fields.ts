/**
 * The documented field tables (docs/protocol.md §6) as data, and a validator over them.
 * Lenient where Galaxy Pay's own samples are (numbers as strings, extra fields), strict on types, lengths,
 * mandatory fields and code values.
 */

import { parseGatewayDateTime } from './clock.js';
import {
  ApiOperation,
  currencies,
  Endpoint,
  expiryUnits,
  languages,
  paymentLinkMethods,
  PaymentMethod,
  paymentMethods,
  SourceOfFund,
  sourceTypes,
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

/** A field that failed validation: its path (`requestData.orderAmount`) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

const M = true;
const O = false;

const orderFields: FieldSpec[] = [
  { name: 'orderID', type: 'text', max: 50, required: M },
  // Alphanumeric, but Galaxy Pay's own examples (V1, checkout) send it as a JSON number.
  { name: 'orderNumber', type: 'text', max: 20, required: O, acceptsNumber: true },
  { name: 'orderAmount', type: 'numeric', max: 16, required: M },
  { name: 'orderCurrency', type: 'alpha', max: 3, required: M, oneOf: currencies },
  { name: 'orderDateTime', type: 'numeric', max: 14, required: M },
  { name: 'orderDescription', type: 'text', max: 250, required: M },
  { name: 'language', type: 'alpha', max: 2, required: O, oneOf: languages },
  { name: 'extraData', type: 'object', required: O },
  { name: 'subMerchant', type: 'object', required: O },
];

const callbackUrlFields: FieldSpec[] = ['successURL', 'failureURL', 'cancelURL', 'ipnURL'].map(
  name => ({ name, type: 'text', max: 500, required: O }),
);

const needsSourceType = (data: Record<string, unknown>) =>
  data.paymentMethod !== undefined &&
  data.paymentMethod !== PaymentMethod.Domestic &&
  data.paymentMethod !== PaymentMethod.International;
const byCard = (data: Record<string, unknown>) => data.sourceOfFund === SourceOfFund.Card;

const payFields: FieldSpec[] = [
  { name: 'apiVersion', type: 'numeric', max: 5, required: O },
  {
    name: 'apiOperation',
    type: 'alpha',
    max: 21,
    required: M,
    oneOf: Object.values(ApiOperation),
  },
  ...orderFields,
  { name: 'paymentMethod', type: 'alpha', max: 20, required: M, oneOf: paymentMethods },
  { name: 'sourceType', type: 'text', max: 20, required: needsSourceType },
  { name: 'isAutoCapture', type: 'alpha', max: 20, required: O, oneOf: ['true', 'false'] },
  ...callbackUrlFields,
  {
    name: 'sourceOfFund',
    type: 'alpha',
    max: 50,
    required: data => data.apiOperation === ApiOperation.FastPay,
    oneOf: Object.values(SourceOfFund),
  },
  { name: 'cardNumber', type: 'numeric', max: 19, required: byCard },
  { name: 'cardHolderName', type: 'text', max: 19, required: byCard },
  { name: 'cardExpireDate', type: 'text', max: 5, required: byCard },
  {
    name: 'cardVerificationValue',
    type: 'numeric',
    max: 3,
    required: data => byCard(data) && data.paymentMethod === PaymentMethod.International,
  },
  { name: 'cardIssueDate', type: 'text', max: 5, required: O },
  {
    name: 'token',
    type: 'text',
    max: 50,
    required: data => data.sourceOfFund === SourceOfFund.Token,
  },
];

const managementFields: FieldSpec[] = [
  { name: 'transactionID', type: 'text', max: 50, required: M },
  { name: 'orderID', type: 'text', max: 50, required: M },
  { name: 'orderAmount', type: 'numeric', max: 16, required: M },
  { name: 'orderCurrency', type: 'alpha', max: 3, required: M, oneOf: currencies },
  { name: 'orderDateTime', type: 'numeric', max: 14, required: M },
  { name: 'orderDescription', type: 'text', max: 250, required: M },
];

/** The documented `requestData` fields of every endpoint. */
export const endpointFields: Readonly<Record<EndpointPath, readonly FieldSpec[]>> = {
  [Endpoint.Pay]: payFields,
  [Endpoint.PayWithOption]: [
    { name: 'apiVersion', type: 'numeric', max: 5, required: O },
    {
      name: 'apiOperation',
      type: 'alpha',
      max: 21,
      required: M,
      oneOf: [ApiOperation.Pay, ApiOperation.PayWithCreateToken],
    },
    ...orderFields,
    ...callbackUrlFields,
  ],
  [Endpoint.PayWithQr]: [
    { name: 'apiOperation', type: 'alpha', max: 20, required: M, oneOf: [ApiOperation.Pay] },
    ...orderFields.map(f => (f.name === 'orderCurrency' ? { ...f, oneOf: ['VND'] } : f)),
    {
      name: 'paymentMethod',
      type: 'alpha',
      max: 20,
      required: M,
      oneOf: [PaymentMethod.QrPay, PaymentMethod.Wallet],
    },
    { name: 'sourceType', type: 'text', max: 20, required: M },
    ...callbackUrlFields,
  ],
  [Endpoint.Checkout]: [
    { name: 'apiVersion', type: 'numeric', max: 5, required: O },
    ...orderFields,
    { name: 'orderNetAmount', type: 'numeric', max: 16, required: M },
    { name: 'orderFeeAmount', type: 'numeric', max: 16, required: M },
    { name: 'orderDiscountAmount', type: 'numeric', max: 16, required: M },
    { name: 'paymentMethod', type: 'alpha', max: 20, required: M, oneOf: paymentMethods },
    { name: 'sourceType', type: 'text', max: 20, required: needsSourceType },
    { name: 'customerToken', type: 'text', max: 2048, required: O },
    ...callbackUrlFields,
  ],
  [Endpoint.CreatePaymentLink]: [
    { name: 'orderID', type: 'text', max: 50, required: M },
    { name: 'orderName', type: 'text', max: 250, required: M },
    { name: 'orderAmount', type: 'numeric', max: 16, required: M },
    { name: 'orderCurrency', type: 'alpha', max: 3, required: M, oneOf: currencies },
    { name: 'orderDescription', type: 'text', max: 250, required: M },
    { name: 'expiryDuration', type: 'integer', max: 5, required: M },
    { name: 'expiryUnit', type: 'alpha', max: 6, required: O, oneOf: expiryUnits },
    { name: 'paymentMethods', type: 'array', required: M },
    { name: 'paymentFields', type: 'array', required: M },
    { name: 'ipnURL', type: 'text', max: 500, required: O },
    { name: 'language', type: 'alpha', max: 2, required: O, oneOf: languages },
    { name: 'subMerchant', type: 'object', required: O },
  ],
  [Endpoint.Query]: [{ name: 'transactionID', type: 'text', max: 50, required: M }],
  [Endpoint.Refund]: managementFields,
  [Endpoint.Void]: managementFields,
  [Endpoint.Capture]: managementFields,
  [Endpoint.CreateToken]: [
    {
      name: 'paymentMethod',
      type: 'alpha',
      max: 50,
      required: M,
      oneOf: [PaymentMethod.Domestic, PaymentMethod.International],
    },
    { name: 'cardNumber', type: 'numeric', max: 19, required: M },
    { name: 'cardHolderName', type: 'text', max: 19, required: M },
    { name: 'cardExpireDate', type: 'text', max: 5, required: M },
    {
      name: 'cardVerificationValue',
      type: 'numeric',
      max: 3,
      required: data => data.paymentMethod === PaymentMethod.International,
    },
    { name: 'customerToken', type: 'text', max: 2048, required: O },
  ],
  [Endpoint.DeleteToken]: [{ name: 'token', type: 'text', max: 50, required: M }],
  [Endpoint.QueryTokens]: [{ name: 'customerToken', type: 'text', max: 2048, required: M }],
  [Endpoint.RemoveToken]: [{ name: 'token', type: 'text', max: 50, required: M }],
  [Endpoint.ApplePayValidation]: [
    { name: 'validationURL', type: 'text', max: 500, required: M },
    { name: 'domainName', type: 'text', max: 253, required: M },
    { name: 'displayName', type: 'text', max: 64, required: O },
  ],
};

const ALPHA = /^[A-Za-z_]*$/;
const DIGITS = /^\d+$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The digits of a `Numeric` value sent as a number or a string, or undefined if it is not one. */
export function numericText(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  }
  if (typeof value === 'string' && DIGITS.test(value)) return value;
  return undefined;
}

function checkField(spec: FieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'object':
      return isRecord(value) ? undefined : 'must be a JSON object';
    case 'array':
      return Array.isArray(value) ? undefined : 'must be a JSON array';
    case 'integer':
      if (numericText(value) === undefined) return 'must be a whole number';
      break;
    case 'numeric': {
      const digits = numericText(value);
      if (digits === undefined) return 'must be digits (a JSON number or a string of digits)';
      if (spec.max !== undefined && digits.length > spec.max) {
        return `must have at most ${spec.max} digits`;
      }
      return undefined;
    }
    case 'alpha':
      if (typeof value !== 'string') return 'must be a string';
      if (!ALPHA.test(value)) return 'must contain letters only';
      break;
    case 'text':
      if (spec.acceptsNumber && typeof value === 'number') {
        if (numericText(value) === undefined) return 'must be a string or a whole number';
        break;
      }
      if (typeof value !== 'string') return 'must be a string';
      break;
  }
  const length = String(value).length;
  if (spec.max !== undefined && length > spec.max) return `must be at most ${spec.max} characters`;
  if (spec.oneOf && !spec.oneOf.includes(String(value))) {
    return `must be one of ${spec.oneOf.join(', ')}`;
  }
  return undefined;
}

/** Validates the envelope (`requestID`, `requestDateTime`, `requestData`) of any API request. */
export function validateEnvelope(request: unknown): FieldIssue[] {
  if (!isRecord(request)) return [{ field: 'body', message: 'must be a JSON object' }];
  const issues: FieldIssue[] = [];
  const { requestID, requestDateTime, requestData } = request;
  if (requestID === undefined || requestID === '') {
    issues.push({ field: 'requestID', message: 'is required' });
  } else if (typeof requestID !== 'string' || requestID.length > 50) {
    issues.push({ field: 'requestID', message: 'must be a string of at most 50 characters' });
  }
  if (requestDateTime === undefined) {
    issues.push({ field: 'requestDateTime', message: 'is required' });
  } else if (!parseGatewayDateTime(requestDateTime)) {
    issues.push({ field: 'requestDateTime', message: 'must be yyyyMMddHHmmss' });
  }
  if (!isRecord(requestData))
    issues.push({ field: 'requestData', message: 'must be a JSON object' });
  return issues;
}

/**
 * Where a caller (the sandbox) departs from the documented tables because other evidence disagrees with
 * them. Without options the tables apply as documented.
 */
export interface ValidationOptions {
  /** Longest `orderNumber` accepted. Default 20, as documented; Galaxy Pay's API playground sends 32. */
  orderNumberMaxLength?: number;
  /**
   * Whether checkout's `orderNetAmount`, `orderFeeAmount` and `orderDiscountAmount` are mandatory. Default
   * true, as documented; a third-party checkout without them worked in UAT.
   */
  checkoutAmountsRequired?: boolean;
}

const CHECKOUT_PARTS = ['orderNetAmount', 'orderFeeAmount', 'orderDiscountAmount'];

/** A documented field as `options` relax it. */
function adjustSpec(
  endpoint: EndpointPath,
  spec: FieldSpec,
  options: ValidationOptions,
): FieldSpec {
  if (spec.name === 'orderNumber' && options.orderNumberMaxLength !== undefined) {
    return { ...spec, max: options.orderNumberMaxLength };
  }
  if (
    endpoint === Endpoint.Checkout &&
    options.checkoutAmountsRequired === false &&
    CHECKOUT_PARTS.includes(spec.name)
  ) {
    return { ...spec, required: O };
  }
  return spec;
}

/**
 * Validates `requestData` of one endpoint against its documented table plus the cross-field rules the
 * documentation states. Unknown extra fields are accepted, as the real gateway accepts them.
 */
export function validateRequestData(
  endpoint: EndpointPath,
  data: unknown,
  options: ValidationOptions = {},
): FieldIssue[] {
  if (!isRecord(data)) return [{ field: 'requestData', message: 'must be a JSON object' }];
  const issues: FieldIssue[] = [];
  for (const documented of endpointFields[endpoint]) {
    const spec = adjustSpec(endpoint, documented, options);
    const path = `requestData.${spec.name}`;
    const value = data[spec.name];
    const required = typeof spec.required === 'function' ? spec.required(data) : spec.required;
    if (value === undefined || value === null || value === '') {
      if (required) issues.push({ field: path, message: 'is required' });
      continue;
    }
    const problem = checkField(spec, value);
    if (problem) issues.push({ field: path, message: problem });
  }
  if (issues.length === 0) issues.push(...crossFieldIssues(endpoint, data));
  return issues;
}

function crossFieldIssues(endpoint: EndpointPath, data: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const amount = data.orderAmount === undefined ? undefined : Number(numericText(data.orderAmount));
  if (amount !== undefined && amount <= 0) {
    issues.push({ field: 'requestData.orderAmount', message: 'must be greater than 0' });
  }
  if (data.orderDateTime !== undefined && !parseGatewayDateTime(data.orderDateTime)) {
    issues.push({ field: 'requestData.orderDateTime', message: 'must be yyyyMMddHHmmss' });
  }
  const method = data.paymentMethod;
  const sourceType = data.sourceType;
  if (
    typeof method === 'string' &&
    typeof sourceType === 'string' &&
    sourceType !== '' &&
    Object.hasOwn(sourceTypes, method) && // not `in`: `constructor` or `__proto__` would match
    !(sourceTypes as Record<string, readonly string[]>)[method]!.includes(sourceType)
  ) {
    issues.push({ field: 'requestData.sourceType', message: `is not a ${method} source type` });
  }
  if (endpoint === Endpoint.Pay) {
    const op = data.apiOperation;
    const cardMethod = method === PaymentMethod.Domestic || method === PaymentMethod.International;
    if (op === ApiOperation.FastPay && method !== PaymentMethod.International) {
      issues.push({
        field: 'requestData.paymentMethod',
        message: 'FAST_PAY takes INTERNATIONAL only',
      });
    }
    if (op === ApiOperation.PayWithCreateToken && !cardMethod) {
      issues.push({
        field: 'requestData.paymentMethod',
        message: 'PAY_WITH_CREATE_TOKEN takes DOMESTIC or INTERNATIONAL only',
      });
    }
    if (data.sourceOfFund === SourceOfFund.Token && !cardMethod) {
      issues.push({
        field: 'requestData.paymentMethod',
        message: 'a token pays DOMESTIC or INTERNATIONAL only',
      });
    }
  }
  if (endpoint === Endpoint.PayWithQr && typeof sourceType === 'string') {
    const allowed = method === PaymentMethod.QrPay ? ['QRPAY'] : ['MOMO', 'ZALOPAY', 'GALAXYPAY'];
    if (!allowed.includes(sourceType)) {
      issues.push({
        field: 'requestData.sourceType',
        message: `must be one of ${allowed.join(', ')}`,
      });
    }
  }
  if (
    endpoint === Endpoint.Checkout &&
    CHECKOUT_PARTS.every(name => numericText(data[name]) !== undefined)
  ) {
    // [INFERRED][CONFIRM] net + fee − discount = amount; the sandbox holds the merchant to it (when sent).
    const part = (name: string) => Number(numericText(data[name]));
    if (part('orderNetAmount') + part('orderFeeAmount') - part('orderDiscountAmount') !== amount) {
      issues.push({
        field: 'requestData.orderAmount',
        message: 'must equal orderNetAmount + orderFeeAmount - orderDiscountAmount',
      });
    }
  }
  if (endpoint === Endpoint.CreatePaymentLink) {
    const methods = data.paymentMethods as unknown[];
    if (
      methods.length === 0 ||
      !methods.every(m => (paymentLinkMethods as readonly unknown[]).includes(m))
    ) {
      issues.push({
        field: 'requestData.paymentMethods',
        message: `must list one or more of ${paymentLinkMethods.join(', ')}`,
      });
    }
    const fields = data.paymentFields as unknown[];
    if (!fields.every(f => typeof f === 'string' && f.length <= 50)) {
      issues.push({ field: 'requestData.paymentFields', message: 'must be a list of field names' });
    }
    if (Number(numericText(data.expiryDuration)) <= 0) {
      issues.push({ field: 'requestData.expiryDuration', message: 'must be greater than 0' });
    }
  }
  return issues;
}
