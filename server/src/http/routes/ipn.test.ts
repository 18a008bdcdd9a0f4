import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CallbackError,
  encodeCallback,
  signText,
  verifyCallback,
  type CallbackEnvelope,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import { createSandbox, type IpnAttempt, type Sandbox } from '@galaxy-pay/sandbox';
import { silentLogger } from '../../logger.js';
import type { PaymentNotice } from '../../delivery/notices.js';
import { reportFromCallback, settle } from '../../payments/settlement.js';
import { createSqliteStore } from '../../store/sqlite.js';
import type { PaymentEvent, Session, Store } from '../../store/store.js';
import { slowRequest } from '../../testing/raw-http.js';
import {
  API_KEY,
  SALT,
  completeInSandbox,
  eventually,
  freshStore,
  gatewayCallbackFor,
  ipnAttempts,
  listAllEvents,
  openTestSession,
  sandboxRequests,
  startStack,
  transactionIdOf,
  widgetCall,
  type Reply,
  type Stack,
  type StoreKind,
} from '../../testing/test-support.js';

/** Plain orders P-0 … P-149 plus the orders whose description carries a sandbox fault. */
const CATALOG = {
  ...Object.fromEntries(
    Array.from({ length: 150 }, (_, i) => [`P-${i}`, { amount: 100_000, description: `Đơn ${i}` }]),
  ),
  'AMOUNT-1': { amount: 100_000, description: 'Đơn sandbox:amount:+1' },
  'CURRENCY-1': { amount: 100_000, description: 'Đơn sandbox:currency:USD' },
  'AUTH-1': { amount: 100_000, description: 'Đơn sandbox:status:authorized' },
  'PROTO-1': { amount: 100_000, description: 'Đơn sandbox:proto-pollution' },
  'REORDER-1': { amount: 100_000, description: 'Đơn sandbox:reorder' },
  'LATE-1': { amount: 100_000, description: 'Đơn sandbox:late:0.4' },
  'IPN-FIRST-1': { amount: 100_000, description: 'Đơn sandbox:ipn-first' },
};

/** A fresh plain order reference per call (one open session per order). */
function refs(): () => string {
  let next = 0;
  return () => `P-${next++}`;
}

/** POSTs to `/ipn` as the gateway would: a JSON body, or a form (an object is percent-encoded). */
async function postIpn(
  stack: Pick<Stack, 'signerUrl'>,
  body: unknown,
  as: 'json' | 'form' = 'json',
): Promise<Reply> {
  const text =
    typeof body === 'string'
      ? body
      : as === 'json'
        ? JSON.stringify(body)
        : new URLSearchParams(body as Record<string, string>).toString();
  const res = await fetch(`${stack.signerUrl}/ipn`, {
    method: 'POST',
    headers: {
      'content-type': as === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    },
    body: text,
  });
  const answer = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(answer) as Record<string, unknown>;
  } catch {
    // not JSON: the assertion on `json` fails with the text in view
  }
  return { status: res.status, json, text: answer, headers: res.headers };
}

/** What the sandbox recorded of its IPN deliveries for a transaction. */
function deliveriesOf(stack: Pick<Stack, 'sandboxUrl'>, transactionId: unknown) {
  return ipnAttempts(stack, { transactionID: transactionId });
}

/** The answers the signer gave to the sandbox's attempts, as `httpStatus/ipnStatus`. */
function answers(attempts: IpnAttempt[]): string[] {
  return attempts.map(a => `${a.answer?.httpStatus ?? a.error}/${a.answer?.ipnStatus ?? '-'}`);
}

/** The error code of an answer, if any. */
function codeOf(reply: Reply): unknown {
  return (reply.json.error as { code?: unknown } | undefined)?.code;
}

function signed(data: string): CallbackEnvelope {
  return { data, signature: signText(data, SALT) };
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A gate a store call waits at: `entered` once one has reached it, and none goes on before `release()`. */
interface Gate {
  entered: Promise<void>;
  reach(): Promise<void>;
  release(): void;
}

function gate(): Gate {
  let reached = () => {};
  let release = () => {};
  const entered = new Promise<void>(resolve => (reached = resolve));
  const released = new Promise<void>(resolve => (release = resolve));
  return {
    entered,
    reach: () => {
      reached();
      return released;
    },
    release,
  };
}

/** Faults a test switches on in the main stack's store. */
interface StoreFaults {
  /** Holds every transition at this gate, to show the reply waits for the commit. */
  holdTransitions: Gate | undefined;
  /** Transitions fail as if the database were down. */
  failTransitions: boolean;
  /** Recording an event fails as if the database were down. */
  failRecords: boolean;
}

function withFaults(store: Store, faults: StoreFaults): Store {
  const down = () => Object.assign(new Error('connection refused'), { name: 'StoreDown' });
  return new Proxy(store, {
    get(target, key, receiver) {
      // An IPN's transition is the one `settleReport` applies; other paths call `transition`.
      if (key === 'transition') {
        return async (...args: Parameters<Store['transition']>) => {
          await faults.holdTransitions?.reach();
          if (faults.failTransitions) throw down();
          return target.transition(...args);
        };
      }
      if (key === 'settleReport') {
        return async (...args: Parameters<Store['settleReport']>) => {
          await faults.holdTransitions?.reach();
          if (faults.failTransitions) throw down();
          return target.settleReport(...args);
        };
      }
      if (key === 'recordEvent') {
        return async (event: PaymentEvent) => {
          if (faults.failRecords) throw down();
          return target.recordEvent(event);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** Runs `work` with some store faults switched on. */
async function withStoreFaults<T>(
  faults: StoreFaults,
  on: Partial<StoreFaults>,
  work: () => Promise<T>,
): Promise<T> {
  const saved = { ...faults };
  Object.assign(faults, on);
  try {
    return await work();
  } finally {
    Object.assign(faults, saved);
  }
}

/** mulberry32: a small seeded generator, so every run of the property explores the same cases. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function prototypeIsClean(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS);
}
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function eventShape(event: PaymentEvent) {
  return {
    sessionId: event.sessionId,
    kind: event.kind,
    verified: event.verified,
    verdict: event.verdict,
    raw: event.raw,
  };
}

/**
 * `count` IPN events kept without a session, as `eventShape` shows them: verified unless refused for their
 * signature.
 */
function deadLetters(count: number, verdict: PaymentEvent['verdict'], raw: string) {
  return Array.from({ length: count }, () => ({
    sessionId: null,
    kind: 'ipn',
    verified: verdict !== 'bad_signature',
    verdict,
    raw,
  }));
}

describe('POST /ipn', () => {
  let stack: Stack;
  let database: Awaited<ReturnType<typeof freshStore>>;
  const storeFaults: StoreFaults = {
    holdTransitions: undefined,
    failTransitions: false,
    failRecords: false,
  };
  const paidHookCalls = new Map<string, number>();
  const nextRef = refs();

  before(async () => {
    database = await freshStore('sqlite');
    stack = await startStack({
      sharedStore: withFaults(database.store, storeFaults),
      catalog: CATALOG,
      signer: {
        // The forgery property below counts a record per forgery; the limit has its own tests
        // (ipn-flood.test.ts).
        unverifiedIpnRate: 1_000_000,
        unverifiedIpnRateTotal: 1_000_000,
        hooks: {
          onPaid: (notice: PaymentNotice) => {
            paidHookCalls.set(notice.sessionId, (paidHookCalls.get(notice.sessionId) ?? 0) + 1);
          },
        },
      },
    });
  });
  after(async () => {
    await stack.close();
    await database.store.close();
    await database.drop();
  });

  describe('with a valid IPN from the sandbox', () => {
    it('T11 answers ipnStatus 200 only after pending → paid has committed, once, with the raw data kept', async () => {
      const session = await openTestSession(stack, nextRef());
      const hold = gate();
      const unansweredBefore = stack.traffic().unanswered;

      const completing = withStoreFaults(storeFaults, { holdTransitions: hold }, () =>
        completeInSandbox(stack, String(session.transactionId), 'success'),
      );
      // The IPN has reached its transition, held there: it must still be unanswered.
      await hold.entered;
      const unansweredWhileHeld = stack.traffic().unanswered;
      hold.release();
      await completing;
      // Read at once: the sandbox got its answer, so the change must already be durable.
      const paid = await stack.store.getSession(session.id);

      assert.equal(unansweredWhileHeld, unansweredBefore + 1, 'answered before the commit');
      assert.equal(paid?.status, 'paid');
      assert.ok(paid?.paidAt instanceof Date);
      const attempts = await deliveriesOf(stack, session.transactionId);
      assert.deepEqual(answers(attempts), ['200/200']);
      const events = await stack.store.listEvents(session.id);
      assert.deepEqual(events.map(eventShape), [
        {
          sessionId: session.id,
          kind: 'ipn',
          verified: true,
          verdict: 'applied',
          raw: attempts[0]!.envelope.data,
        },
      ]);
      assert.equal(events[0]!.transactionId, session.transactionId);
      assert.ok(events[0]!.receivedAt instanceof Date);
      const outbox = await stack.store.listOutbox(session.id);
      assert.deepEqual(
        outbox.map(item => item.event),
        ['paid'],
      );
      await eventually(() => paidHookCalls.get(session.id) === 1);
    });

    it('T11 answers 503 with Retry-After, never 200, when the transition cannot be committed', async () => {
      const session = await openTestSession(stack, nextRef());
      const envelope = encodeCallback(gatewayCallbackFor(session), SALT);

      const refused = await withStoreFaults(storeFaults, { failTransitions: true }, () =>
        postIpn(stack, envelope),
      );
      const pendingMeanwhile = await stack.store.getSession(session.id);
      const retried = await postIpn(stack, envelope);

      assert.equal(refused.status, 503, refused.text);
      assert.equal(codeOf(refused), 'temporarily_unavailable');
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(pendingMeanwhile?.status, 'pending');
      assert.deepEqual([retried.status, retried.json.ipnStatus], [200, '200']);
    });
  });

  describe('with a forged signature', () => {
    let session: Session;
    before(async () => {
      session = await openTestSession(stack, nextRef());
    });

    const forgeries: Array<[string, (s: Session) => CallbackEnvelope]> = [
      [
        'a random signature',
        s => ({
          data: encodeCallback(gatewayCallbackFor(s), SALT).data,
          signature: randomBytes(32).toString('hex'),
        }),
      ],
      [
        'the signature of other data',
        s => ({
          data: encodeCallback(gatewayCallbackFor(s), SALT).data,
          signature: encodeCallback(gatewayCallbackFor(s, { orderAmount: '1' }), SALT).signature,
        }),
      ],
      [
        'data signed with another salt (UAT vs production)',
        s => encodeCallback(gatewayCallbackFor(s), 'UAT-salt-of-another-environment'),
      ],
      [
        'a signature over the decoded JSON instead of the base64 text',
        s => {
          const json = JSON.stringify(gatewayCallbackFor(s));
          return { data: base64(json), signature: signText(json, SALT) };
        },
      ],
    ];
    for (const [name, forge] of forgeries) {
      it(`T12 refuses ${name} with 401 invalid_signature, changes nothing and records bad_signature`, async () => {
        const forged = forge(session);
        const before = await stack.store.getSession(session.id);

        const reply = await postIpn(stack, forged);

        assert.equal(reply.status, 401, reply.text);
        assert.equal(codeOf(reply), 'invalid_signature');
        assert.deepEqual(await stack.store.getSession(session.id), before);
        assert.deepEqual(await stack.store.listOutbox(session.id), []);
        const recorded = (await listAllEvents(database)).filter(e => e.raw === forged.data);
        assert.deepEqual(recorded.map(eventShape), deadLetters(1, 'bad_signature', forged.data));
      });
    }

    it('T12 still answers 401, never 500, when the bad_signature record cannot be stored', async () => {
      const forged = encodeCallback(gatewayCallbackFor(session), 'not-our-salt');

      const reply = await withStoreFaults(storeFaults, { failRecords: true }, () =>
        postIpn(stack, forged),
      );

      assert.equal(reply.status, 401, reply.text);
      assert.equal(codeOf(reply), 'invalid_signature');
    });

    it('T12 accepts none of 12,000 generated forged or tampered callbacks (2,000 over HTTP, 10,000 in process)', async t => {
      const targets: Session[] = [];
      for (let i = 0; i < 4; i++) targets.push(await openTestSession(stack, nextRef()));
      const snapshot = await Promise.all(targets.map(s => stack.store.getSession(s.id)));
      const unverifiedBefore = (await listAllEvents(database)).filter(e => !e.verified).length;
      const random = seeded(0x5eed);
      const cases = Array.from({ length: 12_000 }, () =>
        forgeCallback(random, targets[Math.floor(random() * targets.length)]!),
      );
      // The property means something only if the untouched originals would pass.
      for (const target of targets)
        verifyCallback(encodeCallback(gatewayCallbackFor(target), SALT), SALT);

      const overHttp = cases.slice(0, 2_000);
      const httpStarted = performance.now();
      const statuses = new Map<number, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < overHttp.length) {
            const reply = await postIpn(stack, overHttp[next++]);
            statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          }
        }),
      );
      const httpMs = performance.now() - httpStarted;
      const inProcessStarted = performance.now();
      let acceptedInProcess = 0;
      const deps = { store: stack.store, logger: silentLogger, now: () => new Date() };
      for (const forged of cases.slice(2_000)) {
        try {
          const payload = verifyCallback(forged, SALT) as TransactionCallback;
          acceptedInProcess += 1;
          await settle(deps, reportFromCallback('ipn', forged.data, payload));
        } catch (error) {
          if (!(error instanceof CallbackError) || error.signed) throw error;
        }
      }
      const inProcessMs = performance.now() - inProcessStarted;

      assert.deepEqual(
        [...statuses.keys()].filter(status => status !== 401 && status !== 400),
        [],
      );
      assert.equal(acceptedInProcess, 0);
      assert.deepEqual(await Promise.all(targets.map(s => stack.store.getSession(s.id))), snapshot);
      for (const target of targets) {
        assert.deepEqual(await stack.store.listEvents(target.id), []);
        assert.deepEqual(await stack.store.listOutbox(target.id), []);
      }
      const all = await listAllEvents(database);
      assert.equal(all.filter(e => !e.verified).length - unverifiedBefore, overHttp.length);
      assert.equal(
        all.some(e => e.verified && targets.some(s => s.id === e.sessionId)),
        false,
      );
      t.diagnostic(
        `T12 property: ${cases.length} forged callbacks, 0 accepted; ${overHttp.length} over HTTP ` +
          `(${[...statuses].map(([s, n]) => `${n}×${s}`).join(', ')}) in ${httpMs.toFixed(0)} ms, ` +
          `${cases.length - overHttp.length} in process in ${inProcessMs.toFixed(0)} ms`,
      );
    });
  });

  describe('with a malformed envelope', () => {
    let session: Session;
    let valid: CallbackEnvelope;
    before(async () => {
      session = await openTestSession(stack, nextRef());
      valid = encodeCallback(gatewayCallbackFor(session), SALT);
    });

    const json = (body: unknown) => ({ body: JSON.stringify(body), as: 'json' as const });
    const cases: Array<
      [string, (v: CallbackEnvelope) => { body: string; as: 'json' | 'form' }, string]
    > = [
      ['no data', v => json({ signature: v.signature }), 'malformed_callback'],
      ['no signature', v => json({ data: v.data }), 'malformed_callback'],
      ['an empty data', v => json({ data: '', signature: v.signature }), 'malformed_callback'],
      ['an empty signature', v => json({ data: v.data, signature: '' }), 'malformed_callback'],
      [
        'a 63-character signature',
        v => json({ data: v.data, signature: v.signature.slice(0, 63) }),
        'malformed_callback',
      ],
      [
        'a 65-character signature',
        v => json({ data: v.data, signature: `${v.signature}0` }),
        'malformed_callback',
      ],
      [
        'a non-hex signature',
        v => json({ data: v.data, signature: `${v.signature.slice(0, 63)}g` }),
        'malformed_callback',
      ],
      [
        'a repeated signature in a form (signature=a&signature=b)',
        v => ({
          body: `data=${encodeURIComponent(v.data)}&signature=${v.signature}&signature=${'b'.repeat(64)}`,
          as: 'form',
        }),
        'malformed_callback',
      ],
      [
        'a repeated data in a form',
        v => ({
          body: `data=${encodeURIComponent(v.data)}&data=${encodeURIComponent(v.data)}&signature=${v.signature}`,
          as: 'form',
        }),
        'malformed_callback',
      ],
      [
        'data as an array',
        v => json({ data: [v.data], signature: v.signature }),
        'malformed_callback',
      ],
      [
        'data as an object',
        v => json({ data: { value: v.data }, signature: v.signature }),
        'malformed_callback',
      ],
      ['a numeric signature', v => json({ data: v.data, signature: 1234 }), 'malformed_callback'],
      [
        'an extra top-level field next to a valid pair',
        v => json({ ...v, ipnStatus: '200' }),
        'malformed_callback',
      ],
      [
        'a __proto__ top-level field next to a valid pair',
        v => ({
          body: `{"data":"${v.data}","signature":"${v.signature}","__proto__":{"polluted":"yes"}}`,
          as: 'json',
        }),
        'malformed_callback',
      ],
      ['a JSON array body', v => json([v.data, v.signature]), 'malformed_callback'],
      ['a body that is not JSON', () => ({ body: '{"data":', as: 'json' }), 'malformed_json'],
      ['a bare JSON string body', () => ({ body: '"data"', as: 'json' }), 'malformed_json'],
      ['an empty JSON body', () => ({ body: '', as: 'json' }), 'malformed_callback'],
      ['an empty form', () => ({ body: '', as: 'form' }), 'malformed_callback'],
    ];
    for (const [name, build, code] of cases) {
      it(`T13 answers 400 ${code} to ${name}, never 500, and changes nothing`, async () => {
        const before = await stack.store.getSession(session.id);
        const { body, as } = build(valid);

        const reply = await postIpn(stack, body, as);

        assert.equal(reply.status, 400, reply.text);
        const error = reply.json.error as { code?: string; requestId?: string } | undefined;
        assert.equal(error?.code, code);
        assert.equal(typeof error?.requestId, 'string');
        assert.deepEqual(await stack.store.getSession(session.id), before);
        prototypeIsClean();
      });
    }

    it('T13 accepts an upper-case hex signature (pinned: lower-cased before the format check)', async () => {
      const reply = await postIpn(stack, {
        data: valid.data,
        signature: valid.signature.toUpperCase(),
      });

      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.ipnStatus, '200');
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
    });
  });

  describe('with a valid signature over unusable content', () => {
    let session: Session;
    before(async () => {
      session = await openTestSession(stack, nextRef());
    });

    const contents: Array<[string, (s: Session) => string]> = [
      ['text that is not base64', () => 'this is not base64!'],
      [
        'base64 of bytes that are not UTF-8',
        () => Buffer.from([0xff, 0xfe, 0xfd]).toString('base64'),
      ],
      ['base64 of text that is not JSON', () => base64('{"requestID": "r1", "responseCode"')],
      [
        'JSON without the required fields',
        () => base64(JSON.stringify({ requestID: 'r1', responseCode: '200', responseData: {} })),
      ],
      [
        'an amount too large for a number',
        s =>
          base64(
            JSON.stringify(gatewayCallbackFor(s)).replace(
              /"orderAmount":"\d+"/,
              '"orderAmount":1e999',
            ),
          ),
      ],
      [
        '__proto__ and constructor keys',
        s =>
          base64(
            JSON.stringify(gatewayCallbackFor(s)).replace(
              '"responseData":{',
              '"responseData":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},',
            ),
          ),
      ],
    ];
    for (const [name, content] of contents) {
      it(`T14 answers ipnStatus 404 to ${name}, keeps it as rejected_schema and answers a retry the same`, async () => {
        const envelope = signed(content(session));
        const before = await stack.store.getSession(session.id);

        const first = await postIpn(stack, envelope);
        const retry = await postIpn(stack, envelope);

        assert.equal(first.status, 200, first.text);
        assert.equal(first.json.ipnStatus, '404');
        assert.deepEqual(
          { status: retry.status, json: retry.json },
          { status: 200, json: first.json },
        );
        const kept = (await listAllEvents(database)).filter(e => e.raw === envelope.data);
        assert.deepEqual(kept.map(eventShape), deadLetters(2, 'rejected_schema', envelope.data));
        assert.deepEqual(await stack.store.getSession(session.id), before);
        prototypeIsClean();
      });
    }

    it('T14 answers 503 with Retry-After, never ipnStatus 404, when signed unusable content cannot be stored', async () => {
      const envelope = signed('this is not base64 either!');

      const refused = await withStoreFaults(storeFaults, { failRecords: true }, () =>
        postIpn(stack, envelope),
      );
      const kept = (await listAllEvents(database)).filter(e => e.raw === envelope.data);

      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(refused.json.ipnStatus, undefined);
      assert.deepEqual(kept, []);
    });

    it('T14 keeps the sandbox proto-pollution IPN as rejected_schema on every retry and leaves the order pending', async () => {
      const target = await openTestSession(stack, 'PROTO-1');

      await completeInSandbox(stack, String(target.transactionId), 'success');

      const attempts = await deliveriesOf(stack, target.transactionId);
      assert.equal(attempts.length, 4, 'the sandbox retries a 404 until its cap');
      assert.deepEqual(answers(attempts), ['200/404', '200/404', '200/404', '200/404']);
      assert.equal((await stack.store.getSession(target.id))?.status, 'pending');
      const kept = (await listAllEvents(database)).filter(
        e => e.raw === attempts[0]!.envelope.data,
      );
      assert.deepEqual(
        kept.map(e => e.verdict),
        ['rejected_schema', 'rejected_schema', 'rejected_schema', 'rejected_schema'],
      );
      prototypeIsClean();
    });

    it('T14 refuses a 2 MB body with 413 before reading it, and records nothing', async () => {
      const eventsBefore = (await listAllEvents(database)).length;
      const data = base64('x'.repeat(1_572_864));

      const reply = await postIpn(stack, { data, signature: signText(data, SALT) });

      assert.equal(reply.status, 413, reply.text);
      assert.equal(codeOf(reply), 'body_too_large');
      assert.equal((await listAllEvents(database)).length, eventsBefore);
    });
  });

  describe('over each transport', () => {
    /** A valid callback whose base64 text holds '+', '/' and '=' (Galaxy Pay's examples have none). */
    function awkwardCallback(session: Session): CallbackEnvelope {
      for (let pad = 0; ; pad++) {
        const envelope = encodeCallback(
          gatewayCallbackFor(session, {
            transactionDescription: `Giao dịch thành công ${'~'.repeat(pad)}?>`,
          }),
          SALT,
        );
        if (['+', '/', '='].every(c => envelope.data.includes(c))) return envelope;
      }
    }

    for (const [body, as] of [
      ['a JSON body', 'json'],
      ['a percent-encoded form body', 'form'],
    ] as const) {
      it(`T15 verifies ${body} whose data contains +, / and =`, async () => {
        const session = await openTestSession(stack, nextRef());
        const envelope = awkwardCallback(session);

        const reply = await postIpn(stack, envelope, as);

        assert.equal(reply.json.ipnStatus, '200', reply.text);
        assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
        assert.equal((await stack.store.listEvents(session.id))[0]?.raw, envelope.data);
      });
    }

    it('T15 refuses a form body with a raw + (read as a space) with 401, and changes nothing', async () => {
      const session = await openTestSession(stack, nextRef());
      const envelope = awkwardCallback(session);

      const reply = await postIpn(
        stack,
        `data=${envelope.data}&signature=${envelope.signature}`,
        'form',
      );

      assert.equal(reply.status, 401, reply.text);
      assert.equal((await stack.store.getSession(session.id))?.status, 'pending');
    });
  });

  describe('with tampered content under a valid signature', () => {
    for (const [orderRef, fault] of [
      ['AMOUNT-1', 'amount:+1'],
      ['CURRENCY-1', 'currency:USD'],
    ] as const) {
      it(`T16 puts the session in needs_review, never paid, on the ${fault} fault and answers ipnStatus 200`, async () => {
        const session = await openTestSession(stack, orderRef);

        await completeInSandbox(stack, String(session.transactionId), 'success');

        const after = await stack.store.getSession(session.id);
        assert.equal(after?.status, 'needs_review');
        assert.equal(after?.paidAt, null);
        assert.deepEqual(answers(await deliveriesOf(stack, session.transactionId)), ['200/200']);
        assert.deepEqual(
          (await stack.store.listOutbox(session.id)).map(item => item.event),
          ['needs_review'],
        );
        assert.deepEqual(
          (await stack.store.listEvents(session.id)).map(e => e.verdict),
          ['needs_review'],
        );
      });
    }

    it('T16 answers ipnStatus 404 to an orderID that is not ours and keeps a dead letter without a session', async () => {
      const session = await openTestSession(stack, nextRef());
      const envelope = encodeCallback(
        gatewayCallbackFor({ ...session, gatewayOrderId: randomBytes(16).toString('hex') }),
        SALT,
      );

      const first = await postIpn(stack, envelope);
      const retry = await postIpn(stack, envelope);

      assert.deepEqual([first.status, first.json.ipnStatus], [200, '404']);
      assert.deepEqual(retry.json, first.json);
      const letters = (await listAllEvents(database)).filter(e => e.raw === envelope.data);
      assert.deepEqual(letters.map(eventShape), deadLetters(2, 'unknown_order', envelope.data));
      assert.equal((await stack.store.getSession(session.id))?.status, 'pending');
    });
  });

  describe('with a non-final or unknown result', () => {
    it('T17 records an authorised-only payment as authorized (never paid) and answers ipnStatus 200', async () => {
      const session = await openTestSession(stack, 'AUTH-1');

      await completeInSandbox(stack, String(session.transactionId), 'success');

      assert.equal((await stack.store.getSession(session.id))?.status, 'authorized');
      assert.deepEqual(answers(await deliveriesOf(stack, session.transactionId)), ['200/200']);
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => [e.kind, e.verified, e.verdict]),
        [['ipn', true, 'applied']],
      );
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(item => item.event),
        ['authorized'],
      );
    });

    it('T17 keeps a session open on an undocumented result code (777): never failed or needs_review on a guess', async () => {
      const session = await openTestSession(stack, nextRef());

      const reply = await postIpn(
        stack,
        encodeCallback(gatewayCallbackFor(session, { responseCode: '777' }), SALT),
      );
      const documentedOnlyAsAnApiAnswer = await postIpn(
        stack,
        encodeCallback(gatewayCallbackFor(session, { responseCode: '400' }), SALT),
      );

      assert.equal(reply.json.ipnStatus, '200', reply.text);
      assert.equal(documentedOnlyAsAnApiAnswer.json.ipnStatus, '200');
      const after = await stack.store.getSession(session.id);
      assert.equal(after?.status, 'pending');
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => [e.verdict, e.detail]),
        [
          ['ignored', 'undocumented result code 777; will query again'],
          ['ignored', 'undocumented result code 400; will query again'],
        ],
      );
      assert.deepEqual(await stack.store.listOutbox(session.id), []);
    });
  });

  describe('replayed', () => {
    it('T18 answers ipnStatus 409 to repeats of a processed IPN and notifies the merchant once', async () => {
      const session = await openTestSession(stack, nextRef());
      await completeInSandbox(stack, String(session.transactionId), 'success');
      const [delivered] = await deliveriesOf(stack, session.transactionId);

      const replies = [
        await postIpn(stack, delivered!.envelope),
        await postIpn(stack, delivered!.envelope),
      ];

      assert.deepEqual(
        replies.map(r => [r.status, r.json.ipnStatus]),
        [
          [200, '409'],
          [200, '409'],
        ],
      );
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(item => item.event),
        ['paid'],
      );
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => e.verdict),
        ['applied', 'duplicate', 'duplicate'],
      );
      await eventually(() => paidHookCalls.get(session.id) === 1);
      // The outbox has looked again since and found nothing due: no second notice is coming.
      await stack.outboxIdle();
      assert.equal(paidHookCalls.get(session.id), 1);
    });

    it('T18 answers ipnStatus 409 to an old failure IPN replayed after paid, which stays paid', async () => {
      const session = await openTestSession(stack, nextRef());
      const oldFailure = encodeCallback(
        gatewayCallbackFor(session, {
          responseCode: '505',
          responseMessage: 'Authentication Failure',
        }),
        SALT,
      );
      await completeInSandbox(stack, String(session.transactionId), 'success');

      const reply = await postIpn(stack, oldFailure);

      assert.deepEqual([reply.status, reply.json.ipnStatus], [200, '409']);
      const after = await stack.store.getSession(session.id);
      assert.deepEqual([after?.status, after?.code], ['paid', '200']);
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(item => item.event),
        ['paid'],
      );
    });
  });

  describe('after the order is final', () => {
    it('T18 answers ipnStatus 409 to a non-final (authorised-only) IPN about a paid order, which stays paid', async () => {
      const session = await openTestSession(stack, nextRef());
      await completeInSandbox(stack, String(session.transactionId), 'success');

      const reply = await postIpn(
        stack,
        encodeCallback(gatewayCallbackFor(session, { transactionStatus: '202' }), SALT),
      );

      assert.deepEqual([reply.status, reply.json.ipnStatus], [200, '409']);
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => e.verdict),
        ['applied', 'ignored'],
      );
    });
  });

  describe('out of order', () => {
    it('T20 ends paid with lateSuccess when a failure IPN comes before the success IPN, keeping both', async () => {
      const session = await openTestSession(stack, 'REORDER-1');

      await completeInSandbox(stack, String(session.transactionId), 'success');

      const after = await stack.store.getSession(session.id);
      assert.deepEqual([after?.status, after?.lateSuccess], ['paid', true]);
      assert.deepEqual(answers(await deliveriesOf(stack, session.transactionId)), [
        '200/200',
        '200/200',
      ]);
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => [e.kind, e.verdict]),
        [
          ['ipn', 'applied'],
          ['ipn', 'applied'],
        ],
      );
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(item => item.event),
        ['failed', 'paid'],
      );
    });

    it('T20 ignores a cancel IPN that arrives after paid (ipnStatus 409) and keeps the session paid', async () => {
      const session = await openTestSession(stack, nextRef());
      await completeInSandbox(stack, String(session.transactionId), 'success');

      const reply = await postIpn(
        stack,
        encodeCallback(
          gatewayCallbackFor(session, { responseCode: '499', responseMessage: 'Canceled by user' }),
          SALT,
        ),
      );

      assert.deepEqual([reply.status, reply.json.ipnStatus], [200, '409']);
      const after = await stack.store.getSession(session.id);
      assert.deepEqual([after?.status, after?.cancelReason], ['paid', null]);
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => e.verdict),
        ['applied', 'duplicate'],
      );
    });

    it('T20 answers ipnStatus 409 to an IPN that arrives after the browser return already settled the session', async () => {
      const session = await openTestSession(stack, 'LATE-1');
      const { callback } = await completeInSandbox(
        stack,
        String(session.transactionId),
        'success',
        {
          wait: false,
        },
      );

      const page = await fetch(String(callback?.location), { redirect: 'manual' });
      await page.text();
      const settled = await stack.store.getSession(session.id);
      const attempts = await eventually(async () => {
        const list = await deliveriesOf(stack, session.transactionId);
        return list.length > 0 ? list : undefined;
      });

      assert.equal(page.status, 200);
      assert.equal(settled?.status, 'paid');
      assert.deepEqual(answers(attempts), ['200/409']);
      assert.deepEqual(
        (await stack.store.listEvents(session.id)).map(e => [e.kind, e.verdict]),
        [
          ['result', 'ignored'],
          ['query', 'applied'],
          ['ipn', 'duplicate'],
        ],
      );
      assert.deepEqual(
        (await stack.store.listOutbox(session.id)).map(item => item.event),
        ['paid'],
      );
    });
  });

  describe('before the checkout reply (ipn-first)', () => {
    it('T26 lets the IPN win, and the late checkout reply does not overwrite paid', async () => {
      const created = await widgetCall(stack, 'POST', '/sessions', { orderRef: 'IPN-FIRST-1' });

      assert.equal(created.status, 201, created.text);
      const session = await stack.store.getSession(String(created.json.sessionId));
      const transactionId = transactionIdOf(created.json.checkoutUrl);
      assert.deepEqual(
        [session?.status, session?.transactionId, session?.checkoutUrl],
        ['paid', transactionId, created.json.checkoutUrl],
      );
      assert.equal(created.json.status, 'paid');
      assert.deepEqual(answers(await deliveriesOf(stack, transactionId)), ['200/200']);
      assert.deepEqual(
        (await stack.store.listEvents(session!.id)).map(e => [e.kind, e.verdict]),
        [['ipn', 'applied']],
      );
      assert.deepEqual(
        (await stack.store.listOutbox(session!.id)).map(item => item.event),
        ['paid'],
      );
    });
  });
});

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`POST /ipn concurrency (${kind})`, () => {
    let stack: Stack;
    const paidHookCalls = new Map<string, number>();
    const nextRef = refs();

    before(async () => {
      stack = await startStack({
        store: kind,
        catalog: CATALOG,
        signer: {
          hooks: {
            onPaid: (notice: PaymentNotice) => {
              paidHookCalls.set(notice.sessionId, (paidHookCalls.get(notice.sessionId) ?? 0) + 1);
            },
          },
        },
      });
    });
    after(() => stack.close());

    it(`T21 turns 50 identical IPNs in parallel into one transition, one outbox row and one hook call (${kind})`, async t => {
      const session = await openTestSession(stack, nextRef());
      const envelope = encodeCallback(gatewayCallbackFor(session), SALT);

      const replies = await Promise.all(Array.from({ length: 50 }, () => postIpn(stack, envelope)));

      const count = (ipnStatus: string) =>
        replies.filter(r => r.json.ipnStatus === ipnStatus).length;
      assert.deepEqual(
        replies.filter(r => r.status !== 200).map(r => r.status),
        [],
      );
      assert.deepEqual([count('200'), count('409')], [1, 49]);
      assert.equal((await stack.store.getSession(session.id))?.status, 'paid');
      const outbox = await stack.store.listOutbox(session.id);
      assert.deepEqual(
        outbox.map(item => item.event),
        ['paid'],
      );
      const verdicts = (await stack.store.listEvents(session.id)).map(e => e.verdict);
      assert.deepEqual(
        [
          verdicts.filter(v => v === 'applied').length,
          verdicts.filter(v => v === 'duplicate').length,
        ],
        [1, 49],
      );
      await eventually(
        async () => (await stack.store.listOutbox(session.id))[0]?.deliveredAt ?? undefined,
      );
      // The outbox has looked again since and found nothing due: no second hook call is coming.
      await stack.outboxIdle();
      assert.equal(paidHookCalls.get(session.id), 1);
      t.diagnostic(
        `T21 ${kind}: 50 parallel IPNs → HTTP 200 ×${replies.filter(r => r.status === 200).length}, ` +
          `ipnStatus 200 ×${count('200')}, 409 ×${count('409')}; outbox rows ${outbox.length}; ` +
          `onPaid calls ${paidHookCalls.get(session.id)}`,
      );
    });

    it(`T22 always ends paid, never failed after paid, when success and failure IPNs race (${kind})`, async () => {
      const random = seeded(kind === 'sqlite' ? 22 : 2222);
      const orders = ['success first', 'failure first', 'parallel', 'parallel'] as const;

      for (let round = 0; round < 8; round++) {
        const session = await openTestSession(stack, nextRef());
        const success = encodeCallback(gatewayCallbackFor(session), SALT);
        const failure = encodeCallback(
          gatewayCallbackFor(session, {
            responseCode: '505',
            responseMessage: 'Authentication Failure',
          }),
          SALT,
        );
        const order = orders[round % orders.length]!;
        let successReply: Reply;
        let failureReply: Reply;
        if (order === 'success first') {
          successReply = await postIpn(stack, success);
          failureReply = await postIpn(stack, failure);
        } else if (order === 'failure first') {
          failureReply = await postIpn(stack, failure);
          successReply = await postIpn(stack, success);
        } else {
          // 0 to 3 turns of the event loop before each send, so that either may go first.
          const jitter = async () => {
            for (let turns = Math.floor(random() * 4); turns > 0; turns--) {
              await new Promise(resolve => setImmediate(resolve));
            }
          };
          [successReply, failureReply] = await Promise.all([
            jitter().then(() => postIpn(stack, success)),
            jitter().then(() => postIpn(stack, failure)),
          ]);
        }

        const after = await stack.store.getSession(session.id);
        const outbox = (await stack.store.listOutbox(session.id)).map(item => item.event);
        const context = `round ${round} (${order}): ${JSON.stringify({ outbox, after })}`;
        assert.equal(after?.status, 'paid', context);
        assert.equal(successReply.json.ipnStatus, '200', context);
        // The failure either came first (failed, then a late success) or found paid and changed nothing.
        const failedFirst = failureReply.json.ipnStatus === '200';
        assert.equal(failureReply.json.ipnStatus, failedFirst ? '200' : '409', context);
        assert.deepEqual(outbox, failedFirst ? ['failed', 'paid'] : ['paid'], context);
        assert.equal(after?.lateSuccess, failedFirst, context);
        assert.equal((await stack.store.listEvents(session.id)).length, 2, context);
        if (order === 'success first') assert.equal(failedFirst, false, context);
        if (order === 'failure first') assert.equal(failedFirst, true, context);
      }
    });
  });
}

describe('POST /ipn after a signer restart', () => {
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let database: Awaited<ReturnType<typeof freshStore>>;
  const cleanup: Array<() => Promise<void>> = [];

  before(async () => {
    sandbox = createSandbox({
      apiKey: API_KEY,
      salt: SALT,
      ipnRetryDelaysMs: [50, 100, 200],
      ipnTimeoutMs: 2000,
    });
    sandboxUrl = await sandbox.listen(0, '127.0.0.1');
    database = await freshStore('sqlite');
  });
  after(async () => {
    for (const step of cleanup.reverse()) await step();
    await sandbox.close();
    await database.store.close();
    await database.drop();
  });

  it('T25 processes the IPN of a session created before the restart; idempotent replays and IPN replays still work', async () => {
    const shared = { sandbox, url: sandboxUrl };
    const first = await startStack({
      sharedSandbox: shared,
      sharedStore: database.store,
      catalog: CATALOG,
    });
    let firstOpen = true;
    cleanup.push(async () => {
      if (firstOpen) await first.close();
    });
    const port = Number(new URL(first.signerUrl).port);
    const key = `t25-${randomBytes(8).toString('hex')}`;
    const created = await widgetCall(
      first,
      'POST',
      '/sessions',
      { orderRef: 'P-0' },
      { 'idempotency-key': key },
    );
    assert.equal(created.status, 201, created.text);

    firstOpen = false;
    await first.close();
    await database.store.close();
    const reopened = createSqliteStore(database.url);
    await reopened.migrate();
    cleanup.push(() => reopened.close());
    const second = await startStack({
      sharedSandbox: shared,
      sharedStore: reopened,
      catalog: CATALOG,
      port,
    });
    cleanup.push(() => second.close());
    // The client reaches the restarted signer on the reused port: a keep-alive socket pooled from the
    // first one, had it outlived the close, has failed and left the pool.
    await eventually(() =>
      fetch(`${second.signerUrl}/healthz`).then(
        res => res.ok,
        () => false,
      ),
    );
    const replayed = await widgetCall(
      second,
      'POST',
      '/sessions',
      { orderRef: 'P-0' },
      { 'idempotency-key': key },
    );
    const transactionId = transactionIdOf(created.json.checkoutUrl);
    await completeInSandbox(second, transactionId, 'success');
    const [delivered] = await deliveriesOf(second, transactionId);
    const again = await postIpn(second, delivered!.envelope);

    assert.equal(replayed.json.sessionId, created.json.sessionId);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    const checkouts = await sandboxRequests(second, '/api/v1/transaction/checkout');
    assert.equal(checkouts.length, 1);
    assert.deepEqual(answers([delivered!]), ['200/200']);
    assert.equal((await reopened.getSession(String(created.json.sessionId)))?.status, 'paid');
    assert.equal(again.json.ipnStatus, '409');
  });
});

/** One generated forgery: never the untouched valid pair (each case changes data, signature or salt). */
function forgeCallback(random: () => number, session: Session): CallbackEnvelope {
  const payload = gatewayCallbackFor(session);
  const valid = encodeCallback(payload, SALT);
  const index = (text: string) => Math.floor(random() * text.length);
  const pick = (alphabet: string) => alphabet[Math.floor(random() * alphabet.length)]!;
  switch (Math.floor(random() * 6)) {
    case 0:
      return { data: valid.data, signature: randomBytes(32).toString('hex') };
    case 1: {
      // One character of data changed (to anything, not only base64 characters).
      const i = index(valid.data);
      let c = valid.data[i]!;
      while (c === valid.data[i])
        c = pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= %"\\é');
      return {
        data: valid.data.slice(0, i) + c + valid.data.slice(i + 1),
        signature: valid.signature,
      };
    }
    case 2: {
      // One hex digit of the signature changed to another value (a case change alone would still match).
      const i = index(valid.signature);
      let c = valid.signature[i]!;
      while (c === valid.signature[i]) c = pick('0123456789abcdef');
      const signature = valid.signature.slice(0, i) + c + valid.signature.slice(i + 1);
      return { data: valid.data, signature: random() < 0.5 ? signature : signature.toUpperCase() };
    }
    case 3: {
      // The original, valid signature over tampered JSON.
      const tampered = structuredClone(payload);
      const field = Math.floor(random() * 4);
      if (field === 0)
        tampered.responseData.orderAmount = String(
          session.amount - 1 - Math.floor(random() * 1000),
        );
      else if (field === 1) tampered.responseData.orderCurrency = 'USD';
      else if (field === 2) tampered.responseData.orderID = randomBytes(16).toString('hex');
      else tampered.responseCode = tampered.responseCode === '200' ? '505' : '200';
      return { data: base64(JSON.stringify(tampered)), signature: valid.signature };
    }
    case 4:
      return encodeCallback(payload, `other-salt-${randomBytes(4).toString('hex')}`);
    default: {
      const json = JSON.stringify(payload);
      return { data: base64(json), signature: signText(json, SALT) };
    }
  }
}

describe('POST /ipn concurrency ceiling', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ signer: { ipnMaxInFlight: 2 } });
  });
  after(async () => {
    await stack.close();
  });

  it('T28 counts IPNs whose bodies are still arriving: a slow upload cannot get round the ceiling', async () => {
    const forged = JSON.stringify({ data: 'eyJ9', signature: 'ab'.repeat(32) });
    const received = stack.traffic().received;
    // Two IPNs whose headers and first bytes are sent now, and the rest of the body on `finish()`.
    const slow = [1, 2].map(() => slowRequest(`${stack.signerUrl}/ipn`, forged, 10));
    // Both are in the signer's hands: the IPN intake counts each as it starts.
    await eventually(() => stack.traffic().received >= received + 2);

    const over = await postIpn(stack, forged);
    for (const upload of slow) upload.finish();
    const finished = (await Promise.all(slow.map(upload => upload.answer))).map(answer =>
      answer instanceof Error ? answer.message : answer.status,
    );
    const after = await postIpn(stack, forged);

    assert.equal(over.status, 503, over.text);
    assert.equal((over.json.error as { code: string }).code, 'temporarily_unavailable');
    assert.equal(over.headers.get('retry-after'), '1');
    assert.deepEqual(finished, [401, 401]);
    assert.equal(after.status, 401, 'the slots are free again');
  });
});
