/**
 * The merchant-operations methods (`OperationsStore`), written once over an {@link Engine}. A guarded operation
 * is checked and inserted atomically: in SQLite's group commit (`BEGIN IMMEDIATE`, so within and across
 * processes), on PostgreSQL in a transaction that first locks the session row (`FOR UPDATE`), so two processes
 * refunding one payment at once are serialized and the second sees the first's reservation. Unique indexes back
 * every rule up.
 */

import { cardFromRow, linkFromRow, operationFromRow, operationOutbox } from '../operation-rows.js';
import type { BeginOperation, Operation, OperationsStore } from '../operations.js';
import { sessionFromRow, type Row } from '../rows.js';
import * as O from './operation-statements.js';
import { QUEUE_OUTBOX, SESSION } from './statements.js';
import { first, many, one, run, type Engine, type Work } from './work.js';

/** Inside the operation's transaction: queues the merchant's notice of an operation that just changed state. */
function* queueNotice(op: Operation, at: Date): Work<void> {
  if (op.sessionId === null) return;
  const session = yield* first(SESSION, { id: op.sessionId }, sessionFromRow);
  if (!session) return;
  const refunded = yield* one(O.REFUNDED_TOTAL, { sessionId: op.sessionId });
  const notice = operationOutbox(op, session, Number(refunded?.total ?? 0), at);
  if (notice === null) return;
  yield* run(QUEUE_OUTBOX, { sessionId: op.sessionId, ...notice, at });
}

/** The methods, over the adapter's engine. */
export function operationMethods(engine: Engine): OperationsStore {
  const { read, write, atomic } = engine;
  const byKey = (kind: string, idempotencyKey: string) =>
    first(O.OPERATION_BY_KEY, { kind, idempotencyKey }, operationFromRow);
  const holder = (sessionId: string | null) =>
    first(O.CAPTURE_OR_VOID_HOLDER, { sessionId }, operationFromRow);
  const link = (orderNo: string) => first(O.LINK, { orderNo }, linkFromRow);

  return {
    async beginOperation(op, guard = {}) {
      try {
        return await atomic(function* (): Work<BeginOperation> {
          if (op.sessionId !== null && engine.dialect.forUpdate !== '') {
            yield* one(O.LOCK_SESSION, { sessionId: op.sessionId });
          }
          if (op.idempotencyKey !== null) {
            const existing = yield* byKey(op.kind, op.idempotencyKey);
            if (existing) return { state: 'exists', operation: existing };
          }
          if (guard.exclusive) {
            const taken = yield* holder(op.sessionId);
            if (taken) return { state: 'conflict', operation: taken };
          }
          if (guard.maxTotal !== undefined) {
            const sum = yield* one(O.LIVE_TOTAL, { sessionId: op.sessionId, kind: op.kind });
            const total = Number(sum?.total ?? 0);
            if (total + (op.amount ?? 0) > guard.maxTotal) return { state: 'exceeds', total };
          }
          const inserted = yield* one(O.INSERT_OPERATION, { ...op, state: op.state ?? 'pending' });
          return { state: 'started', operation: operationFromRow(inserted as Row) };
        });
      } catch (error) {
        // A session-less operation with a key raced another one: the winner's row is the answer.
        if (engine.violates(error, 'operationKey') && op.idempotencyKey !== null) {
          const key = op.idempotencyKey;
          const existing = await read(() => byKey(op.kind, key));
          if (existing) return { state: 'exists', operation: existing };
        }
        if (engine.violates(error, 'captureOrVoid')) {
          const taken = await read(() => holder(op.sessionId));
          if (taken) return { state: 'conflict', operation: taken };
        }
        throw error;
      }
    },

    finishOperation(id, outcome, at, expect) {
      const params = { ...outcome, detail: outcome.detail ?? null, id, at };
      return atomic(function* () {
        const updated = expect
          ? yield* one(O.FINISH_EXPECTED_OPERATION, {
              ...params,
              expectedState: expect.state,
              notUpdatedAfter: expect.notUpdatedAfter,
            })
          : yield* one(O.FINISH_OPERATION, params);
        if (updated !== undefined) yield* queueNotice(operationFromRow(updated), at);
        const current = yield* first(O.OPERATION, { id }, operationFromRow);
        if (!current) throw new Error(`operation ${id} does not exist`);
        return current;
      });
    },

    claimOperation(id, at) {
      return write(() => first(O.CLAIM_OPERATION, { id, at }, operationFromRow));
    },

    listUnsettledOperations(now, staleBefore, limit) {
      const params = { now, staleBefore, limit };
      return read(() => many(O.UNSETTLED_OPERATIONS, params, operationFromRow));
    },

    async scheduleOperationCheck(id, checkCount, nextCheckAt) {
      await write(() => run(O.SCHEDULE_OPERATION_CHECK, { id, checkCount, nextCheckAt }));
    },

    getOperation(id) {
      return read(() => first(O.OPERATION, { id }, operationFromRow));
    },

    listOperations({ sessionId, limit }) {
      return read(() =>
        sessionId === undefined
          ? many(O.RECENT_OPERATIONS, { limit }, operationFromRow)
          : many(O.OPERATIONS_OF_SESSION, { sessionId, limit }, operationFromRow),
      );
    },

    async setSessionPlan(sessionId, plan) {
      await write(() => run(O.SET_SESSION_PLAN, { sessionId, plan: JSON.stringify(plan) }));
    },

    listSessionsByOrder(orderRef) {
      return read(() => many(O.SESSIONS_OF_ORDER, { orderRef }, sessionFromRow));
    },

    listRecentSessions(limit, status) {
      return read(() =>
        status === undefined
          ? many(O.RECENT_SESSIONS, { limit }, sessionFromRow)
          : many(O.RECENT_SESSIONS_IN, { limit, status }, sessionFromRow),
      );
    },

    saveCard(card) {
      return write(function* () {
        const inserted = yield* one(O.INSERT_CARD, card);
        if (inserted !== undefined) return { card: cardFromRow(inserted), created: true };
        const stored = yield* one(O.CARD_BY_DIGEST, card);
        return { card: cardFromRow(stored as Row), created: false };
      });
    },

    listCards(customerRef) {
      return read(() => many(O.CARDS_OF_CUSTOMER, { customerRef }, cardFromRow));
    },

    getCard(customerRef, id) {
      return read(() => first(O.CARD, { customerRef, id }, cardFromRow));
    },

    async deleteCard(customerRef, id, at) {
      return (await write(() => run(O.DELETE_CARD, { customerRef, id, at }))) === 1;
    },

    createLink(input) {
      const params = {
        ...input,
        methods: JSON.stringify(input.methods),
        fields: JSON.stringify(input.fields),
      };
      return write(function* () {
        return linkFromRow((yield* one(O.INSERT_LINK, params)) as Row);
      });
    },

    getLink(orderNo) {
      return read(() => link(orderNo));
    },

    listLinks(limit) {
      return read(() => many(O.RECENT_LINKS, { limit }, linkFromRow));
    },

    settleLink(orderNo, s) {
      const params = {
        ...s,
        orderNo,
        payer: s.payer === null ? null : JSON.stringify(s.payer),
        paidAt: s.status === 'paid' ? s.at : null,
      };
      return write(function* () {
        const row = yield* one(O.SETTLE_LINK, params);
        if (row !== undefined) return { changed: true, link: linkFromRow(row) };
        return { changed: false, link: yield* link(orderNo) };
      });
    },
  };
}
