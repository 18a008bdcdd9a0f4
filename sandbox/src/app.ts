import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createGatewayClock } from '@galaxy-pay/protocol';
import { apiRouter } from './api.js';
import { resolveOptions, type SandboxContext, type SandboxOptions } from './context.js';
import { parseFaults } from './faults.js';
import { AUTOSUBMIT_SCRIPT, STYLESHEET } from './html.js';
import { inspectRouter } from './inspect.js';
import { IpnSender } from './ipn-sender.js';
import { Ledger } from './ledger.js';
import { legacyQrRouter } from './legacy-qr.js';
import { linksRouter } from './links.js';
import { pagesRouter } from './pages.js';

/** A running (or ready to run) offline Galaxy Pay. */
export interface Sandbox {
  /** The Express app, to mount or to listen yourself. */
  readonly app: express.Express;
  /** Everything the sandbox remembers (also served under `/__sandbox/`). */
  readonly ledger: Ledger;
  /** Starts listening (port 0 picks a free one) and resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** The base URL, once listening (or `publicUrl`). */
  readonly url: string;
  /** Stops listening, drops open connections and cancels pending IPN deliveries. */
  close(): Promise<void>;
}

/** Creates an offline Galaxy Pay gateway. */
export function createSandbox(options: SandboxOptions): Sandbox {
  const resolved = resolveOptions(options);
  const ledger = new Ledger();
  let url = resolved.publicUrl?.replace(/\/+$/, '') ?? '';
  const ctx: SandboxContext = {
    options: resolved,
    ledger,
    ipn: new IpnSender(ledger, {
      retryDelaysMs: resolved.ipnRetryDelaysMs,
      timeoutMs: resolved.ipnTimeoutMs,
    }),
    clock: createGatewayClock(resolved.now),
    globalFaults: parseFaults(resolved.faults),
    origin: () => url,
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/__assets/sandbox.css', (_req, res) => res.type('css').send(STYLESHEET));
  app.get('/__assets/autosubmit.js', (_req, res) => res.type('js').send(AUTOSUBMIT_SCRIPT));
  app.get('/', (_req, res) => {
    res.json({
      name: 'galaxy-pay-sandbox',
      api: `${url}/api/v1/transaction/{checkout,pay,payWithOption,payWithQR,query,refund,void,capture,createPaymentLink}`,
      tokenization: `${url}/api/v1/tokenization/{createToken,deleteToken,queryTokens}`,
      removeToken: `${url}/api/v1/token/remove`,
      applePayValidation: `${url}/api/v1/applepay/validateMerchant`,
      archivedQr: `${url}/api-ex/qrpayment/{create,query}`,
      inspection: `${url}/__sandbox/{requests,ipn,transactions,tokens,links,faults,reset}`,
    });
  });
  app.use(apiRouter(ctx));
  app.use(legacyQrRouter(ctx));
  app.use(inspectRouter(ctx));
  app.use(linksRouter(ctx));
  app.use(pagesRouter(ctx));
  app.use(errorHandler);

  let server: Server | undefined;
  return {
    app,
    ledger,
    get url() {
      return url;
    },
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const listening = app.listen(port, host, error => {
          if (error) return reject(error);
          const address = listening.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          if (!resolved.publicUrl) url = `http://${shownHost}:${address.port}`;
          resolve(url);
        });
        server = listening;
      });
    },
    async close() {
      ctx.ipn.close();
      if (!server) return;
      const closing = new Promise<void>(resolve => server!.close(() => resolve()));
      server.closeAllConnections();
      await closing;
    },
  };
}

/** Last handler: body-parser errors keep their status; anything else is a plain 500 without details. */
function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const status = (error as { status?: unknown }).status;
  const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
  const message = code === 500 ? 'Internal Server Error' : String((error as Error).message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (req.path.startsWith('/api/')) {
    res
      .status(code)
      .json({ requestID: null, responseCode: String(code), responseMessage: message });
    return;
  }
  res
    .status(code)
    .json({ error: { code: code === 500 ? 'internal_error' : 'bad_request', message } });
}
