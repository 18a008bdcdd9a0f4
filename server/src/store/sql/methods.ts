/**
 * The store methods both adapters share, written once over an {@link Engine}: what is left to each adapter is
 * its connection, how it commits, its transition, unverified evidence, notifications and schema runner.
 */

import {
  openSessionExists,
  sessionNotFound,
  transactionIdConflict,
  type StoreError,
} from '../errors.js';
import type { OperationsStore } from '../operations.js';
import {
  eventFromRow,
  idempotencyStateFromRow,
  orderFromRow,
  outboxFromRow,
  sessionFromRow,
  type Row,
} from '../rows.js';
import type { Store } from '../store.js';
import { IDEMPOTENCY_LEASE_MS, type Session } from '../types.js';
import type { UniqueIndex } from './dialect.js';
import * as S from './statements.js';
import { first, many, one, run, type Engine, type Work } from './work.js';

/** Longest `last_error` kept per outbox item. */
const MAX_ERROR_LENGTH = 1000;

/** How many times `beginIdempotent` tries when its key vanishes between insert and read. */
const IDEMPOTENCY_ATTEMPTS = 3;

/** Stands for "no backoff date" in `listStalePending` (ISO text on SQLite: it must keep four digits). */
const FAR_FUTURE = new Date('9999-12-31T23:59:59.999Z');

/** The methods each adapter writes itself. */
export type OwnMethods =
  'migrate' | 'close' | 'transition' | 'settleReport' | 'recordEvent' | 'publish' | 'subscribe';

/** The session row as it is now; a missing one is `session_not_found`. */
export function* currentSession(id: string): Work<Session> {
  const session = yield* first(S.SESSION, { id }, sessionFromRow);
  if (session === null) throw sessionNotFound(id);
  return session;
}

/** Runs `work`, turning a violation of `index` into `refusal`. */
export function* refusing<T>(
  engine: Engine,
  index: UniqueIndex,
  refusal: (cause: unknown) => StoreError,
  work: Work<T>,
): Work<T> {
  try {
    return yield* work;
  } catch (error) {
    if (engine.violates(error, index)) throw refusal(error);
    throw error;
  }
}

/**
 * The shared part of a store. `published` tells subscribers that a session changed, once it is committed
 * (a reopened session; transitions publish on their own).
 */
export function sharedMethods(
  engine: Engine,
  published: (sessionId: string) => Promise<void>,
): Omit<Store, OwnMethods | keyof OperationsStore> {
  const { read, write } = engine;
  return {
    putOrder(order) {
      return write(function* () {
        yield* run(S.INSERT_ORDER, order);
        return orderFromRow((yield* one(S.ORDER, order)) as Row);
      });
    },

    getOrder(orderRef) {
      return read(() => first(S.ORDER, { orderRef }, orderFromRow));
    },

    createSession(session) {
      const params = {
        ...session,
        plan: session.plan ? JSON.stringify(session.plan) : null,
        clientKeyHash: session.clientKeyHash ?? null,
      };
      return write(function* () {
        const refusal = (cause: unknown) => openSessionExists(session.orderRef, cause);
        const row = yield* refusing(engine, 'openSession', refusal, one(S.INSERT_SESSION, params));
        return sessionFromRow(row!);
      });
    },

    getSession(id) {
      return read(() => first(S.SESSION, { id }, sessionFromRow));
    },

    getSessionByGatewayOrderId(gatewayOrderId) {
      return read(() => first(S.SESSION_BY_GATEWAY_ORDER, { gatewayOrderId }, sessionFromRow));
    },

    findOpenSession(orderRef, now) {
      return read(() => first(S.OPEN_SESSION, { orderRef, now }, sessionFromRow));
    },

    findPaidSession(orderRef) {
      return read(() => first(S.PAID_SESSION, { orderRef }, sessionFromRow));
    },

    findEndedWithPage(orderRef, expiresAfter) {
      return read(() => many(S.ENDED_WITH_PAGE, { orderRef, expiresAfter }, sessionFromRow));
    },

    listEndedToWatch(before, expiresAfter, now, limit) {
      const params = { before, expiresAfter, now, limit };
      return read(() => many(S.ENDED_TO_WATCH, params, sessionFromRow));
    },

    async reopenSession(id, at) {
      const result = await write(function* () {
        const refusal = (cause: unknown) => openSessionExists(id, cause);
        const row = yield* refusing(
          engine,
          'openSession',
          refusal,
          one(S.REOPEN_SESSION, { id, at }),
        );
        return row === undefined
          ? { changed: false, session: yield* currentSession(id) }
          : { changed: true, session: sessionFromRow(row) };
      });
      if (result.changed) await published(id);
      return result;
    },

    listStalePending(before, limit, now) {
      // Without `now`, sessions waiting out a backoff are listed too (an operator's explicit reconcile).
      const params = { before, limit, due: now ?? FAR_FUTURE };
      return read(() => many(S.STALE_PENDING, params, sessionFromRow));
    },

    async scheduleCheck(id, failures, nextCheckAt) {
      await write(() => run(S.SCHEDULE_CHECK, { id, failures, nextCheckAt }));
    },

    attachCheckout(id, checkout, at) {
      return write(function* () {
        const refusal = (cause: unknown) =>
          transactionIdConflict(id, checkout.transactionId, cause);
        const update = one(S.ATTACH_CHECKOUT, { id, at, ...checkout });
        const row = yield* refusing(engine, 'transactionId', refusal, update);
        if (row === undefined) throw sessionNotFound(id);
        return sessionFromRow(row);
      });
    },

    markPendingUnknown(id, at) {
      return write(function* () {
        const row = yield* one(S.MARK_PENDING_UNKNOWN, { id, at });
        return row === undefined ? yield* currentSession(id) : sessionFromRow(row);
      });
    },

    listEvents(sessionId) {
      return read(() => many(S.EVENTS_OF_SESSION, { sessionId }, eventFromRow));
    },

    async claimOutbox(now, leaseUntil, limit) {
      const items = await write(() =>
        many(S.CLAIM_OUTBOX, { now, leaseUntil, limit }, outboxFromRow),
      );
      // RETURNING yields rows in no promised order.
      return items.sort((a, b) => a.id - b.id);
    },

    async markOutboxDelivered(id, at) {
      await write(() => run(S.OUTBOX_DELIVERED, { id, at }));
    },

    async markOutboxFailed(id, error, retryAt) {
      const params = { id, error: error.slice(0, MAX_ERROR_LENGTH), retryAt };
      await write(() => run(S.OUTBOX_FAILED, params));
    },

    listOutbox(sessionId) {
      return read(() => many(S.OUTBOX_OF_SESSION, { sessionId }, outboxFromRow));
    },

    beginIdempotent(key, requestHash, now, expiresBefore) {
      const leaseStart = new Date(now.getTime() - IDEMPOTENCY_LEASE_MS);
      return write(function* () {
        yield* run(S.EXPIRE_IDEMPOTENCY, { expiresBefore, leaseStart });
        // Between our insert and our read the key can be abandoned (PostgreSQL, where they are two
        // transactions); then it is free to take again.
        for (let attempt = 0; attempt < IDEMPOTENCY_ATTEMPTS; attempt += 1) {
          if ((yield* run(S.INSERT_IDEMPOTENCY, { key, requestHash, now })) === 1) {
            return { state: 'started' } as const;
          }
          const row = yield* one(S.IDEMPOTENCY, { key });
          if (row !== undefined) return idempotencyStateFromRow(row, requestHash);
        }
        return { state: 'in_flight' } as const;
      });
    },

    async finishIdempotent(key, status, body) {
      await write(() => run(S.FINISH_IDEMPOTENCY, { key, status, body }));
    },

    async abandonIdempotent(key) {
      await write(() => run(S.ABANDON_IDEMPOTENCY, { key }));
    },
  };
}
