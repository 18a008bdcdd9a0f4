/**
 * The sandbox's memory: transactions, saved cards, payment links, and the logs the inspection API shows.
 * In memory on purpose: the sandbox stands in for a remote gateway and a restart is a fresh gateway.
 */

import { randomBytes, randomInt } from 'node:crypto';
import {
  NonFinalStatus,
  ResponseCode,
  formatGatewayDateTime,
  type CallbackEnvelope,
  type CardAccount,
  type TestCard,
} from '@galaxy-pay/protocol';
import type { FaultPlan } from './faults.js';

/** Where a payment is. `authorized` waits for capture or void (isAutoCapture "false"). */
export type TransactionState =
  'processing' | 'authorized' | 'captured' | 'failed' | 'cancelled' | 'voided' | 'expired';

/** Which API created the transaction, and so which hosted page shows it. */
export type TransactionKind = 'checkout' | 'pay' | 'payWithOption' | 'payWithQR';

export interface Refund {
  requestID: string;
  orderID: string;
  amount: number;
  at: Date;
}

export interface Transaction {
  transactionID: string;
  kind: TransactionKind;
  requestID: string;
  orderID: string;
  /** `requestData` exactly as the merchant sent it (after JSON parsing). */
  data: Record<string, unknown>;
  amount: number;
  currency: string;
  apiOperation: string;
  /** Fixed by the request, or chosen by the shopper on the hosted page. */
  paymentMethod?: string;
  sourceType?: string;
  state: TransactionState;
  /** The payment's result code as query and callbacks report it. */
  resultCode: string;
  resultMessage: string;
  capturedAmount: number;
  refunds: Refund[];
  createdAt: Date;
  completedAt?: Date;
  faults: FaultPlan;
  /** The card used, masked, once known. */
  account?: CardAccount;
  /** Test card waiting for its OTP. */
  pendingCard?: TestCard;
  /** payWithQR: the EMV payload the merchant renders. */
  qrCode?: string;
  /** Token issued by a successful PAY_WITH_CREATE_TOKEN. */
  issuedToken?: string;
  /** Browser callbacks the hosted page produced (so tests can replay them without a browser). */
  callbacks: Array<{ kind: 'success' | 'failure' | 'cancel'; envelope: CallbackEnvelope }>;
}

export interface SavedToken extends CardAccount {
  token: string;
  tokenID: number;
  paymentMethod: string;
  /** The full test-card number: the sandbox needs it to behave like the card; never shown. */
  cardNumber: string;
  customerToken?: string;
  createdAt: Date;
}

export interface PaymentLink {
  orderNo: string;
  code: string;
  requestID: string;
  data: Record<string, unknown>;
  amount: number;
  currency: string;
  expiresAt: Date;
  state: 'open' | 'paid';
  paidAt?: Date;
  payer?: Record<string, string>;
  /** The payment's transactionID, sent in the `example`-shaped IPN (set at the first one). */
  transactionID?: string;
  faults: FaultPlan;
}

/** One API request as received, and what the sandbox answered. */
export interface RequestRecord {
  id: number;
  at: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  verdict: { httpStatus: number; responseCode: string; message: string; field?: string };
}

/** One IPN delivery attempt and the merchant's answer. */
export interface IpnAttempt {
  id: number;
  /** Deliveries of the same notification share a `deliveryId`; attempts count from 1. */
  deliveryId: number;
  attempt: number;
  at: string;
  url: string;
  transactionID?: string;
  orderNo?: string;
  envelope: CallbackEnvelope;
  decoded: unknown;
  answer?: { httpStatus: number; body: string; ipnStatus?: string };
  error?: string;
  /** Whether this answer ends the delivery (`ipnStatus` "200" or "409"). */
  acknowledged: boolean;
}

/** What `transactionStatus` each state reports; a failed one reports its own `resultCode`. */
const STATUS_CODES: Record<Exclude<TransactionState, 'failed'>, string> = {
  processing: NonFinalStatus.Processing,
  authorized: NonFinalStatus.Authorized,
  captured: ResponseCode.Success,
  cancelled: ResponseCode.CancelledByCustomer,
  voided: NonFinalStatus.Voided,
  expired: ResponseCode.Expired,
};

/** What `transactionStatus` a state reports. */
export function statusCodeOf(txn: Transaction): string {
  return txn.state === 'failed' ? txn.resultCode : STATUS_CODES[txn.state];
}

export class Ledger {
  readonly transactions = new Map<string, Transaction>();
  /** orderID → transactionID: a repeated orderID is a duplicate (409). */
  readonly orderIds = new Map<string, string>();
  readonly tokens = new Map<string, SavedToken>();
  readonly links = new Map<string, PaymentLink>();
  readonly linkOrderIds = new Set<string>();
  readonly requests: RequestRecord[] = [];
  readonly ipnAttempts: IpnAttempt[] = [];
  /** Calls made so far per reply chain (`500|500|ok`), keyed by order and endpoint. */
  readonly chainCalls = new Map<string, number>();
  /** requestIDs of accepted calls that change something: another call with one is a duplicate (409). */
  readonly requestIds = new Set<string>();
  private nextRequestId = 1;
  private nextIpnId = 1;
  private nextDeliveryId = 1;
  private nextTokenId = 1;

  /** A transactionID like the gateway's: yyMMdd (GMT+7) then 19 random digits, 25 in all. */
  newTransactionId(now: Date): string {
    let digits = '';
    while (digits.length < 19) digits += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
    return formatGatewayDateTime(now).slice(2, 8) + digits.slice(0, 19);
  }

  /** A card token in the shape of the documented example (36 upper-case hex characters). */
  newToken(): string {
    return randomBytes(18).toString('hex').toUpperCase();
  }

  newTokenId(): number {
    return this.nextTokenId++;
  }

  newDeliveryId(): number {
    return this.nextDeliveryId++;
  }

  /** A payment-link reference and its short-link code. */
  newLinkReference(): { orderNo: string; code: string } {
    return {
      orderNo: `PL${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`,
      code: randomBytes(12).toString('base64url'),
    };
  }

  recordRequest(record: Omit<RequestRecord, 'id'>): RequestRecord {
    const saved = { id: this.nextRequestId++, ...record };
    this.requests.push(saved);
    return saved;
  }

  recordIpnAttempt(attempt: Omit<IpnAttempt, 'id'>): IpnAttempt {
    const saved = { id: this.nextIpnId++, ...attempt };
    this.ipnAttempts.push(saved);
    return saved;
  }

  findLinkByCode(code: string): PaymentLink | undefined {
    for (const link of this.links.values()) if (link.code === code) return link;
    return undefined;
  }

  /** Forgets everything (between tests). */
  clear(): void {
    this.transactions.clear();
    this.orderIds.clear();
    this.tokens.clear();
    this.links.clear();
    this.linkOrderIds.clear();
    this.requests.length = 0;
    this.ipnAttempts.length = 0;
    this.chainCalls.clear();
    this.requestIds.clear();
  }
}
