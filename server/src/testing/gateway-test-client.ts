/**
 * The gateway calls only tests make: checkout, payWithOption, payWithQR and createToken by name. The signer
 * opens a payment through `call` with the endpoint its flow and plan choose (payments/checkout-request.ts),
 * and never creates tokens itself, so these convenience methods are not part of `GatewayClient`.
 */

import { Endpoint, type EndpointPath, type EndpointRequestData } from '@galaxy-pay/protocol';
import { createGatewayClient, type GatewayClient } from '../gateway/client.js';
import type { CallOptions, GatewayClientOptions } from '../gateway/options.js';
import type { GatewayReply } from '../gateway/reply.js';

/** One endpoint by name: sent once, never retried (like every payment call). */
type SentOnce<P extends EndpointPath> = (
  data: EndpointRequestData[P],
  options?: CallOptions,
) => Promise<GatewayReply<P>>;

/** A gateway client with the test-only calls. */
export interface TestGatewayClient extends GatewayClient {
  /** `transaction/checkout` (modal checkout). */
  checkout: SentOnce<typeof Endpoint.Checkout>;
  /** `transaction/payWithOption`. */
  payWithOption: SentOnce<typeof Endpoint.PayWithOption>;
  /** `transaction/payWithQR`. */
  payWithQr: SentOnce<typeof Endpoint.PayWithQr>;
  /** `tokenization/createToken`. */
  createToken: SentOnce<typeof Endpoint.CreateToken>;
}

/** `createGatewayClient` plus the test-only calls. */
export function createTestGatewayClient(options: GatewayClientOptions): TestGatewayClient {
  const client = createGatewayClient(options);
  const once =
    <P extends EndpointPath>(endpoint: P): SentOnce<P> =>
    (data, o) =>
      client.call(endpoint, data, { ...o, idempotent: false });
  return {
    ...client,
    checkout: once(Endpoint.Checkout),
    payWithOption: once(Endpoint.PayWithOption),
    payWithQr: once(Endpoint.PayWithQr),
    createToken: once(Endpoint.CreateToken),
  };
}
