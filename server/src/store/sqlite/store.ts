/**
 * The SQLite store: one connection per store on a `file:` URL, the reads of one turn in one read transaction
 * (`read-batch.ts`), every write in a group commit (see `group-commit.ts`) whose WAL is synced off the event
 * loop (`wal-sync.ts`) and checkpointed on a worker thread once the store is busy (`checkpointer.ts`). The
 * methods are the shared ones (`../sql/`), run synchronously.
 */

import { eventAsRecorded, outboxPayload, transitionChanges } from '../transitions.js';
import { capUnverified, evidenceLimits, type EvidenceStoreOptions } from '../evidence.js';
import { transactionIdConflict } from '../errors.js';
import { sessionFactsFromRow, sessionFromRow } from '../rows.js';
import { currentSession, refusing, sharedMethods } from '../sql/methods.js';
import { operationMethods } from '../sql/operation-methods.js';
import { migrate, migrations } from '../sql/schema.js';
import {
  INSERT_EVENT,
  QUEUE_OUTBOX,
  SESSION_FACTS_BY_GATEWAY_ORDER,
  TRANSITION,
  TRANSITION_KEEPING_TRANSACTION_ID,
} from '../sql/statements.js';
import { first, one, run, runSync, type Engine, type Work } from '../sql/work.js';
import type { PaymentEvent, Store, Transition, TransitionResult } from '../store.js';
import { checkpointer } from './checkpointer.js';
import { databasePath, executor, openDatabase, SQLITE, violates } from './database.js';
import { recordUnverified } from './evidence.js';
import { groupCommit } from './group-commit.js';
import { readBatch } from './read-batch.js';
import { walSync } from './wal-sync.js';

type Listener = (sessionId: string) => void;

/**
 * The subscribers of each database file in this process, keyed by absolute path, so every store opened
 * on one file hears every other's changes. Delivering to other processes needs PostgreSQL's NOTIFY.
 */
const subscribers = new Map<string, Set<Listener>>();

function addSubscriber(path: string, listener: Listener): void {
  let listeners = subscribers.get(path);
  if (listeners === undefined) {
    listeners = new Set();
    subscribers.set(path, listeners);
  }
  listeners.add(listener);
}

function removeSubscriber(path: string, listener: Listener): void {
  const listeners = subscribers.get(path);
  listeners?.delete(listener);
  if (listeners?.size === 0) subscribers.delete(path);
}

/** Tells every subscriber of the file that a session changed. */
function notify(path: string, sessionId: string): void {
  // Listeners run after the publisher's turn, as they would on a NOTIFY, so none can fail it.
  for (const listener of subscribers.get(path) ?? []) queueMicrotask(() => listener(sessionId));
}

/**
 * Opens the SQLite store on a `file:` URL (WAL journal synced off the event loop and checkpointed on a worker
 * thread once the store is busy, foreign keys on). `publish`, and every transition that changed a session,
 * reach subscribers in this process only: several signer processes need PostgreSQL.
 */
export function createSqliteStore(url: string, options: EvidenceStoreOptions = {}): Store {
  const path = databasePath(url);
  const limits = evidenceLimits(options.unverifiedEvidence);
  const db = openDatabase(path);
  const wal = walSync(path);
  const checkpoints = checkpointer(db, path);
  const ownListeners = new Set<Listener>();
  let closed = false;

  /** Fails clearly on a closed store (better-sqlite3 alone would say "connection is not open"). */
  function assertOpen(): void {
    if (closed) throw new Error(`the SQLite store on ${path} is closed`);
  }

  const execute = executor(db, assertOpen);
  const write = groupCommit(db, {
    assertOpen,
    committed: () => checkpoints.committed(),
    heldBack: () => checkpoints.heldBack(),
    durable: () => wal.durable(),
  });
  const inGroupCommit = <T>(work: () => Work<T>) => write(() => runSync(work(), execute));
  const readTogether = readBatch(db, assertOpen);
  const engine: Engine = {
    dialect: SQLITE,
    read: work => readTogether(() => runSync(work(), execute)),
    write: inGroupCommit,
    atomic: inGroupCommit,
    violates,
  };

  /** One transition's writes (see `Store.transition`), run inside a group commit. */
  function* transitionWork(
    id: string,
    transition: Transition,
    event: PaymentEvent | undefined,
  ): Work<TransitionResult> {
    const changes = transitionChanges(transition);
    const refusal = (cause: unknown) => transactionIdConflict(id, changes.transactionId, cause);
    // Most sessions have their transaction id already: moved without naming it, the index keeps its page.
    const params = { id, ...changes };
    const row =
      (yield* one(TRANSITION_KEEPING_TRANSACTION_ID[transition.to], params)) ??
      (yield* refusing(engine, 'transactionId', refusal, one(TRANSITION[transition.to], params)));
    const changed = row !== undefined;
    const session = changed ? sessionFromRow(row) : yield* currentSession(id);
    if (changed) {
      const payload = outboxPayload(session, transition);
      yield* run(QUEUE_OUTBOX, { sessionId: id, event: transition.to, payload, at: changes.at });
    }
    if (event !== undefined) yield* run(INSERT_EVENT, eventAsRecorded(event, changed));
    return { changed, session };
  }

  /** Stores one event (see `Store.recordEvent`), inside a group commit. */
  function* eventWork(event: PaymentEvent): Work<void> {
    if (event.verified) {
      yield* run(INSERT_EVENT, event);
      return;
    }
    // Unverified: a prefix, in a window capped by rows and bytes; the oldest go in the same transaction.
    yield* recordUnverified(capUnverified(event), limits);
  }

  async function publish(sessionId: string): Promise<void> {
    assertOpen();
    notify(path, sessionId);
  }

  return {
    ...sharedMethods(engine, publish),
    ...operationMethods(engine),

    async migrate() {
      await inGroupCommit(() => migrate(SQLITE, migrations(SQLITE)));
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const listener of ownListeners) removeSubscriber(path, listener);
      ownListeners.clear();
      // Writes still waiting for their fsync were committed: let them be answered before the handle goes.
      await wal.durable().catch(() => undefined);
      await checkpoints.close();
      wal.close();
      db.close();
    },

    async transition(id, transition, event) {
      const result = await inGroupCommit(() => transitionWork(id, transition, event));
      // Only now is the change committed, so a subscriber that reads the session sees it.
      if (result.changed) notify(path, id);
      return result;
    },

    async settleReport(gatewayOrderId, settlement) {
      const result = await inGroupCommit(function* () {
        // The facts alone: a moved session comes back whole from the transition's RETURNING.
        const facts = yield* first(
          SESSION_FACTS_BY_GATEWAY_ORDER,
          { gatewayOrderId },
          sessionFactsFromRow,
        );
        if (facts === null) return null;
        const { transition, event } = settlement(facts);
        if (transition !== undefined) return yield* transitionWork(facts.id, transition, event);
        yield* eventWork(event);
        return { changed: false, session: yield* currentSession(facts.id) };
      });
      if (result?.changed) notify(path, result.session.id);
      return result;
    },

    async recordEvent(event) {
      await inGroupCommit(() => eventWork(event));
    },

    publish,

    async subscribe(listener) {
      assertOpen();
      // A wrapper of our own, so the same function subscribed twice is two subscriptions.
      const own: Listener = sessionId => listener(sessionId);
      addSubscriber(path, own);
      ownListeners.add(own);
      return async () => {
        removeSubscriber(path, own);
        ownListeners.delete(own);
      };
    },
  };
}
