/** `<galaxy-pay-button>`: importing this module defines the element. */
export { GalaxyPayButton } from './galaxy-pay-button.js';
export * from './events.js';
export { GalaxyPayRequestError } from './signer-client.js';
export { STRINGS, type GalaxyPayExtraStrings, type GalaxyPayStrings } from './strings.js';
export * from './types.js';
