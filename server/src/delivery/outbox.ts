/**
 * At-least-once delivery of merchant events. Transitions write an outbox row in the same transaction; this
 * worker delivers it afterwards (hooks in router mode, a signed webhook in standalone mode) and retries with
 * backoff until it succeeds. Receivers must be idempotent: the event id is stable across retries.
 */

import type { Logger } from '../logger.js';
import { webhookHeaders } from './merchant-webhook.js';
import type { OperationEvent, OutboxEvent, OutboxItem, Store } from '../store/store.js';
import type { PaymentNotice, SignerHooks } from './notices.js';
import { nodeHttpClient } from '../net/http-client.js';

const HOOK_FOR: Record<OutboxEvent | OperationEvent, keyof SignerHooks> = {
  paid: 'onPaid',
  failed: 'onFailed',
  cancelled: 'onCancelled',
  expired: 'onExpired',
  needs_review: 'onNeedsReview',
  authorized: 'onAuthorized',
  voided: 'onVoided',
  refunded: 'onRefunded',
  refund_failed: 'onOperationFailed',
  refund_unknown: 'onOperationUnknown',
  captured: 'onCaptured',
  capture_failed: 'onOperationFailed',
  capture_unknown: 'onOperationUnknown',
  void_failed: 'onOperationFailed',
  void_unknown: 'onOperationUnknown',
};

export interface OutboxOptions {
  store: Store;
  logger: Logger;
  now: () => Date;
  hooks?: SignerHooks;
  webhook?: { url: string; secret: string; timeoutMs?: number };
  /** How often to look for due items. Default 250 ms. */
  pollMs?: number;
  /** How long a claimed item is reserved for this worker. Default 30 s. */
  leaseMs?: number;
}

/** Retry delay after `attempts` failed deliveries: 1 s, 2 s, 4 s … capped at one hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Webhook deliveries share its keep-alive connections. */
  private readonly http = nodeHttpClient();

  constructor(private readonly options: OutboxOptions) {}

  /**
   * Whether anybody listens. Without hooks or a webhook there is nothing to deliver: the rows stay as a
   * record (and are delivered if a consumer is configured later), and no commit is spent on them.
   */
  get hasConsumers(): boolean {
    const hooks = Object.values(this.options.hooks ?? {}).some(hook => typeof hook === 'function');
    return hooks || this.options.webhook !== undefined;
  }

  /** Starts polling. */
  start(): void {
    if (this.timer || this.stopped || !this.hasConsumers) return;
    this.timer = setInterval(() => void this.drain(), this.options.pollMs ?? 250);
    this.timer.unref();
  }

  /**
   * Delivers everything due now (also called right after a transition, so hooks run without waiting).
   * Never rejects: callers fire and forget it, and a store outage must not become an unhandled rejection
   * that ends the process; the next poll tries again.
   */
  drain(): Promise<void> {
    if (this.stopped || !this.hasConsumers) return Promise.resolve();
    this.running ??= this.deliverDue()
      .catch(error =>
        this.options.logger.error(
          { errorName: (error as Error | undefined)?.name },
          'outbox pass failed; will retry at the next poll',
        ),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops polling and waits for the delivery under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async deliverDue(): Promise<void> {
    const { store, now, logger } = this.options;
    for (;;) {
      const at = now();
      const leaseUntil = new Date(at.getTime() + (this.options.leaseMs ?? 30_000));
      const items = await store.claimOutbox(at, leaseUntil, 20);
      if (items.length === 0) return;
      for (const item of items) {
        try {
          await this.deliver(item);
          await store.markOutboxDelivered(item.id, now());
        } catch (error) {
          const reason = error instanceof Error ? error.message.slice(0, 200) : 'delivery failed';
          await store.markOutboxFailed(
            item.id,
            reason,
            new Date(now().getTime() + retryDelayMs(item.attempts)),
          );
          logger.warn(
            { outboxId: item.id, event: item.event, attempts: item.attempts },
            'merchant notification failed; will retry',
          );
        }
      }
    }
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const notice = {
      id: item.operationId
        ? `${item.sessionId}:${item.event}:${item.operationId}`
        : `${item.sessionId}:${item.event}`,
      ...(JSON.parse(item.payload) as object),
    } as PaymentNotice;
    const hook = this.options.hooks?.[HOOK_FOR[item.event]];
    if (hook) await hook(notice);
    const webhook = this.options.webhook;
    if (!webhook) return;
    const body = JSON.stringify(notice);
    const res = await this.http({
      url: webhook.url,
      headers: webhookHeaders(body, {
        id: notice.id,
        secret: webhook.secret,
        now: () => this.options.now().getTime(),
      }),
      body,
      signal: AbortSignal.timeout(webhook.timeoutMs ?? 10_000),
    });
    res.discard();
    if (res.status < 200 || res.status > 299)
      throw new Error(`merchant webhook answered HTTP ${res.status}`);
  }
}
