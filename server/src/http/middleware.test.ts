import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { limiter } from './middleware.js';

describe('limiter', () => {
  let url: string;
  let close: () => Promise<void>;
  const errors: unknown[] = [];

  before(async () => {
    const app = express();
    // What Express reports once the client has hung up: the socket, and so `req.ip`, has no address.
    app.use((req, _res, next) => {
      if (req.get('x-test-gone') === 'yes') Object.defineProperty(req, 'ip', { value: undefined });
      next();
    });
    app.use(limiter(2));
    app.get('/', (_req, res) => void res.json({ ok: true }));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
      errors.push(error);
      res.status(500).end();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise(resolve => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => new Promise(resolve => server.close(() => resolve()));
  });
  after(() => close());

  it('limits a request with no client address under one shared key instead of failing (fuzz seed 337261516)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await fetch(url, { headers: { 'x-test-gone': 'yes' } })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.deepEqual(errors, []);
  });

  it('keeps counting a client with an address on its own key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(url)).status);
    assert.deepEqual(statuses, [200, 200, 429]);
  });
});
