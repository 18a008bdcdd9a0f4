/** Signed IPN bodies, built with the real `encodeCallback` exactly as the sandbox sends them. */

import {
  encodeCallback,
  formatGatewayDateTime,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import type { SeededSession } from './messages.js';

/** The JSON body of a successful apiVersion 2 IPN about one seeded session. */
export function signedIpnBody(session: SeededSession, salt: string, at: Date): string {
  const time = formatGatewayDateTime(at);
  const payload: TransactionCallback = {
    requestID: session.requestId,
    responseDateTime: time,
    responseCode: '200',
    responseMessage: 'Giao dịch thành công',
    responseData: {
      transactionID: session.transactionId,
      transactionDateTime: time,
      transactionStatus: '200',
      transactionDescription: 'Giao dịch thành công',
      paymentMethod: 'DOMESTIC',
      sourceType: '970400',
      orderID: session.gatewayOrderId,
      orderAmount: String(session.amount),
      orderCurrency: 'VND',
      orderDateTime: time,
      orderDescription: 'Bench order',
      language: 'vi',
    },
  };
  return JSON.stringify(encodeCallback(payload, salt));
}

/** A source of request bodies that hands each one out once, and counts requests beyond the supply. */
export class BodySupply {
  private readonly bodies: readonly string[];
  private index = 0;
  /** Requests made after every body had been used (they repeat the last body). */
  overflow = 0;

  constructor(bodies: readonly string[]) {
    if (bodies.length === 0) throw new Error('BodySupply needs at least one body');
    this.bodies = bodies;
  }

  /** How many bodies are left. */
  get remaining(): number {
    return this.bodies.length - this.index;
  }

  /** The next unused body; once all are used, the last one again (counted in `overflow`). */
  take(): string {
    const body = this.nextUnused();
    if (body !== undefined) return body;
    this.overflow += 1;
    return this.bodies[this.bodies.length - 1]!;
  }

  /** Every unused body, now counted as used (for a generator on another thread). */
  takeRest(): string[] {
    const rest = this.bodies.slice(this.index);
    this.index = this.bodies.length;
    return rest;
  }

  /** The next unused body, or undefined once all are used. */
  nextUnused(): string | undefined {
    return this.index < this.bodies.length ? this.bodies[this.index++] : undefined;
  }
}
