/**
 * IPN delivery: POST `{data, signature}` as JSON to the merchant's ipnURL, and retry with backoff until the
 * merchant answers `ipnStatus` "200" or "409" (docs/reliability.md §3: our reading of the gateway; a non-2xx,
 * a timeout, a connection error or `ipnStatus` "404" all mean "try again"). Every attempt is recorded.
 */

import { decodeCallbackData, type CallbackEnvelope } from '@galaxy-pay/protocol';
import type { Ledger } from './ledger.js';

/** One notification to deliver. */
export interface IpnDelivery {
  url: string;
  envelope: CallbackEnvelope;
  transactionID?: string;
  orderNo?: string;
  /** Wait before the first attempt (the `late:<s>` fault). */
  delayMs?: number;
}

const MAX_ANSWER_CHARS = 2048;

export class IpnSender {
  /** Pending waits, with the function that ends each one early. */
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;
  /** Bumped by `cancelAll`: deliveries of an older generation stop and record nothing more. */
  private generation = 0;

  constructor(
    private readonly ledger: Ledger,
    private readonly settings: { retryDelaysMs: readonly number[]; timeoutMs: number },
  ) {}

  /**
   * Starts a delivery. `firstAttempt` settles after the first POST has been answered (the `ipn-first`
   * fault waits for it); `settled` when the delivery is acknowledged or has run out of attempts.
   */
  deliver(delivery: IpnDelivery): { firstAttempt: Promise<boolean>; settled: Promise<boolean> } {
    const deliveryId = this.ledger.newDeliveryId();
    let markFirst: (ok: boolean) => void = () => {};
    const firstAttempt = new Promise<boolean>(resolve => (markFirst = resolve));
    const settled = this.run(delivery, deliveryId, markFirst, this.generation).finally(() =>
      markFirst(false),
    );
    return { firstAttempt, settled };
  }

  private async run(
    delivery: IpnDelivery,
    deliveryId: number,
    onFirstAttempt: (ok: boolean) => void,
    generation: number,
  ): Promise<boolean> {
    if (delivery.delayMs) await this.sleep(delivery.delayMs);
    const attempts = this.settings.retryDelaysMs.length + 1;
    for (let attempt = 1; attempt <= attempts && this.isCurrent(generation); attempt++) {
      const acknowledged = await this.attempt(delivery, deliveryId, attempt, generation);
      if (attempt === 1) onFirstAttempt(acknowledged);
      if (acknowledged) return true;
      const wait = this.settings.retryDelaysMs[attempt - 1];
      if (wait !== undefined) await this.sleep(wait);
    }
    return false;
  }

  private async attempt(
    delivery: IpnDelivery,
    deliveryId: number,
    attempt: number,
    generation: number,
  ): Promise<boolean> {
    const base = {
      deliveryId,
      attempt,
      at: new Date().toISOString(),
      url: delivery.url,
      transactionID: delivery.transactionID,
      orderNo: delivery.orderNo,
      envelope: delivery.envelope,
      decoded: safeDecode(delivery.envelope.data),
    };
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.settings.timeoutMs);
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(delivery.envelope),
        redirect: 'manual',
        signal: controller.signal,
      });
      const body = (await res.text()).slice(0, MAX_ANSWER_CHARS);
      const ipnStatus = readIpnStatus(body);
      const acknowledged = res.ok && (ipnStatus === '200' || ipnStatus === '409');
      if (!this.isCurrent(generation)) return false;
      this.ledger.recordIpnAttempt({
        ...base,
        answer: { httpStatus: res.status, body, ipnStatus },
        acknowledged,
      });
      return acknowledged;
    } catch (error) {
      if (!this.isCurrent(generation)) return false;
      this.ledger.recordIpnAttempt({
        ...base,
        error: controller.signal.aborted ? 'timeout' : describe(error),
        acknowledged: false,
      });
      return false;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  private isCurrent(generation: number): boolean {
    return !this.closed && generation === this.generation;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  /** Stops every delivery under way (`/__sandbox/reset`): nothing more is sent or recorded. */
  cancelAll(): void {
    this.generation += 1;
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    for (const controller of this.inFlight) controller.abort();
  }

  /** Stops every pending delivery for good (the sandbox is closing). */
  close(): void {
    this.closed = true;
    this.cancelAll();
  }
}

function readIpnStatus(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'ipnStatus' in parsed) {
      const status = (parsed as { ipnStatus: unknown }).ipnStatus;
      return typeof status === 'string' || typeof status === 'number' ? String(status) : undefined;
    }
  } catch {
    // not JSON: no ipnStatus, so the delivery is retried
  }
  return undefined;
}

/** The decoded payload for the inspection log; deliberately broken payloads (faults) show as text. */
function safeDecode(data: string): unknown {
  try {
    return decodeCallbackData(data);
  } catch {
    return Buffer.from(data, 'base64').toString('utf8').slice(0, MAX_ANSWER_CHARS);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? error.message;
  }
  return String(error);
}
