import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { packBodies, packedBody, startPacedGenerator } from './paced-thread.js';

describe('paced generator thread', () => {
  it('packs bodies into one buffer and reads each back', () => {
    const bodies = ['{"a":1}', '{"mô tả":"Giao dịch thành công"}', '', 'x'];
    const packed = packBodies(bodies);
    assert.equal(packed.ends.length, 4);
    bodies.forEach((body, i) =>
      assert.equal(Buffer.from(packedBody(packed, i)).toString('utf8'), body),
    );
  });

  it('sends each body once at the pace asked, from its own thread, and checks the answers', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        received.push(text);
        // Every third answer is not an accepted IPN: the generator must count it.
        const accepted = received.length % 3 !== 0;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ipnStatus: accepted ? '200' : '400' }));
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const generator = startPacedGenerator();
    try {
      const bodies = Array.from({ length: 30 }, (_, i) => JSON.stringify({ n: i }));
      const job = { url: `http://127.0.0.1:${port}`, path: '/ipn', headers: {}, rate: 100 };
      const limits = { maxSockets: 4, maxOutstanding: 50 };
      const result = await generator.run({
        ...job,
        ...limits,
        durationSeconds: 0.3,
        bodies: packBodies(bodies),
        repeat: false,
      });
      assert.equal(result.scheduled, 30);
      assert.equal(result.requests, 30);
      assert.equal(result.dropped, 0);
      assert.equal(result.mismatches, 10);
      assert.deepEqual([...received].sort(), [...bodies].sort());
      assert.ok(result.generatorLoop.delayMax >= 0);
      // A second job on the same thread, with one body repeated.
      const again = await generator.run({
        ...job,
        ...limits,
        durationSeconds: 0.1,
        bodies: packBodies(['{"same":true}']),
        repeat: true,
      });
      assert.equal(again.requests, 10);
      assert.deepEqual(new Set(received.slice(30)), new Set(['{"same":true}']));
    } finally {
      await generator.close();
      server.close();
    }
  });
});
