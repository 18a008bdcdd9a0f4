/**
 * `POST /ipn`: Galaxy Pay's server-to-server notification. Verify the raw `data` first, then one atomic
 * transition, then answer `{ ipnStatus, ipnDescription }` only after commit (docs/reliability.md §3).
 *
 * A plain Node handler, not an Express route: Express's dispatch (prototype swaps, router layers) cost more
 * CPU than an IPN's own verification and commit, and IPNs come in bursts. The standalone app hands
 * `POST /ipn` to it before Express; a mounted signer reaches it as its router's first route. Both answer
 * alike: the API headers, a request id, the same body limits and error codes as every other route.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import typeIs from 'type-is';
import {
  CallbackError,
  CallbackErrorCode,
  verifyCallback,
  type TransactionCallback,
} from '@galaxy-pay/protocol';
import { parserError, writeError } from '../errors.js';
import type { Logger } from '../../logger.js';
import { settleLinkIpn, settleLinkIpnIfKnown } from '../../operations/links.js';
import { reportFromCallback, settle } from '../../payments/settlement.js';
import { clientAddress, sourceKey, sourceLimiter } from '../source-limit.js';
import { saveCardFromIpn, type SavedCardsConfig } from '../../tokens/cards.js';
import type { PaymentEvent, Store } from '../../store/store.js';

export interface IpnDeps {
  store: Store;
  logger: Logger;
  now: () => Date;
  salt: string;
  /** Called after a transition commits (the outbox worker delivers hooks without waiting for its poll). */
  onChange: () => void;
  /** Concurrency ceiling instead of a per-IP rate limit: the gateway's bursts are never throttled. */
  maxInFlight: number;
  /** The API headers every answer carries (helmet's, worked out once). */
  setHeaders: (res: ServerResponse) => void;
  /** Saved cards: where a PAY_WITH_CREATE_TOKEN IPN's token goes (encrypted). */
  cards?: SavedCardsConfig;
  /**
   * Unverifiable IPNs recorded per minute and source (a token bucket as large), and per minute from all
   * sources together; beyond either they are still answered, but only counted. Charged after verification
   * fails: never limits a verified IPN.
   */
  unverifiedPerMinute: number;
  unverifiedPerMinuteTotal: number;
  /** Proxy hops in front of the intake, to find the source when it runs before Express (as `trust proxy`). */
  trustProxy: number;
}

/** A Node request handler for `POST /ipn` (it never calls a `next`). */
export type IpnIntake = (req: IncomingMessage, res: ServerResponse) => void;

/** IPN bodies are a few hundred bytes; 32 KB is generous and refuses abuse before hashing (T27). */
const LIMIT = '32kb';
const LIMIT_BYTES = 32 * 1024;
/** At most one log line per this interval about unverifiable IPNs over the per-source limit. */
const UNRECORDED_REPORT_MS = 60_000;
const MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** body-parser, run without Express: each parser reads only its own media type. */
type Parser = (req: IncomingMessage, res: ServerResponse, done: (error?: unknown) => void) => void;
// inflate: false — a gzip bomb is refused, never expanded.
const parseJson = express.json({ limit: LIMIT, inflate: false, strict: true }) as unknown as Parser;
const parseForm = express.urlencoded({
  limit: LIMIT,
  inflate: false,
  extended: false,
  parameterLimit: 10,
}) as unknown as Parser;

export function ipnIntake(deps: IpnDeps): IpnIntake {
  let inFlight = 0;
  const admit = unverifiedGate(deps);
  let warnedParsedBody = false;
  return (req, res) => {
    const requestId = randomUUID();
    if (!warnedParsedBody && (req as IncomingMessage & { body?: unknown }).body !== undefined) {
      // A body parser of the host app ran first: its limits (and its decompression) applied, not ours.
      warnedParsedBody = true;
      deps.logger.warn(
        {},
        'POST /ipn arrived already parsed by another middleware: mount the signer before body parsers, ' +
          'so that its own limits (32 KB, no decompression) apply',
      );
    }
    res.setHeader('x-request-id', requestId);
    deps.setHeaders(res);
    const fail = (status: number, code: string, message: string) =>
      writeError(res, status, code, message, requestId);
    // Checked here as well as by body-parser, which skips a body a host app's parser has already read
    // (and maybe inflated): these refusals hold however the signer is mounted.
    const encoding = req.headers['content-encoding'];
    const refused =
      encoding !== undefined && encoding.toLowerCase() !== 'identity'
        ? parserError({ type: 'encoding.unsupported' })
        : Number(req.headers['content-length']) > LIMIT_BYTES
          ? parserError({ type: 'entity.too.large' })
          : undefined;
    if (refused) {
      fail(refused.status, refused.code, refused.message);
      return;
    }
    const mediaType = typeIs(req, MEDIA_TYPES);
    if (!mediaType) {
      fail(415, 'unsupported_media_type', 'send the IPN as application/json or a form');
      return;
    }
    if (inFlight >= deps.maxInFlight) {
      res.setHeader('retry-after', '1');
      fail(503, 'temporarily_unavailable', 'too many notifications at once; retry shortly');
      return;
    }
    // Counted from now, while the body is still arriving: slow uploads take their share of the ceiling.
    inFlight += 1;
    const release = () => {
      inFlight -= 1;
    };
    const parsed = (error?: unknown) => {
      if (error !== undefined) {
        release();
        const known = parserError(error);
        const status = (error as { status?: unknown } | null)?.status;
        if (known) fail(known.status, known.code, known.message);
        // Aborted or cut-short uploads: the sender's fault, answered as such (never a 500).
        else if (typeof status === 'number' && status >= 400 && status < 500)
          fail(400, 'malformed_body', 'the request body could not be read');
        else unavailable(deps, res, requestId, error);
        return;
      }
      handle(deps, req, res, requestId, admit)
        .catch((unexpected: unknown) => unavailable(deps, res, requestId, unexpected))
        .finally(release);
    };
    (mediaType === 'application/json' ? parseJson : parseForm)(req, res, parsed);
  };
}

async function handle(
  deps: IpnDeps,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  admit: UnverifiedGate,
): Promise<void> {
  const body: unknown = (req as IncomingMessage & { body?: unknown }).body;
  const fields = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const extra = fields.filter(f => f !== 'data' && f !== 'signature');
  const input = (body ?? {}) as { data?: unknown; signature?: unknown };
  const unverified = (verdict: PaymentEvent['verdict'], detail: string): PaymentEvent => ({
    sessionId: null,
    kind: 'ipn',
    transactionId: null,
    // Whole: the store keeps a prefix of unverified input, with the length and SHA-256 of all of it.
    raw: typeof input.data === 'string' ? input.data : '',
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
      // A payment-link IPN in the docs table's shape (`requestId`, `orderNo`): settled against the link.
      const link = await settleLinkIpn(deps, String(input.data), payload);
      reply(res, link.ipnStatus, link.description);
      return;
    }
    const callback = payload as TransactionCallback;
    const result = await settle(deps, reportFromCallback('ipn', String(input.data), callback), {
      // A payment-link IPN in the shape of Galaxy Pay's own example (`requestID`, `orderID` = the link's
      // orderNo): looked for only when no session has that orderID (ledger L1).
      otherwise: async () => {
        const link = await settleLinkIpnIfKnown(deps, String(input.data), callback);
        return link && { session: null, changed: false, ...link };
      },
    });
    // PAY_WITH_CREATE_TOKEN: the token comes only in the IPN; saved (encrypted) before the answer.
    if (result.session)
      await saveCardFromIpn(deps, result.session, callback.responseData.tokenization);
    if (result.changed) deps.onChange();
    reply(res, result.ipnStatus, result.description);
  } catch (error) {
    if (!(error instanceof CallbackError)) {
      unavailable(deps, res, requestId, error);
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
        unavailable(deps, res, requestId, storeError);
        return;
      }
      deps.logger.warn({ code: error.code }, 'signed IPN with unusable content');
      reply(res, '404', 'the notification could not be read');
      return;
    }
    const bad = error.code === CallbackErrorCode.InvalidSignature;
    // Charged only now that verification failed; over the limit the answer is the same, but nothing is
    // stored or logged per request (the gate logs a count once a minute): a flood cannot grow the disk.
    if (admit(req)) {
      // The verdict stands whether or not it could be kept: the record is forensics, not state.
      await deps.store
        .recordEvent(unverified(bad ? 'bad_signature' : 'malformed', error.code))
        .catch((storeError: unknown) =>
          deps.logger.error(
            { errorName: (storeError as Error)?.name },
            'unverifiable IPN not recorded: internal failure',
          ),
        );
      // The peer address as seen on the socket; behind a proxy, also what it says it forwarded.
      const forwarded = req.headers['x-forwarded-for'];
      deps.logger.warn(
        {
          code: error.code,
          ip: req.socket.remoteAddress,
          ...(typeof forwarded === 'string' ? { forwardedFor: forwarded.slice(0, 200) } : {}),
        },
        'unverifiable IPN refused',
      );
    }
    const fail = (status: number, code: string, message: string) =>
      writeError(res, status, code, message, requestId);
    if (error.code === CallbackErrorCode.TooLarge) fail(413, 'body_too_large', error.message);
    else if (bad) fail(401, 'invalid_signature', 'the signature does not match the data');
    else fail(400, error.code, error.message);
  }
}

/** Says whether an unverifiable IPN may be recorded: true while its source is within the limit. */
type UnverifiedGate = (req: IncomingMessage) => boolean;

/**
 * The limits on recording unverifiable IPNs, per source and in all. The source is Express's `req.ip` when the
 * intake runs as a route (the host app's `trust proxy` applies), else the address `trustProxy` hops in.
 */
function unverifiedGate(deps: IpnDeps): UnverifiedGate {
  const now = () => deps.now().getTime();
  const perSource = sourceLimiter({ perMinute: deps.unverifiedPerMinute, now });
  // Many addresses (a botnet, an IPv6 range) each get a fresh bucket: this one bounds what they write together.
  const total = sourceLimiter({ perMinute: deps.unverifiedPerMinuteTotal, now, maxSources: 1 });
  let unrecorded = 0;
  let lastSource = '';
  let timer: NodeJS.Timeout | undefined;
  // The first refusal after a quiet minute is logged at once, later ones as one count a minute.
  const report = () => {
    timer = undefined;
    if (unrecorded === 0) return;
    deps.logger.warn(
      {
        unrecorded,
        lastSource,
        perMinute: deps.unverifiedPerMinute,
        perMinuteTotal: deps.unverifiedPerMinuteTotal,
      },
      'unverifiable IPNs over the recording limit: answered, not recorded',
    );
    unrecorded = 0;
    timer = setTimeout(report, UNRECORDED_REPORT_MS);
    timer.unref();
  };
  return req => {
    const ip = (req as IncomingMessage & { ip?: unknown }).ip;
    const source = sourceKey(typeof ip === 'string' ? ip : clientAddress(req, deps.trustProxy));
    if (perSource.take(source) && total.take('all')) return true;
    unrecorded += 1;
    lastSource = source;
    if (timer === undefined) report();
    return false;
  };
}

/** Database down, pool exhausted: nothing was committed, so ask the gateway to come back (never a 2xx). */
function unavailable(deps: IpnDeps, res: ServerResponse, requestId: string, error: unknown): void {
  deps.logger.error(
    { requestId, errorName: (error as Error)?.name },
    'IPN not processed: internal failure',
  );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('retry-after', '5');
  writeError(
    res,
    503,
    'temporarily_unavailable',
    'the notification could not be stored; retry later',
    requestId,
  );
}

function reply(res: ServerResponse, ipnStatus: '200' | '404' | '409', description: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ ipnStatus, ipnDescription: description.slice(0, 250) }));
}
