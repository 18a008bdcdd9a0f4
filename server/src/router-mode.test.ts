/**
 * A signer mounted with no `logger` option (router mode as the README shows it) must still say what it
 * detects: its warnings reach stderr by default.
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createSigner, type Signer } from './signer.js';
import type { Store } from './store/store.js';
import { freshStore, MERCHANT_ORIGIN } from './testing/test-support.js';

describe('createSigner without a logger', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    const fresh = await freshStore('sqlite');
    store = fresh.store;
    cleanup = async () => {
      await store.close();
      await fresh.drop();
    };
  });
  after(() => cleanup());

  it('warns on stderr when the host app parsed the IPN body first (the README\'s "warns once")', async () => {
    const signer: Signer = createSigner({
      apiKey: 'k',
      salt: 's',
      gatewayBaseUrl: 'http://127.0.0.1:9',
      publicUrl: 'http://127.0.0.1:9/galaxy-pay',
      allowedOrigins: [MERCHANT_ORIGIN],
      store,
      reconcile: { intervalMs: 3_600_000 },
    });
    const app = express();
    app.use(express.json()); // the mistake: a body parser ahead of the signer
    app.use('/galaxy-pay', signer);
    const server = createServer(app);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;

    try {
      await signer.ready;
      for (let i = 0; i < 2; i++) {
        await fetch(`http://127.0.0.1:${port}/galaxy-pay/ipn`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data: 'e30=', signature: '0'.repeat(64) }),
        });
      }
    } finally {
      process.stderr.write = write;
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
      await signer.close();
    }

    const warnings = written
      .filter(line => line.includes('mount the signer before body parsers'))
      .map(line => JSON.parse(line) as { level: number });
    assert.equal(warnings.length, 1, written.join(''));
    assert.equal(warnings[0]!.level, 40);
  });
});
