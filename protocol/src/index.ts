/**
 * @galaxy-pay/protocol: Galaxy Pay's message rules, pure (node:crypto only; no I/O, no clock of its own).
 */
export * from './types.js';
export * from './codes.js';
export * from './clock.js';
export * from './fields.js';
export * from './session-status.js';
export { sha256Hex, signText, serializeAndSign, encodeCallback, newRequestId } from './sign.js';
export {
  CallbackError,
  CallbackErrorCode,
  DEFAULT_MAX_DATA_LENGTH,
  decodeCallbackData,
  signatureMatches,
  verifyCallback,
  verifyResponseSignature,
  type VerifyCallbackOptions,
} from './verify.js';
