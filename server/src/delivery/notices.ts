/**
 * What the merchant is told, and how: the notice every hook and webhook delivery carries, and the hooks a
 * mounted signer calls. Types only, shared by the outbox (which sends them) and the webhook verifier (which
 * hands them back to the merchant), so neither imports the other for them.
 */

import type { OperationEvent, OutboxEvent } from '../store/store.js';

/** The refund, void or capture an operation event (`refunded`, `refund_failed`, …) is about. */
export interface OperationNotice {
  id: string;
  kind: 'refund' | 'void' | 'capture';
  /** `succeeded`, `failed`, or `unknown` (no answer yet: the amount stays reserved, the signer asks). */
  state: 'succeeded' | 'failed' | 'unknown';
  /** The refund or capture amount (a void names the authorized amount). */
  amount: number | null;
  operator: string;
  idempotencyKey: string | null;
  responseCode: string | null;
}

/** What merchant code receives for each event. */
export interface PaymentNotice {
  /** Stable across retries: `<sessionId>:<event>`, or `<sessionId>:<event>:<operationId>` for an operation. */
  id: string;
  event: OutboxEvent | OperationEvent;
  sessionId: string;
  orderRef: string;
  amount: number;
  currency: string;
  status: string;
  transactionId: string | null;
  code: string | null;
  message: string | null;
  lateSuccess: boolean;
  at: string;
  /** Operation events only: the refund, void or capture. */
  operation?: OperationNotice;
  /** Operation events only: what is refunded on this payment so far (succeeded refunds, cumulative). */
  refunded?: number;
}

/** Merchant hooks (router mode). A hook that throws is retried later. */
export interface SignerHooks {
  onPaid?: (notice: PaymentNotice) => void | Promise<void>;
  onFailed?: (notice: PaymentNotice) => void | Promise<void>;
  onCancelled?: (notice: PaymentNotice) => void | Promise<void>;
  onExpired?: (notice: PaymentNotice) => void | Promise<void>;
  onNeedsReview?: (notice: PaymentNotice) => void | Promise<void>;
  /** Manual capture: the card is authorized; capture or void it from the admin API. */
  onAuthorized?: (notice: PaymentNotice) => void | Promise<void>;
  /** An authorization was voided. */
  onVoided?: (notice: PaymentNotice) => void | Promise<void>;
  /** A refund went through (`notice.operation.amount`; `notice.refunded` is the total so far). */
  onRefunded?: (notice: PaymentNotice) => void | Promise<void>;
  /** A capture went through (`notice.operation.amount`); `onPaid` follows as the session is paid. */
  onCaptured?: (notice: PaymentNotice) => void | Promise<void>;
  /** A refund, void or capture did not happen (`refund_failed`, `capture_failed`, `void_failed`). */
  onOperationFailed?: (notice: PaymentNotice) => void | Promise<void>;
  /**
   * A refund, void or capture got no answer (`refund_unknown`, …): it is neither done nor failed yet; the
   * signer asks the gateway until it knows, then sends the outcome as another event.
   */
  onOperationUnknown?: (notice: PaymentNotice) => void | Promise<void>;
}
