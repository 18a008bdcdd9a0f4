/** @galaxy-pay/sandbox: an offline Galaxy Pay for tests and the demo. */
export { createSandbox, type Sandbox } from './app.js';
export type { SandboxOptions } from './context.js';
export {
  faultsFromDescription,
  parseFaults,
  FaultTokenError,
  type FaultPlan,
  type ApiFaults,
  type FlowFaults,
} from './faults.js';
export type {
  IpnAttempt,
  RequestRecord,
  Transaction,
  TransactionState,
  SavedToken,
  PaymentLink,
} from './ledger.js';
export type { BrowserCallback, Outcome } from './payments.js';
