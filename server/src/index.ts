/** @galaxy-pay/server: the signer. */
export { createSigner, type Signer, type SignerOptions } from './signer.js';
export { createApp, type App, type AppOptions } from './http/app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export type { GatewayFlow } from './payments/checkout-request.js';
export { createLogger, type Logger } from './logger.js';
export { openStore, StoreError, type StoreErrorCode } from './store/index.js';
export type { Store, Session, SessionStatus, Order } from './store/store.js';
export type { OrderInput, ResolveOrder } from './payments/orders.js';
export type { SignerHooks, PaymentNotice, OperationNotice } from './delivery/notices.js';
export {
  verifyWebhook,
  webhookHeaders,
  WebhookVerificationError,
  type WebhookHeaders,
  type WebhookVerificationErrorCode,
} from './delivery/merchant-webhook.js';
export { mintCustomerHandle, verifyCustomerHandle } from './tokens/customer-handle.js';
export { createTokenVault, parseEncryptionKey, type TokenVault } from './tokens/vault.js';
export {
  merchantHostedCheckout,
  type HostedCard,
  type MerchantHostedOptions,
} from './payments/merchant-hosted.js';
