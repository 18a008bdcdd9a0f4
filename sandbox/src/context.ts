import type { createGatewayClock } from '@galaxy-pay/protocol';
import { type CallbackUrls } from '@galaxy-pay/protocol';
import type { FaultPlan } from './faults.js';
import type { IpnSender } from './ipn-sender.js';
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
    ...options,
  };
}
