/**
 * What the end-to-end files import: `useWalk()` (the shared set-up), the shopper's steps, the hosted page
 * and its test cards, and the lower-level pieces a file with its own stack or processes needs.
 */

export { assertFields } from './expect.js';
export { useWalk, type DemoWalk, type Walk, type WalkStack } from './walk.js';
export { Shopper, type ResultDetail, type WidgetEventType } from './shopper.js';
export { CARDS, HostedPage, type TestCardInput } from './hosted-page.js';
export { PHONE, STEP_TIMEOUT_MS, screenshot, type Page, type PageGlobals } from './browser.js';
export { callJson, callJsonOk, eventually, startTestStack, type DemoStack } from './stack.js';
export {
  freePort,
  portIsClosed,
  signalGroup,
  startDemoCommand,
  startSignerProcess,
  type SignerProcess,
} from './processes.js';
