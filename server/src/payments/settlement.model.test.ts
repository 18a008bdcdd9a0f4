/**
 * T23 (docs/reliability.md §4): model-based. Random sequences of session creation, verified success,
 * failure and tampered reports, cancellations, expiries, duplicates and restarts (`fc.commands`), run
 * against `settle()` and a real store (SQLite and PostgreSQL) and checked against a reference model of the
 * state machine (docs/reliability.md §2) after every step.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../logger.js';
import { createPostgresStore } from '../store/postgres.js';
import { createSqliteStore } from '../store/sqlite.js';
import type { OutboxEvent, Session, SessionStatus, Store } from '../store/store.js';
import { freshStore, seedSession } from '../testing/test-support.js';
import { settle, type GatewayReport } from './settlement.js';

describe('T23 model-based: random command sequences against a reference model', () => {
  type ReportKind = 'success' | 'fail' | 'tampered';

  interface ModelSession {
    amount: number;
    status: SessionStatus;
    lateSuccess: boolean;
    /** Outbox events the transitions so far must have written, once each. */
    events: Set<OutboxEvent>;
    /** Callbacks settled for this session: each leaves exactly one payment event. */
    reports: number;
    successes: number;
    everPaid: boolean;
    last?: ReportKind;
  }
  interface Model {
    sessions: ModelSession[];
  }
  interface Real {
    store: Store;
    /** Opens the same database again (a restarted signer). */
    reopen: () => Store;
    sessions: Session[];
    sequence: number;
  }

  const deps = (r: Real) => ({ store: r.store, logger: silentLogger, now: () => new Date() });

  /** What the state machine (docs/reliability.md §2) does with a verified report. */
  function expected(status: SessionStatus, kind: ReportKind): OutboxEvent | undefined {
    const open = status === 'pending' || status === 'pending_unknown';
    const ended = status === 'failed' || status === 'cancelled' || status === 'expired';
    switch (kind) {
      case 'success':
        return open || ended ? 'paid' : undefined;
      case 'fail':
        return open ? 'failed' : undefined;
      case 'tampered':
        return open || ended ? 'needs_review' : undefined;
    }
  }

  function report(session: Session, kind: ReportKind, sequence: number): GatewayReport {
    return {
      kind: 'ipn',
      raw: `ipn:${kind}:${session.id}:${sequence}`,
      orderId: session.gatewayOrderId,
      transactionId: session.transactionId!,
      amount: String(kind === 'tampered' ? session.amount + 1 : session.amount),
      currency: 'VND',
      responseCode: kind === 'fail' ? '505' : '200',
      transactionStatus: kind === 'fail' ? '505' : '200',
      message: kind === 'fail' ? 'Authentication Failure' : 'Transaction is successful.',
    };
  }

  async function applyReport(m: Model, r: Real, index: number, kind: ReportKind): Promise<void> {
    const model = m.sessions[index]!;
    const to = expected(model.status, kind);
    r.sequence += 1;

    const result = await settle(deps(r), report(r.sessions[index]!, kind, r.sequence));

    assert.equal(result.changed, to !== undefined, `${kind} from ${model.status}`);
    assert.equal(result.ipnStatus, to !== undefined ? '200' : '409');
    model.reports += 1;
    model.last = kind;
    if (kind === 'success') model.successes += 1;
    if (to !== undefined) {
      if (to === 'paid' && model.status !== 'pending') model.lateSuccess = true;
      model.status = to;
      model.events.add(to);
      if (to === 'paid') model.everPaid = true;
    }
  }

  async function directTransition(
    m: Model,
    r: Real,
    index: number,
    to: 'cancelled' | 'expired',
  ): Promise<void> {
    const model = m.sessions[index]!;
    const at = new Date();
    const result = await r.store.transition(
      r.sessions[index]!.id,
      to === 'cancelled' ? { to, reason: 'closed', evidence: null, at } : { to, at },
    );
    const allowed = model.status === 'pending' || model.status === 'pending_unknown';
    assert.equal(result.changed, allowed, `${to} from ${model.status}`);
    if (allowed) {
      model.status = to;
      model.events.add(to);
    }
  }

  /** The invariants, checked against the store after every command. */
  async function checkInvariants(m: Model, r: Real): Promise<void> {
    for (const [i, model] of m.sessions.entries()) {
      const id = r.sessions[i]!.id;
      const stored = await r.store.getSession(id);
      const outbox = await r.store.listOutbox(id);
      const events = await r.store.listEvents(id);
      const order = await r.store.getOrder(r.sessions[i]!.orderRef);

      assert.equal(stored?.status, model.status, `status of session ${i}`);
      assert.equal(stored?.lateSuccess, model.lateSuccess, `lateSuccess of session ${i}`);
      if (model.everPaid) assert.equal(stored?.status, 'paid', 'paid never regresses');
      assert.equal(stored?.amount, model.amount, 'the amount never changes');
      assert.equal(stored?.currency, 'VND', 'the currency never changes');
      assert.equal(order?.amount, model.amount);
      assert.ok(outbox.filter(o => o.event === 'paid').length <= 1, 'at most one paid outbox row');
      assert.deepEqual(
        outbox.map(o => o.event).sort(),
        [...model.events].sort(),
        'one outbox row per transition, and no orphan',
      );
      assert.equal(events.length, model.reports, 'every settled callback is recorded');
      const successes = events.filter(e => e.verified && e.raw.startsWith('ipn:success:'));
      assert.equal(successes.length, model.successes, 'every verified success is recorded');
      assert.ok(
        successes.every(e => e.verdict === 'applied' || e.verdict === 'duplicate'),
        'a verified success is applied or kept as a duplicate',
      );
    }
  }

  const pick = (m: Model, n: number) => n % m.sessions.length;
  const executed = new Map<string, number>();
  const cmd = (
    name: string,
    check: (m: Readonly<Model>) => boolean,
    run: (m: Model, r: Real) => Promise<void>,
  ): fc.AsyncCommand<Model, Real> => ({
    check,
    run: async (m, r) => {
      await run(m, r);
      await checkInvariants(m, r);
      executed.set(name.replace(/\(.*/, ''), (executed.get(name.replace(/\(.*/, '')) ?? 0) + 1);
    },
    toString: () => name,
  });
  const any = (m: Readonly<Model>) => m.sessions.length > 0;

  const commands = [
    fc.integer({ min: 1, max: 50 }).map(k =>
      cmd(
        `create(${k * 1000})`,
        () => true,
        async (m, r) => {
          r.sessions.push(await seedSession(r.store, { amount: k * 1000 }));
          m.sessions.push({
            amount: k * 1000,
            status: 'pending',
            lateSuccess: false,
            events: new Set(),
            reports: 0,
            successes: 0,
            everPaid: false,
          });
        },
      ),
    ),
    ...(['success', 'fail', 'tampered'] as const).map(kind =>
      fc
        .nat()
        .map(n => cmd(`ipn-${kind}(${n})`, any, (m, r) => applyReport(m, r, pick(m, n), kind))),
    ),
    fc
      .nat()
      .map(n =>
        cmd(`cancel(${n})`, any, (m, r) => directTransition(m, r, pick(m, n), 'cancelled')),
      ),
    fc
      .nat()
      .map(n => cmd(`expire(${n})`, any, (m, r) => directTransition(m, r, pick(m, n), 'expired'))),
    fc.nat().map(n =>
      cmd(
        `duplicate(${n})`,
        m => m.sessions.some(s => s.last !== undefined),
        (m, r) => {
          const candidates = m.sessions.flatMap((s, i) => (s.last ? [i] : []));
          const index = candidates[n % candidates.length]!;
          return applyReport(m, r, index, m.sessions[index]!.last!);
        },
      ),
    ),
    fc.constant(
      cmd(
        'restart',
        () => true,
        async (_m, r) => {
          await r.store.close();
          r.store = r.reopen();
          await r.store.migrate();
        },
      ),
    ),
  ];

  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`T23 keeps every invariant after every step (${kind}, 20 runs, up to 30 commands)`, async t => {
      executed.clear();
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async cmds => {
          const fresh = await freshStore(kind);
          const reopen = () =>
            kind === 'sqlite'
              ? createSqliteStore(fresh.url)
              : createPostgresStore(fresh.url, { schema: fresh.schema! });
          const real: Real = { store: fresh.store, reopen, sessions: [], sequence: 0 };
          try {
            await fc.asyncModelRun(() => ({ model: { sessions: [] }, real }), cmds);
          } finally {
            await real.store.close();
            await fresh.drop();
          }
        }),
        { numRuns: 20 },
      );
      const total = [...executed.values()].reduce((a, b) => a + b, 0);
      t.diagnostic(
        `T23 (${kind}) ran ${total} commands in 20 sequences: ${[...executed].map(([k, v]) => `${k} ${v}`).join(', ')}`,
      );
      assert.ok(total >= 100, `only ${total} commands ran`);
    });
  }
});
