/**
 * `POST /ipn`: Galaxy Pay's server-to-server notification. Verify the raw `data` first, then one atomic
 * transition, then answer `{ ipnStatus, ipnDescription }` only after commit (RELIABILITY.md §3).
 */

import express, { type Request, type Response } from 'express';
import {
  CallbackError,
  CallbackErrorCode,
  verifyCallback,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import { sendError } from '../errors.js';
import type { Logger } from '../logger.js';
import { settleLinkIpn } from '../links.js';
import { reportFromCallback, settle } from '../settlement.js';
import { saveCardFromIpn, type SavedCardsConfig } from '../tokens/cards.js';
import type { PaymentEvent, Store } from '../store/store.js';

export interface IpnDeps {
  store: Store;
  logger: Logger;
  now: () => Date;
  salt: string;
  /** Called after a transition commits (the outbox worker delivers hooks without waiting for its poll). */
  onChange: () => void;
  /** Concurrency ceiling instead of a per-IP rate limit: the gateway's bursts are never throttled. */
  maxInFlight: number;
  /** Saved cards: where a PAY_WITH_CREATE_TOKEN IPN's token goes (encrypted). */
  cards?: SavedCardsConfig;
}

/** IPN bodies are a few hundred bytes; 32 KB is generous and refuses abuse before hashing (T27). */
const LIMIT = '32kb';
/** Unverified input is kept for forensics, but short: a forged flood must not fill the database. */
const UNVERIFIED_KEEP = 2048;

export function ipnRoutes(deps: IpnDeps): express.Router {
  const router = express.Router();
  let inFlight = 0;
  router.post(
    '/ipn',
    (req, res, next) => {
      if (!req.is(['application/json', 'application/x-www-form-urlencoded'])) {
        sendError(res, 415, 'unsupported_media_type', 'send the IPN as application/json or a form');
        return;
      }
      if (inFlight >= deps.maxInFlight) {
        res.set('retry-after', '1');
        sendError(
          res,
          503,
          'temporarily_unavailable',
          'too many notifications at once; retry shortly',
        );
        return;
      }
      next();
    },
    // inflate: false — a gzip bomb is refused, never expanded.
    express.json({ limit: LIMIT, inflate: false, strict: true }),
    express.urlencoded({ limit: LIMIT, inflate: false, extended: false, parameterLimit: 10 }),
    async (req, res) => {
      inFlight += 1;
      try {
        await handle(deps, req, res);
      } finally {
        inFlight -= 1;
      }
    },
  );
  return router;
}

async function handle(deps: IpnDeps, req: Request, res: Response): Promise<void> {
  const body: unknown = req.body;
  const fields = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const extra = fields.filter(f => f !== 'data' && f !== 'signature');
  const input = (body ?? {}) as { data?: unknown; signature?: unknown };
  const unverified = (verdict: PaymentEvent['verdict'], detail: string): PaymentEvent => ({
    sessionId: null,
    kind: 'ipn',
    transactionId: null,
    raw: typeof input.data === 'string' ? input.data.slice(0, UNVERIFIED_KEEP) : '',
    verified: false,
    verdict,
    detail,
    receivedAt: deps.now(),
  });
  try {
    if (extra.length > 0) {
      throw new CallbackError(
        CallbackErrorCode.Malformed,
        `unexpected field ${extra[0]!.slice(0, 40)}`,
      );
    }
    const payload = verifyCallback({ data: input.data, signature: input.signature }, deps.salt);
    if (!('requestID' in payload)) {
      // A payment-link IPN (`requestId`, §8.4): its own format, settled against the stored link.
      const link = await settleLinkIpn(deps, String(input.data), payload);
      reply(res, link.ipnStatus, link.description);
      return;
    }
    const callback = payload as TransactionCallback;
    const result = await settle(deps, reportFromCallback('ipn', String(input.data), callback));
    // PAY_WITH_CREATE_TOKEN: the token comes only in the IPN; saved (encrypted) before the answer.
    if (result.session)
      await saveCardFromIpn(deps, result.session, callback.responseData.tokenization);
    if (result.changed) deps.onChange();
    reply(res, result.ipnStatus, result.description);
  } catch (error) {
    if (!(error instanceof CallbackError)) {
      unavailable(deps, res, error);
      return;
    }
    if (error.signed) {
      // From the gateway but unusable: keep it whole, and answer the same way on every retry (T14).
      try {
        await deps.store.recordEvent({
          ...unverified('rejected_schema', error.code),
          verified: true,
          raw: String(input.data),
        });
      } catch (storeError) {
        // Not kept, so no 2xx: the gateway must send it again.
        unavailable(deps, res, storeError);
        return;
      }
      deps.logger.warn({ code: error.code }, 'signed IPN with unusable content');
      reply(res, '404', 'the notification could not be read');
      return;
    }
    const bad = error.code === CallbackErrorCode.InvalidSignature;
    // The verdict stands whether or not it could be kept: the record is forensics, not state.
    await deps.store
      .recordEvent(unverified(bad ? 'bad_signature' : 'malformed', error.code))
      .catch((storeError: unknown) =>
        deps.logger.error(
          { errorName: (storeError as Error)?.name },
          'unverifiable IPN not recorded: internal failure',
        ),
      );
    deps.logger.warn({ code: error.code, ip: req.ip }, 'unverifiable IPN refused');
    if (error.code === CallbackErrorCode.TooLarge)
      sendError(res, 413, 'body_too_large', error.message);
    else if (bad) sendError(res, 401, 'invalid_signature', 'the signature does not match the data');
    else sendError(res, 400, error.code, error.message);
  }
}

/** Database down, pool exhausted: nothing was committed, so ask the gateway to come back (never a 2xx). */
function unavailable(deps: IpnDeps, res: Response, error: unknown): void {
  deps.logger.error({ errorName: (error as Error)?.name }, 'IPN not processed: internal failure');
  res.set('retry-after', '5');
  sendError(
    res,
    503,
    'temporarily_unavailable',
    'the notification could not be stored; retry later',
  );
}

function reply(res: Response, ipnStatus: '200' | '404' | '409', description: string): void {
  // Written directly: `res.json` would also hash the body for an ETag no gateway ever sends back.
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ ipnStatus, ipnDescription: description.slice(0, 250) }));
}
