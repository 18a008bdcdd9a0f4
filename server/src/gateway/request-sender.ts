/**
 * Sending one gateway request: sign the envelope once, then send those exact bytes through the circuit
 * breaker, retrying with full-jitter backoff only where the gateway cannot have acted twice (the connection
 * was never made, or the call is an idempotent read). Each attempt is one HTTP exchange whose reply is
 * verified before anyone sees it.
 */

import {
  formatGatewayDateTime,
  newRequestId,
  serializeAndSign,
  type EndpointPath,
  type EndpointRequestData,
  type GatewayRequest,
} from '@galaxy-pay/protocol';
import type { CircuitPermit } from './circuit-breaker.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { abortable, exchange, type PreparedCall } from './http-client.js';
import type { CallOptions, Settings } from './options.js';
import { readReply, type GatewayReply } from './reply.js';

/** Codes that count as a failure of the gateway for the circuit breaker (see `settlePermit`). */
const BREAKER_FAILURES: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  'upstream_timeout',
  'upstream_error',
  'upstream_untrusted',
  'gateway_auth_failed',
]);

/** No single backoff wait is longer than this, whatever `retries` is. */
const MAX_BACKOFF_MS = 5_000;
const REQUEST_ID = /^[A-Za-z0-9-]{1,50}$/;

/**
 * Signs one request and sends it, retrying where that is safe (see `GatewayClient.call`). Resolves with the
 * verified reply; rejects with a `GatewayError`, or with the caller's own abort reason as it is.
 */
export async function callGateway<P extends EndpointPath>(
  settings: Settings,
  path: P,
  requestData: EndpointRequestData[P],
  options: CallOptions & { idempotent?: boolean },
): Promise<GatewayReply<P>> {
  options.signal?.throwIfAborted();
  const call = prepare(settings, path, requestData, options.requestId);
  for (let attempt = 0; ; attempt++) {
    const permit = settings.breaker.tryAcquire();
    if (!permit) throw circuitOpenError(settings, call);
    try {
      const reply = await exchange(settings, call, options.signal, (response, signal) =>
        readReply(settings, call, response, signal),
      );
      permit.success();
      return reply as GatewayReply<P>;
    } catch (error) {
      settlePermit(permit, error);
      if (attempt >= settings.retries || !shouldRetry(error, options.idempotent === true)) {
        throw error;
      }
    }
    await abortable(settings.sleep(backoffMs(settings, attempt), options.signal), options.signal);
  }
}

/** Builds and signs the envelope once; every attempt sends exactly this body (docs/reliability.md rule 2). */
function prepare(
  settings: Settings,
  path: EndpointPath,
  requestData: object,
  requestId: string | undefined,
): PreparedCall {
  const id = requestId ?? newRequestId();
  if (!REQUEST_ID.test(id)) {
    throw new TypeError('gateway client: requestId must be 1–50 letters, digits or dashes');
  }
  const request: GatewayRequest = {
    requestID: id,
    requestDateTime: formatGatewayDateTime(settings.now()),
    requestData,
  };
  const { body, signature } = serializeAndSign(request, settings.salt);
  return {
    path,
    name: path.slice(path.lastIndexOf('/') + 1),
    url: `${settings.apiBase}${path}`,
    requestId: id,
    requestData,
    body,
    signature,
  };
}

/**
 * What the breaker learns from an attempt. Timeouts, transport errors, untrusted replies and auth failures
 * count: with a wrong key or a tampering middlebox every further call is wasted (and may get the merchant
 * locked out), so failing fast is right. A business rejection or a duplicate proves the gateway is up and
 * answering, so it counts as a success. The caller's own abort says nothing about the gateway.
 */
function settlePermit(permit: CircuitPermit, error: unknown): void {
  if (!(error instanceof GatewayError)) permit.release();
  else if (BREAKER_FAILURES.has(error.code)) permit.failure();
  else permit.success();
}

/**
 * Connection never established: safe for any call. After that the gateway may have acted, so 5xx, resets and
 * timeouts are retried only for idempotent reads; a second checkout could create a second transaction.
 */
function shouldRetry(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof GatewayError) || !error.retryable) return false;
  return idempotent || !error.mayHaveReachedGateway;
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, base × 2ⁿ). */
function backoffMs(settings: Settings, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, settings.baseDelayMs * 2 ** attempt);
  return Math.floor(settings.random() * ceiling);
}

function circuitOpenError(settings: Settings, call: PreparedCall): GatewayError {
  const retryAfterSeconds = Math.max(1, Math.ceil(settings.breaker.retryAfterMs() / 1000));
  return new GatewayError({
    code: GatewayErrorCode.CircuitOpen,
    endpoint: call.name,
    requestId: call.requestId,
    mayHaveReachedGateway: false,
    retryAfterSeconds,
    message: `Galaxy Pay ${call.name} not sent: the circuit is open after repeated gateway failures; retry in ${retryAfterSeconds} s`,
  });
}
