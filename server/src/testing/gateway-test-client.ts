/**
 * The gateway calls only tests make: checkout, payWithOption, payWithQR and createToken by name. The signer
 * opens a payment through `call` with the endpoint its flow and plan choose (payments/checkout-request.ts),
 * and never creates tokens itself, so these convenience methods are not part of `GatewayClient`.
 */

import {
  Endpoint,
  type CheckoutRequestData,
  type CreateTokenRequestData,
  type PayWithOptionRequestData,
  type PayWithQrRequestData,
} from '@galaxy-pay/protocol';
import { createGatewayClient, type GatewayClient } from '../gateway/client.js';
import type { CallOptions, GatewayClientOptions } from '../gateway/options.js';
import type { GatewayReply } from '../gateway/reply.js';

/** A gateway client with the test-only calls; each is sent once, never retried (like every payment call). */
export interface TestGatewayClient extends GatewayClient {
  /** `transaction/checkout` (modal checkout). */
  checkout(
    data: CheckoutRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.Checkout>>;
  /** `transaction/payWithOption`. */
  payWithOption(
    data: PayWithOptionRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.PayWithOption>>;
  /** `transaction/payWithQR`. */
  payWithQr(
    data: PayWithQrRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.PayWithQr>>;
  /** `tokenization/createToken`. */
  createToken(
    data: CreateTokenRequestData,
    options?: CallOptions,
  ): Promise<GatewayReply<typeof Endpoint.CreateToken>>;
}

/** `createGatewayClient` plus the test-only calls. */
export function createTestGatewayClient(options: GatewayClientOptions): TestGatewayClient {
  const client = createGatewayClient(options);
  const once = (o?: CallOptions) => ({ ...o, idempotent: false });
  return {
    ...client,
    checkout: (data, o) => client.call(Endpoint.Checkout, data, once(o)),
    payWithOption: (data, o) => client.call(Endpoint.PayWithOption, data, once(o)),
    payWithQr: (data, o) => client.call(Endpoint.PayWithQr, data, once(o)),
    createToken: (data, o) => client.call(Endpoint.CreateToken, data, once(o)),
  };
}
