/**
 * `pnpm demo`, as a newcomer runs it: it prints the URL to open, the shop answers, and Ctrl-C (SIGINT to
 * the whole process group, as a terminal sends it) stops every server with exit code 0.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, portIsClosed, signalGroup, startDemoCommand } from './support/index.js';

describe('pnpm demo', () => {
  it('starts the sandbox, the signer and the shop, prints the URL, and stops cleanly on SIGINT', async () => {
    // Free ports instead of 8100/8200/8300, so a demo already running on this machine does not matter.
    const ports = [await freePort(), await freePort(), await freePort()];
    const [sandboxUrl, signerUrl, shopUrl] = ports.map(port => `http://127.0.0.1:${port}/`);
    const demo = startDemoCommand({ DEMO_PORTS: ports.join(',') });
    try {
      await demo.printed('Press Ctrl-C to stop.', 90_000);
      assert.ok(demo.output().includes(shopUrl!), `the shop URL is printed:\n${demo.output()}`);

      const page = await fetch(shopUrl!);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /galaxy-pay-button\.js/);
      const products = (await (await fetch(`${shopUrl}api/products`)).json()) as {
        products: unknown[];
      };
      assert.ok(products.products.length >= 3);
      assert.equal((await fetch(`${signerUrl}healthz`)).status, 200);
      assert.ok((await fetch(`${sandboxUrl}__sandbox/faults`)).ok);

      // Ctrl-C in a terminal: SIGINT to the whole process group.
      signalGroup(demo, 'SIGINT');
      assert.equal(await demo.exit(15_000), 0, `exit code after SIGINT:\n${demo.output()}`);
      assert.match(demo.output(), /Stopped\./);
      for (const port of ports) assert.ok(await portIsClosed(port), `port ${port} is closed`);
    } finally {
      signalGroup(demo, 'SIGKILL');
    }
  });
});
