/**
 * Target entry: the signer (`createApp`) on SQLite or PostgreSQL, on loopback, with the sandbox as its
 * gateway. It also seeds the store for the runner: pending sessions for IPNs, priced orders for sessions.
 */

import { randomBytes } from 'node:crypto';
import { newRequestId } from '@galaxy-pay/protocol';
import { createApp, openStore, type Store } from '@galaxy-pay/server';
import {
  BENCH_API_KEY,
  BENCH_SALT,
  MERCHANT_ORIGIN,
  type Command,
  type CommandResults,
  type SeededSession,
  type TargetSpec,
} from '../messages.js';
import { listen, serve, specFromArgv, stop, type Target } from './serve.js';

/** The price of every seeded order: a realistic VND amount. */
const ORDER_AMOUNT = 150_000;
/** How many store calls seeding keeps in flight (SQLite queues them; PostgreSQL uses its pool). */
const SEED_CONCURRENCY = 16;
/** Effectively no per-IP limit: one load generator on 127.0.0.1 would otherwise be throttled. */
const NO_LIMIT = 1_000_000_000;

void serve(() => startSigner(specFromArgv<Extract<TargetSpec, { kind: 'signer' }>>()));

async function startSigner(spec: Extract<TargetSpec, { kind: 'signer' }>): Promise<Target> {
  const store = openStore(spec.databaseUrl, spec.schema ? { schema: spec.schema } : {});
  await store.migrate();
  const { server, url } = await listen();
  const { listener, signer } = createApp({
    apiKey: BENCH_API_KEY,
    salt: BENCH_SALT,
    gatewayBaseUrl: spec.gatewayUrl,
    publicUrl: url,
    allowedOrigins: [MERCHANT_ORIGIN],
    store,
    rateLimits: { create: NO_LIMIT, read: NO_LIMIT, admin: NO_LIMIT },
    // Seeded sessions must not turn stale and be queried against the sandbox in the middle of a run.
    reconcile: { staleAfterMs: 3_600_000, intervalMs: 3_600_000 },
  });
  server.on('request', listener);
  await signer.ready;

  async function handle<C extends Command>(command: C): Promise<CommandResults[C['op']]> {
    switch (command.op) {
      case 'seedIpnSessions':
        return (await seedIpnSessions(
          store,
          command.prefix,
          command.count,
        )) as CommandResults[C['op']];
      case 'seedOrders':
        return (await seedOrders(store, command.prefix, command.count)) as CommandResults[C['op']];
      default:
        throw new Error(`the signer target does not handle ${command.op}`);
    }
  }

  return {
    url,
    handle,
    close: async () => {
      await stop(server);
      await signer.close();
      await store.close();
    },
  };
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` calls in flight, keeping the order. */
async function pooled<T>(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

function putOrder(store: Store, orderRef: string, now: Date) {
  return store.putOrder({
    orderRef,
    amount: ORDER_AMOUNT,
    currency: 'VND',
    description: 'Bench order',
    netAmount: ORDER_AMOUNT,
    feeAmount: 0,
    discountAmount: 0,
    createdAt: now,
  });
}

/** Orders registered ahead, as `POST /admin/orders` would: `POST /sessions` then only prices them. */
function seedOrders(store: Store, prefix: string, count: number): Promise<string[]> {
  const now = new Date();
  return pooled(count, SEED_CONCURRENCY, async i => {
    const orderRef = `${prefix}-${i}`;
    await putOrder(store, orderRef, now);
    return orderRef;
  });
}

/**
 * 16 bytes as the signer makes its session ids and gateway order ids (`newSessionId`, `newGatewayOrderId`,
 * server/src/payments/ids.ts): the time, then 80 random bits. The bench measures what the signer makes.
 */
function timeOrderedBytes(): Buffer {
  const id = randomBytes(16);
  id.writeUIntBE(Date.now(), 0, 6);
  return id;
}

/**
 * Pending sessions exactly as `POST /sessions` leaves them after the gateway answered (order, session,
 * checkout), written through the store API instead of the sandbox because that is much faster.
 */
function seedIpnSessions(store: Store, prefix: string, count: number): Promise<SeededSession[]> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 3_600_000);
  return pooled(count, SEED_CONCURRENCY, async i => {
    const orderRef = `${prefix}-${i}`;
    await putOrder(store, orderRef, now);
    const session = await store.createSession({
      id: timeOrderedBytes().toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      orderRef,
      gatewayOrderId: timeOrderedBytes().toString('hex'),
      requestId: newRequestId(),
      amount: ORDER_AMOUNT,
      currency: 'VND',
      locale: 'vi',
      paymentMethod: 'DOMESTIC',
      sourceType: null,
      returnUrl: null,
      merchantOrigin: MERCHANT_ORIGIN,
      createdAt: now,
      expiresAt,
    });
    const transactionId = randomBytes(10).toString('hex').toUpperCase();
    await store.attachCheckout(
      session.id,
      { transactionId, checkoutUrl: `http://127.0.0.1/checkout/${transactionId}` },
      now,
    );
    return {
      gatewayOrderId: session.gatewayOrderId,
      transactionId,
      requestId: session.requestId,
      amount: session.amount,
    };
  });
}
