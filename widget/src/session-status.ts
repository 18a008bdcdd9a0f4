/**
 * The signer's session statuses, written once in `@galaxy-pay/protocol/session-status` (a module with no imports,
 * which the signer's store uses too). The widget reaches the signer only over HTTP and its package does not
 * depend on protocol's (a dev dependency, for this type): this module is only ever imported as a type (no
 * JavaScript comes of it), and `tsc` writes the list's literal type out in `dist/session-status.d.ts` from the
 * inferred type of `statuses`, so the published typings name no other package (`test-server/dist.test.ts`).
 */

import { SESSION_STATUSES } from '@galaxy-pay/protocol/session-status';

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a value only for its inferred type, see above
const statuses = SESSION_STATUSES;

/** Session statuses the signer reports. */
export type SessionStatus = (typeof statuses)[number];
