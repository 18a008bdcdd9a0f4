/**
 * A validator over the documented field tables (field-tables.ts, docs/protocol.md §6). Lenient where Galaxy
 * Pay's own samples are (numbers as strings, extra fields), strict on types, lengths, mandatory fields and
 * code values.
 */

import { parseGatewayDateTime } from './clock.js';
import {
  ApiOperation,
  Endpoint,
  paymentLinkMethods,
  PaymentMethod,
  SourceOfFund,
  sourceTypes,
} from './codes.js';
import { endpointFields, type FieldSpec } from './field-tables.js';
import type { EndpointPath } from './types.js';

export { endpointFields, type FieldSpec, type FieldType } from './field-tables.js';

/** A field that failed validation: its path (`requestData.orderAmount`) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}
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
    return { ...spec, required: false };
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

const issue = (name: string, message: string): FieldIssue => ({
  field: `requestData.${name}`,
  message,
});

function crossFieldIssues(endpoint: EndpointPath, data: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const amount = data.orderAmount === undefined ? undefined : Number(numericText(data.orderAmount));
  if (amount !== undefined && amount <= 0)
    issues.push(issue('orderAmount', 'must be greater than 0'));
  if (data.orderDateTime !== undefined && !parseGatewayDateTime(data.orderDateTime)) {
    issues.push(issue('orderDateTime', 'must be yyyyMMddHHmmss'));
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
    issues.push(issue('sourceType', `is not a ${method} source type`));
  }
  if (endpoint === Endpoint.Pay) {
    const op = data.apiOperation;
    const cardMethod = method === PaymentMethod.Domestic || method === PaymentMethod.International;
    if (op === ApiOperation.FastPay && method !== PaymentMethod.International) {
      issues.push(issue('paymentMethod', 'FAST_PAY takes INTERNATIONAL only'));
    }
    if (op === ApiOperation.PayWithCreateToken && !cardMethod) {
      const message = 'PAY_WITH_CREATE_TOKEN takes DOMESTIC or INTERNATIONAL only';
      issues.push(issue('paymentMethod', message));
    }
    if (data.sourceOfFund === SourceOfFund.Token && !cardMethod) {
      issues.push(issue('paymentMethod', 'a token pays DOMESTIC or INTERNATIONAL only'));
    }
  }
  if (endpoint === Endpoint.PayWithQr && typeof sourceType === 'string') {
    const allowed = method === PaymentMethod.QrPay ? ['QRPAY'] : ['MOMO', 'ZALOPAY', 'GALAXYPAY'];
    if (!allowed.includes(sourceType)) {
      issues.push(issue('sourceType', `must be one of ${allowed.join(', ')}`));
    }
  }
  if (
    endpoint === Endpoint.Checkout &&
    CHECKOUT_PARTS.every(name => numericText(data[name]) !== undefined)
  ) {
    // [INFERRED][CONFIRM] net + fee − discount = amount; the sandbox holds the merchant to it (when sent).
    const part = (name: string) => Number(numericText(data[name]));
    if (part('orderNetAmount') + part('orderFeeAmount') - part('orderDiscountAmount') !== amount) {
      const message = 'must equal orderNetAmount + orderFeeAmount - orderDiscountAmount';
      issues.push(issue('orderAmount', message));
    }
  }
  if (endpoint === Endpoint.CreatePaymentLink) issues.push(...paymentLinkIssues(data));
  return issues;
}

function paymentLinkIssues(data: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const methods = data.paymentMethods as unknown[];
  if (
    methods.length === 0 ||
    !methods.every(m => (paymentLinkMethods as readonly unknown[]).includes(m))
  ) {
    const message = `must list one or more of ${paymentLinkMethods.join(', ')}`;
    issues.push(issue('paymentMethods', message));
  }
  const fields = data.paymentFields as unknown[];
  if (!fields.every(f => typeof f === 'string' && f.length <= 50)) {
    issues.push(issue('paymentFields', 'must be a list of field names'));
  }
  if (Number(numericText(data.expiryDuration)) <= 0) {
    issues.push(issue('expiryDuration', 'must be greater than 0'));
  }
  return issues;
}
