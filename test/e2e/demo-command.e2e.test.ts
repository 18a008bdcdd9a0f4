/**
 * `pnpm demo`, as a newcomer runs it: it prints the URL to open, the shop answers, and Ctrl-C (SIGINT to
 * the whole process group, as a terminal sends it) stops every server with exit code 0.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/signer-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function portIsClosed(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('pnpm demo', () => {
  it('starts the sandbox, the signer and the shop, prints the URL, and stops cleanly on SIGINT', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    // Free ports instead of 8100/8200/8300, so a demo already running on this machine does not matter.
    const child = spawn('pnpm', ['demo'], {
      cwd: ROOT,
      env: { ...process.env, DEMO_PORTS: ports.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
    let output = '';
    child.stdout!.on('data', chunk => (output += String(chunk)));
    child.stderr!.on('data', chunk => (output += String(chunk)));
    const shopUrl = `http://127.0.0.1:${ports[2]}/`;
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('Press Ctrl-C to stop.')) {
        if (child.exitCode !== null) assert.fail(`pnpm demo exited early:\n${output}`);
        if (Date.now() > deadline) assert.fail(`pnpm demo printed no URL within 90 s:\n${output}`);
        await new Promise(resolve => setTimeout(resolve, 100));
      }
      assert.ok(output.includes(shopUrl), `the shop URL is printed:\n${output}`);

      const page = await fetch(shopUrl);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /galaxy-pay-button\.js/);
      const products = (await (await fetch(`${shopUrl}api/products`)).json()) as {
        products: unknown[];
      };
      assert.ok(products.products.length >= 3);
      assert.equal((await fetch(`http://127.0.0.1:${ports[1]}/healthz`)).status, 200);
      assert.ok((await fetch(`http://127.0.0.1:${ports[0]}/__sandbox/faults`)).ok);

      process.kill(-child.pid!, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>(resolve => (timer = setTimeout(() => resolve('timeout'), 15_000))),
      ]).finally(() => clearTimeout(timer));
      assert.equal(code, 0, `exit code after SIGINT:\n${output}`);
      assert.match(output, /Stopped\./);
      for (const port of ports) assert.ok(await portIsClosed(port), `port ${port} is closed`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
});
