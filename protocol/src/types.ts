/**
 * Request, response and callback shapes for every documented Galaxy Pay endpoint
 * (docs/protocol.md §3, §6, §7). Numeric fields are typed `number | string` because Galaxy Pay's own
 * examples send both and the gateway hashes the raw text, so both verify.
 */

import type {
  ApiOperation,
  CurrencyCode,
  ExpiryUnit,
  Language,
  PaymentLinkMethod,
  PaymentMethod,
  SourceOfFund,
} from './codes.js';

/** A `Numeric(n)` field: digits, sent as a JSON number or a JSON string. */
export type NumericValue = number | string;

/** The envelope of every API request. */
export interface GatewayRequest<TData = object> {
  /** Unique per request, Alphanumeric(50). */
  requestID: string;
  /** `yyyyMMddHHmmss`, GMT+7. */
  requestDateTime: NumericValue;
  requestData: TData;
}

/** The envelope of every API response (and of decoded callbacks). */
export interface GatewayResponse<TData = object> {
  requestID: string;
  responseDateTime: NumericValue;
  /** `"200"` is success; some examples show `"00"` (tolerated). */
  responseCode: string;
  responseMessage: string;
  responseData?: TData;
}

/** Master-merchant scope. */
export interface SubMerchant {
  identifier: string;
}

/** The optional `extraData` object (§7.14); open-ended, the gateway ignores what it does not know. */
export interface ExtraData {
  customer?: Record<string, string>;
  device?: Record<string, string>;
  application?: Record<string, string>;
  billing?: Record<string, string>;
  shipping?: Record<string, string>;
  airline?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Order fields shared by pay, payWithOption, payWithQR and checkout. */
export interface OrderFields {
  orderID: string;
  orderNumber?: NumericValue;
  orderAmount: NumericValue;
  orderCurrency: CurrencyCode;
  orderDateTime: NumericValue;
  orderDescription: string;
  language?: Language;
  extraData?: ExtraData;
  subMerchant?: SubMerchant;
}

/** Browser and server callback URLs (the gateway appends `data` and `signature`). */
export interface CallbackUrls {
  successURL?: string;
  failureURL?: string;
  cancelURL?: string;
  ipnURL?: string;
}

/** Card fields: only for Merchant Hosted Checkout and createToken (PCI DSS SAQ D scope). */
export interface CardFields {
  cardNumber?: NumericValue;
  cardHolderName?: string;
  cardExpireDate?: string;
  cardVerificationValue?: NumericValue;
  cardIssueDate?: string;
}

/** `api/v1/transaction/pay`: PAY, PAY_WITH_CREATE_TOKEN and FAST_PAY; sourceOfFund CARD or TOKEN (§7.1–7.4). */
export interface PayRequestData extends OrderFields, CallbackUrls, CardFields {
  apiVersion?: NumericValue;
  apiOperation: ApiOperation;
  paymentMethod: PaymentMethod;
  sourceType?: string;
  /** `"true"` (default) or `"false"`: authorize only, capture later. International cards only. */
  isAutoCapture?: 'true' | 'false';
  sourceOfFund?: SourceOfFund;
  token?: string;
}

/** `api/v1/transaction/payWithOption`: the shopper picks the method on the hosted page (§7.5). */
export interface PayWithOptionRequestData extends OrderFields, CallbackUrls {
  apiVersion?: NumericValue;
  apiOperation: 'PAY' | 'PAY_WITH_CREATE_TOKEN';
}

/** `api/v1/transaction/payWithQR` (§7.6). */
export interface PayWithQrRequestData extends OrderFields, CallbackUrls {
  apiOperation: 'PAY';
  orderCurrency: 'VND';
  paymentMethod: 'QRPAY' | 'WALLET';
  sourceType: string;
}

/** `api/v1/transaction/checkout`, the modal checkout (§7.7). Callback URLs are not documented; sent anyway. */
export interface CheckoutRequestData extends OrderFields, CallbackUrls {
  apiVersion?: NumericValue;
  orderNetAmount: NumericValue;
  orderFeeAmount: NumericValue;
  orderDiscountAmount: NumericValue;
  paymentMethod: PaymentMethod;
  sourceType?: string;
  customerToken?: string;
}

/** pay, payWithOption, payWithQR and checkout answer with the hosted page to open. */
export interface PaymentResponseData {
  transactionID: string;
  endpoint: string;
  /** payWithQR only: the EMV QR payload to render [OBSERVED]. */
  qrCode?: string;
  /** FAST_PAY only (sandbox reading): the immediate outcome. */
  transactionStatus?: string;
}

/** `api/v1/transaction/createPaymentLink` (§7.8). */
export interface CreatePaymentLinkRequestData {
  orderID: string;
  orderName: string;
  orderAmount: NumericValue;
  orderCurrency: CurrencyCode;
  orderDescription: string;
  expiryDuration: NumericValue;
  expiryUnit?: ExpiryUnit;
  paymentMethods: PaymentLinkMethod[];
  paymentFields: string[];
  ipnURL?: string;
  language?: Language;
  subMerchant?: SubMerchant;
}

export interface CreatePaymentLinkResponseData {
  orderNo: string;
  shortLink: string;
}

/** `api/v1/transaction/query` (§7.9). */
export interface QueryRequestData {
  transactionID: string;
}

export interface QueryResponseData {
  transactionID: string;
  transactionDateTime: string;
  /** The payment's result code (see `classifyTransactionStatus`); `responseCode` is the query call's. */
  transactionStatus: string;
  transactionDescription: string;
  orderID: string;
  orderNumber?: string;
  orderAmount: string;
  orderCurrency: string;
  orderDateTime: string;
  orderDescription: string;
  /** Extra fields the sandbox adds so tests can see the truth; not documented for the real gateway. */
  paymentMethod?: string;
  sourceType?: string;
  capturedAmount?: string;
  refundedAmount?: string;
}

/** refund, void and capture share one shape (§7.10–7.12; void and capture fields are [INFERRED]). */
export interface ManagementRequestData {
  transactionID: string;
  orderID: string;
  /** Refund: the amount to refund. Capture: the amount to capture. */
  orderAmount: NumericValue;
  orderCurrency: CurrencyCode;
  orderDateTime: NumericValue;
  orderDescription: string;
}
export type RefundRequestData = ManagementRequestData;
export type VoidRequestData = ManagementRequestData;
export type CaptureRequestData = ManagementRequestData;

/** `api/v1/tokenization/createToken` (§7.13): Fast-pay merchants only. */
export interface CreateTokenRequestData {
  paymentMethod: 'DOMESTIC' | 'INTERNATIONAL';
  cardNumber: NumericValue;
  cardHolderName: string;
  cardExpireDate: string;
  cardVerificationValue?: NumericValue;
  customerToken?: string;
}

/** A saved card as the gateway describes it: never the full number. */
export interface CardAccount {
  accountBrand: string;
  accountSource: string;
  /** Masked, e.g. `550692******3667`. */
  accountNumber: string;
  accountName: string;
}

export interface CreateTokenResponseData extends CardAccount {
  token: string;
}

/** `api/v1/tokenization/deleteToken`. */
export interface DeleteTokenRequestData {
  token: string;
}

/** `api/v1/tokenization/queryTokens`. */
export interface QueryTokensRequestData {
  customerToken: string;
}

export interface QueryTokensResponseData {
  customerID: string;
  customerName: string;
  tokens: Array<CardAccount & { tokenID: NumericValue }>;
}

/** `api/v1/token/remove` (Remove Token, G3.6.1 §2.8): the same field as deleteToken. */
export interface RemoveTokenRequestData {
  token: string;
}

/** Apple Pay merchant validation [INFERRED]: Apple's `validationURL` and the merchant page's domain. */
export interface ApplePayValidationRequestData {
  validationURL: string;
  domainName: string;
  displayName?: string;
}

/**
 * Apple's opaque merchant session, passed to `completeMerchantValidation` untouched [INFERRED]: bare in
 * `responseData`, or under `merchantSession`.
 */
export type ApplePayValidationResponseData = Record<string, unknown>;

/** The request data for each endpoint path. */
export interface EndpointRequestData {
  'api/v1/transaction/pay': PayRequestData;
  'api/v1/transaction/payWithOption': PayWithOptionRequestData;
  'api/v1/transaction/payWithQR': PayWithQrRequestData;
  'api/v1/transaction/checkout': CheckoutRequestData;
  'api/v1/transaction/createPaymentLink': CreatePaymentLinkRequestData;
  'api/v1/transaction/query': QueryRequestData;
  'api/v1/transaction/refund': RefundRequestData;
  'api/v1/transaction/void': VoidRequestData;
  'api/v1/transaction/capture': CaptureRequestData;
  'api/v1/tokenization/createToken': CreateTokenRequestData;
  'api/v1/tokenization/deleteToken': DeleteTokenRequestData;
  'api/v1/tokenization/queryTokens': QueryTokensRequestData;
  'api/v1/token/remove': RemoveTokenRequestData;
  'api/v1/applepay/validateMerchant': ApplePayValidationRequestData;
}

/** The response data for each endpoint path (`undefined`: the envelope only). */
export interface EndpointResponseData {
  'api/v1/transaction/pay': PaymentResponseData;
  'api/v1/transaction/payWithOption': PaymentResponseData;
  'api/v1/transaction/payWithQR': PaymentResponseData;
  'api/v1/transaction/checkout': PaymentResponseData;
  'api/v1/transaction/createPaymentLink': CreatePaymentLinkResponseData;
  'api/v1/transaction/query': QueryResponseData;
  'api/v1/transaction/refund': undefined;
  'api/v1/transaction/void': undefined;
  'api/v1/transaction/capture': undefined;
  'api/v1/tokenization/createToken': CreateTokenResponseData;
  'api/v1/tokenization/deleteToken': undefined;
  'api/v1/tokenization/queryTokens': QueryTokensResponseData;
  'api/v1/token/remove': undefined;
  'api/v1/applepay/validateMerchant': ApplePayValidationResponseData;
}

/** One of the documented endpoint paths (relative to the API base URL). */
export type EndpointPath = keyof EndpointRequestData;

/** What a callback carries on the wire: base64 JSON and the signature over that base64 text. */
export interface CallbackEnvelope {
  data: string;
  signature: string;
}

/** The card token delivered in the IPN of a successful PAY_WITH_CREATE_TOKEN payment. */
export interface Tokenization extends CardAccount {
  token: string;
  status: string;
  message: string;
}

/** `responseData` of the result, cancel and IPN callbacks (§8.1–8.3); values come back as strings. */
export interface TransactionCallbackData {
  transactionID: string;
  transactionDateTime?: string;
  /** apiVersion 2 only. */
  transactionStatus?: string;
  transactionDescription?: string;
  paymentMethod?: string;
  sourceType?: string;
  orderID: string;
  orderNumber?: string;
  orderAmount: string;
  orderCurrency: string;
  orderDateTime?: string;
  orderDescription?: string;
  language?: string;
  /** IPN only, after a successful PAY_WITH_CREATE_TOKEN. */
  tokenization?: Tokenization;
}

/** Decoded `data` of a result, cancel or IPN callback. */
export interface TransactionCallback extends GatewayResponse<TransactionCallbackData> {
  responseData: TransactionCallbackData;
}

/** `responseData` of the payment-link IPN (§8.4). */
export interface PaymentLinkCallbackData {
  orderNo: string;
  orderReference?: string;
  orderAmount: string;
  extraData?: { fullName?: string; phone?: string; email?: string; shippingAddress?: string };
}

/** Decoded `data` of a payment-link IPN: note `requestId` with a lower-case d. */
export interface PaymentLinkCallback {
  requestId: string;
  responseDateTime: NumericValue;
  responseCode: string;
  responseMessage: string;
  responseData: PaymentLinkCallbackData;
}

/**
 * The payment-link IPN as Galaxy Pay's own example encodes it (seed `001_…`, docs
 * `/upc/payment-link/ipn-callback`): the transaction-callback shape, not the table's. `requestID`, and
 * `orderID` holds the link's `orderNo`; `orderNumber` (32 hex in the example) reads as the merchant's
 * create-time `orderID` [INFERRED]. It passes `verifyCallback` as a `TransactionCallback`.
 */
export interface PaymentLinkTransactionCallbackData extends TransactionCallbackData {
  extraData?: {
    fullName?: string;
    phone?: string;
    email?: string;
    shippingAddress?: string;
    /** The link's short URL. */
    paymentLink?: string;
  };
}

/** Any decoded callback payload. */
export type CallbackPayload = TransactionCallback | PaymentLinkCallback;

/** The merchant's answer to an IPN. */
export interface IpnReply {
  ipnStatus: '200' | '404' | '409';
  ipnDescription?: string;
}
