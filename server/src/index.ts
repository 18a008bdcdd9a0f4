/** @galaxy-pay/server: the signer. */
export { createSigner, type Signer, type SignerOptions } from './signer.js';
export { createApp, type App, type AppOptions } from './app.js';
export { loadConfig, ConfigError, type Config, type GatewayFlow } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { openStore, StoreError, type StoreErrorCode } from './store/index.js';
export type { Store, Session, SessionStatus, Order } from './store/store.js';
export type { OrderInput, ResolveOrder } from './orders.js';
export type { SignerHooks, PaymentNotice, OperationNotice } from './outbox.js';
export {
  verifyWebhook,
  webhookHeaders,
  WebhookVerificationError,
  type WebhookHeaders,
  type WebhookVerificationErrorCode,
} from './merchant-webhook.js';
export { mintCustomerHandle, verifyCustomerHandle } from './tokens/customer-handle.js';
export { createTokenVault, parseEncryptionKey, type TokenVault } from './tokens/vault.js';
export {
  merchantHostedCheckout,
  type HostedCard,
  type MerchantHostedOptions,
} from './merchant-hosted.js';
