/**
 * The signer's only way out to Galaxy Pay: sign once, send those exact bytes, and trust nothing that comes back
 * until it has been checked (docs/reliability.md §5 "Outbound calls", T07–T10; docs/protocol.md §3, §4).
 *
 * Every call gets one deadline covering connect, headers and body; the body is read incrementally under a
 * size cap; redirects are refused; the reply's `signature` header is verified over the raw text before it is
 * parsed; and a hosted-page `endpoint` must be on an allowed origin before any caller sees it. Retries happen
 * only where the gateway cannot have acted twice, and a circuit breaker stops hammering a failing gateway.
 *
 * This file is the client's face: `call` and one method per endpoint the signer uses outside the checkout (a
 * checkout's endpoint depends on the flow and the plan, so payments/checkout-call.ts goes through `call`).
 * Underneath, as in stripe-node: request-sender.ts (sign once, retries, breaker), http-client.ts (one
 * exchange under one deadline), reply.ts (verification), errors.ts and options.ts.
 */

import {
  Endpoint,
  type CaptureRequestData,
  type CreatePaymentLinkRequestData,
  type DeleteTokenRequestData,
  type EndpointPath,
  type EndpointRequestData,
  type PayRequestData,
  type QueryTokensRequestData,
  type RefundRequestData,
  type VoidRequestData,
} from '@galaxy-pay/protocol';
import type { CircuitState } from './circuit-breaker.js';
import { resolveSettings, type CallOptions, type GatewayClientOptions } from './options.js';
import type { GatewayReply } from './reply.js';
import { callGateway } from './request-sender.js';

/** Calls Galaxy Pay. Every method resolves with a verified success or rejects with `GatewayError`. */
export interface GatewayClient {
  /**
   * Signs and sends one request. Retries (at most `retries`, with full-jitter backoff) only when it is safe:
   * when the connection was never established, for any call; after a 5xx, a reset or a timeout, only for
   * `idempotent` calls. A non-idempotent call that timed out rejects with `upstream_timeout`: the caller
   * marks the order `pending_unknown` and reconciles through `query`.
   */
  call<P extends EndpointPath>(
    endpoint: P,
    requestData: EndpointRequestData[P],
    options?: CallOptions & { idempotent?: boolean },
  ): Promise<GatewayReply<P>>;
  /** `transaction/pay`. Never retried once sent. */
  pay(data: PayRequestData, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Pay>>;
  /** `transaction/query`: a read, so retried after 5xx, resets and timeouts too. */
  query(transactionID: string, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Query>>;
  /** `transaction/refund`. Never retried once sent. */
  refund(
    data: RefundRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Refund>>;
  /** `transaction/void` (path inferred). Never retried once sent. */
  void(data: VoidRequestData, options?: CallOptions): Promise<GatewayReply<typeof Endpoint.Void>>;
  /** `transaction/capture`. Never retried once sent. */
  capture(
    data: CaptureRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Capture>>;
  /** `transaction/createPaymentLink`. Never retried once sent. */
  createPaymentLink(
    data: CreatePaymentLinkRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.CreatePaymentLink>>;
  /** `tokenization/deleteToken`. Never retried once sent. */
  deleteToken(
    data: DeleteTokenRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.DeleteToken>>;
  /** `tokenization/queryTokens`: a read, retried like `query`. */
  queryTokens(
    data: QueryTokensRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.QueryTokens>>;
  /** The circuit breaker's state: `/readyz` reports it (it never fails readiness: IPNs and reads go on). */
  circuitState(): CircuitState;
}

/** Creates a gateway client. Throws a `TypeError` naming the bad option (never its value) when misconfigured. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const settings = resolveSettings(options);
  const call = <P extends EndpointPath>(
    path: P,
    requestData: EndpointRequestData[P],
    callOptions: CallOptions & { idempotent?: boolean } = {},
  ): Promise<GatewayReply<P>> => callGateway(settings, path, requestData, callOptions);
  const once = (options?: CallOptions) => ({ ...options, idempotent: false });
  const read = (options?: CallOptions) => ({ ...options, idempotent: true });
  return {
    call,
    pay: (data, o) => call(Endpoint.Pay, data, once(o)),
    query: (transactionID, o) => call(Endpoint.Query, { transactionID }, read(o)),
    refund: (data, o) => call(Endpoint.Refund, data, once(o)),
    void: (data, o) => call(Endpoint.Void, data, once(o)),
    capture: (data, o) => call(Endpoint.Capture, data, once(o)),
    createPaymentLink: (data, o) => call(Endpoint.CreatePaymentLink, data, once(o)),
    deleteToken: (data, o) => call(Endpoint.DeleteToken, data, once(o)),
    queryTokens: (data, o) => call(Endpoint.QueryTokens, data, read(o)),
    circuitState: () => settings.breaker.state,
  };
}
