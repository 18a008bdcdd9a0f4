/**
 * In-process fan-out of session changes to open SSE streams. Fed by the store's subscription, so a change
 * committed by another signer process (PostgreSQL NOTIFY) reaches streams connected here.
 */

import { EventEmitter } from 'node:events';
import type { Store } from '../store/store.js';

export class SessionNotifier {
  private readonly emitter = new EventEmitter();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor() {
    // One listener per open stream; many streams are normal.
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to the store's change feed. */
  async start(store: Store): Promise<void> {
    this.unsubscribe ??= await store.subscribe(sessionId => this.emitter.emit(sessionId));
  }

  /** Calls `listener` whenever the session changes; returns the function that stops it. */
  watch(sessionId: string, listener: () => void): () => void {
    this.emitter.on(sessionId, listener);
    return () => this.emitter.off(sessionId, listener);
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.emitter.removeAllListeners();
  }
}
