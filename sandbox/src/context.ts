import type { createGatewayClock } from '@galaxy-pay/protocol';
import { type CallbackUrls } from '@galaxy-pay/protocol';
import type { FaultPlan } from './faults.js';
import type { IpnSender } from './ipn-sender.js';
import type {
  ApplePaySessionShape,
  BlankFieldMode,
  CardWithoutSourceOfFundMode,
  CheckoutCallbackUrlMode,
  DuplicateOrderIdMode,
  LegacyQrSignatureMode,
  LinkIpnShape,
  ManagementOrderIdMode,
  ResponseSignatureMode,
} from './modes.js';
import type { Ledger } from './ledger.js';

/** Options of `createSandbox`. */
export interface SandboxOptions {
  /** The merchant's API key, expected in the `apiKey` header. */
  apiKey: string;
  /** The merchant's signature salt. */
  salt: string;
  /** Public origin used in `endpoint` and `shortLink` URLs. Default: the address it listens on. */
  publicUrl?: string;
  /** How result and cancel callbacks reach the merchant: GET query (303) or form POST. Default GET. */
  callbackMethod?: 'GET' | 'POST';
  /** Callback URLs configured "per merchant": used when a request carries none (e.g. checkout). */
  merchantUrls?: CallbackUrls;
  /** Waits between IPN attempts; attempts = length + 1. Default 1, 2, 4, 8, 16, 32 seconds. */
  ipnRetryDelaysMs?: readonly number[];
  /** How long one IPN attempt may take. Default 5 s. */
  ipnTimeoutMs?: number;
  /** Fault tokens applied to every order (`"no-ipn,dup:2"`), same grammar as in `orderDescription`. */
  faults?: string;
  /** How long a hosted page stays payable. Default 15 minutes. */
  transactionTtlMs?: number;
  /** Host used by the `foreign-endpoint-host` fault. Default `https://evil.example`. */
  foreignOrigin?: string;
  /** The clock. Default `() => new Date()`. */
  now?: () => Date;
  /**
   * The payment-link IPN's shape: `example` (default), as Galaxy Pay's own example decodes (`requestID`,
   * `orderID` = the link's orderNo, `transactionID`, `orderNumber`), or `table`, as the docs table lists
   * (`requestId`, `orderNo`, `orderReference`). Ledger L1–L3.
   */
  linkIpnShape?: LinkIpnShape;
  /** Apple Pay validation: the merchant session `bare` in `responseData` (default) or `wrapped`. */
  applePaySession?: ApplePaySessionShape;
  /** Archived QR API (`/api-ex/`): how `X-Signature` is checked. Default `body+salt` [INFERRED]. */
  legacyQrSignature?: LegacyQrSignatureMode;
  /** Archived QR API: the `X-Caller` to expect; empty (default) accepts any non-empty caller. */
  legacyQrCaller?: string;
  /**
   * Answer the legacy paths `/pay`, `/payWithOption` (guides 3.3–3.5) and `/api/v1.0/Merchant/Pay` (the Node
   * sample) as aliases of pay and payWithOption. Default true. See `request-checks.ts`.
   */
  legacyPaths?: boolean;
  /** Longest `orderNumber` accepted. Default 50 (the API playground sends 32); 20 is the documented length. */
  orderNumberMaxLength?: number;
  /** Refuse a checkout without `orderNetAmount`, `orderFeeAmount`, `orderDiscountAmount`. Default false. */
  requireCheckoutAmounts?: boolean;
  /** How far `requestDateTime` may be from `now`, either way, before 408. Default 15 min; null: any. */
  requestDateTimeToleranceMs?: number | null;
  /** Accept a requestID an accepted pay, refund… already used (default: 409 Duplicate Request). */
  allowDuplicateRequestId?: boolean;
  /** A payment reusing an orderID: `by-path` (default: 409 on /api/v1, accepted on legacy paths). */
  duplicateOrderId?: DuplicateOrderIdMode;
  /** Accept any Content-Type (default: JSON media types only, else 415). */
  acceptAnyContentType?: boolean;
  /** Card fields without `sourceOfFund` in a pay request. Default `by-path`. See `request-checks.ts`. */
  cardWithoutSourceOfFund?: CardWithoutSourceOfFundMode;
  /** A `requestData` string of spaces only: `absent` (default) or validated `as-sent`. */
  blankFields?: BlankFieldMode;
  /** How API replies are signed (header name, formula, or none). Default `signature`. See `fidelity.ts`. */
  responseSignature?: ResponseSignatureMode;
  /** Whether `checkout` honours the callback URLs in its request, or `ignore`s them. Default `honour`. */
  checkoutCallbackUrls?: CheckoutCallbackUrlMode;
  /** Which `orderID` refund, void and capture accept. Default `either`. */
  managementOrderId?: ManagementOrderIdMode;
}

/** Options with defaults applied. */
export type ResolvedOptions = Required<
  Omit<SandboxOptions, 'publicUrl' | 'merchantUrls' | 'faults'>
> &
  Pick<SandboxOptions, 'publicUrl' | 'merchantUrls' | 'faults'>;

/** What every part of the sandbox shares. */
export interface SandboxContext {
  options: ResolvedOptions;
  ledger: Ledger;
  ipn: IpnSender;
  clock: ReturnType<typeof createGatewayClock>;
  /** Faults applied to every order; replaceable at run time through `/__sandbox/faults`. */
  globalFaults: FaultPlan;
  /** The public origin (set once listening). */
  origin(): string;
}

export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  if (!options.apiKey) throw new Error('createSandbox: apiKey is required');
  if (!options.salt) throw new Error('createSandbox: salt is required');
  return {
    callbackMethod: 'GET',
    ipnRetryDelaysMs: [1000, 2000, 4000, 8000, 16000, 32000],
    ipnTimeoutMs: 5000,
    transactionTtlMs: 15 * 60 * 1000,
    foreignOrigin: 'https://evil.example',
    now: () => new Date(),
    linkIpnShape: 'example',
    applePaySession: 'bare',
    legacyQrSignature: 'body+salt',
    legacyQrCaller: '',
    legacyPaths: true,
    orderNumberMaxLength: 50,
    requireCheckoutAmounts: false,
    requestDateTimeToleranceMs: 15 * 60 * 1000,
    allowDuplicateRequestId: false,
    duplicateOrderId: 'by-path',
    acceptAnyContentType: false,
    cardWithoutSourceOfFund: 'by-path',
    blankFields: 'absent',
    responseSignature: 'signature',
    checkoutCallbackUrls: 'honour',
    managementOrderId: 'either',
    ...options,
  };
}
