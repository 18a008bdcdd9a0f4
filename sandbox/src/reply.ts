/**
 * What an API endpoint answers and how the answer goes out. api.ts routes a call to its operation
 * (transactions.ts, tokenization.ts, links.ts, apple-pay.ts), which returns a `Reply` or throws an `ApiError`;
 * `send` writes it: envelope, signature header, and the reply faults.
 */

import type { Response } from 'express';
import { signText } from '@galaxy-pay/protocol';
import type { SandboxContext } from './context.js';
import type { ApiFaults, FaultPlan } from './faults.js';
import { replySignatureHeaders } from './fidelity.js';

/** The outcome of one API call, before faults shape the reply. */
export interface Reply {
  httpStatus: number;
  responseCode: string;
  responseMessage: string;
  responseData?: Record<string, unknown>;
  field?: string;
  /** Reply faults in force for this call. */
  faults?: ApiFaults;
  /** Work that must finish before the reply goes out (`ipn-first`). */
  before?: Promise<unknown>;
}

/** A refusal: api.ts makes it a reply whose message names `field`. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly responseCode: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A 400 refusal of `field`. */
export const badRequest = (message: string, field?: string) =>
  new ApiError(400, '400', `Bad Request: ${message}`, field);

/** A 409 refusal of an orderID already used. */
export const duplicateOrderId = (orderID: string) =>
  new ApiError(
    409,
    '409',
    `Transaction Duplicate: orderID ${orderID} was already used`,
    'requestData.orderID',
  );

/** A reply without data: a refusal, an error, or a scripted fault. */
export const statusReply = (
  httpStatus: number,
  responseCode: string,
  responseMessage: string,
  faults?: ApiFaults,
): Reply => ({ httpStatus, responseCode, responseMessage, faults });

export const ok = (responseData?: Record<string, unknown>): Reply => ({
  httpStatus: 200,
  responseCode: '200',
  responseMessage: 'Success',
  responseData,
});

/** One signed, checked API call as its operation sees it. */
export interface ApiCall {
  request: Record<string, unknown>;
  data: Record<string, unknown>;
  /** The order's own faults (from `orderDescription`): only these are kept with what it creates. */
  faults: FaultPlan;
}

/** What answers one endpoint. */
export type Operation = (ctx: SandboxContext, call: ApiCall) => Reply | Promise<Reply>;

const HTML_ERROR_PAGE =
  '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>';

/** Writes the reply: envelope, signature header, and the reply faults. */
export async function send(
  ctx: SandboxContext,
  res: Response,
  reply: Reply,
  requestID: string | null,
): Promise<void> {
  const faults = reply.faults ?? {};
  await reply.before;
  if (faults.delayMs) await new Promise(resolve => setTimeout(resolve, faults.delayMs));
  if (faults.reset) {
    res.socket?.destroy();
    return;
  }
  if (faults.htmlErrorPage) {
    res.status(502).type('html').send(HTML_ERROR_PAGE);
    return;
  }
  const body = JSON.stringify(envelopeOf(ctx, reply, faults, requestID));
  // How the reply is signed is a sandbox option (fidelity.ts, ledger R2–R7); the fault breaks it.
  const signed = replySignatureHeaders(
    ctx.options.responseSignature,
    body,
    reply.responseCode,
    ctx.options.salt,
  );
  if (faults.badResponseSignature) signed.signature = signText(`${body} `, ctx.options.salt);
  res
    .status(reply.httpStatus)
    .set({ 'content-type': 'application/json; charset=utf-8', ...signed });
  if (!faults.drip) {
    res.send(body);
    return;
  }
  // Headers now, then the body one byte at a time: a client without a body deadline hangs here.
  res.flushHeaders();
  const bytes = Buffer.from(body, 'utf8');
  for (let i = 0; i < bytes.length && !res.destroyed; i++) {
    res.write(bytes.subarray(i, i + 1));
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  res.end();
}

function envelopeOf(
  ctx: SandboxContext,
  reply: Reply,
  faults: ApiFaults,
  requestID: string | null,
): Record<string, unknown> {
  const responseData = reply.responseData ? { ...reply.responseData } : undefined;
  if (responseData && faults.foreignEndpointHost && typeof responseData.endpoint === 'string') {
    const url = new URL(responseData.endpoint);
    responseData.endpoint = `${ctx.options.foreignOrigin}${url.pathname}`;
  }
  const envelope: Record<string, unknown> = {
    requestID,
    responseDateTime: ctx.clock.now(),
    responseCode: reply.responseCode,
    responseMessage: reply.responseMessage,
  };
  if (responseData) envelope.responseData = responseData;
  if (faults.huge) envelope.padding = 'x'.repeat(5 * 1024 * 1024);
  return envelope;
}
