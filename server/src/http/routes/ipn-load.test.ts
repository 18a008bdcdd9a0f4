import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeCallback } from '@galaxy-pay/protocol';
import type { Session } from '../../store/store.js';
import {
  SALT,
  gatewayCallbackFor,
  seedSession,
  startStack,
  type Stack,
  type StoreKind,
} from '../../testing/test-support.js';

// The storm: SESSIONS paid sessions, each IPN sent COPIES times, CONCURRENCY requests in flight.
const SESSIONS = 20;
const COPIES = 25;
const CONCURRENCY = 50;

/** Sends every body to /ipn with at most `concurrency` in flight; returns each answer. */
async function storm(url: string, bodies: string[], concurrency: number) {
  const answers: Array<{ status: number; ipnStatus: string | undefined }> = [];
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${url}/ipn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { ipnStatus?: string };
      answers.push({ status: res.status, ipnStatus: json.ipnStatus });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`POST /ipn under a duplicate storm (${kind})`, () => {
    let stack: Stack;
    let sessions: Session[];
    before(async () => {
      stack = await startStack({ store: kind });
      sessions = [];
      for (let i = 0; i < SESSIONS; i++) {
        const seeded = await seedSession(stack.store);
        sessions.push(
          await stack.store.attachCheckout(
            seeded.id,
            {
              transactionId: `26112100000000000000${String(i).padStart(5, '0')}`,
              checkoutUrl: `${stack.sandboxUrl}/checkout/x${i}`,
            },
            new Date(),
          ),
        );
      }
    });
    after(() => stack.close());

    it(`T32 answers ${SESSIONS * COPIES} IPNs (${COPIES} copies each, ${CONCURRENCY} at once) with no error and one effect per session`, async () => {
      const bodies = sessions.flatMap(session =>
        Array.from({ length: COPIES }, () =>
          JSON.stringify(encodeCallback(gatewayCallbackFor(session), SALT)),
        ),
      );
      // Interleave the copies so duplicates of one session race each other.
      bodies.sort(() => Math.random() - 0.5);
      const heapBefore = process.memoryUsage().heapUsed;

      const answers = await storm(stack.signerUrl, bodies, CONCURRENCY);

      assert.equal(answers.length, SESSIONS * COPIES);
      assert.ok(
        answers.every(a => a.status === 200),
        'every IPN answered HTTP 200',
      );
      assert.equal(answers.filter(a => a.ipnStatus === '200').length, SESSIONS);
      assert.equal(answers.filter(a => a.ipnStatus === '409').length, SESSIONS * (COPIES - 1));
      for (const session of sessions) {
        const current = await stack.store.getSession(session.id);
        assert.equal(current!.status, 'paid');
        assert.equal((await stack.store.listOutbox(session.id)).length, 1);
        assert.equal((await stack.store.listEvents(session.id)).length, COPIES);
      }
      // Bounded memory: the storm leaves no large residue behind (a loose bound; the bench measures RSS).
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024);
    });
  });
}
