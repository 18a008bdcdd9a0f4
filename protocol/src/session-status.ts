/**
 * The statuses of a checkout session at the signer, written once: the signer's store keeps them and its HTTP
 * API reports them (`GET /sessions/:id`, the status stream), and the widget reads them. A module of its own with
 * no imports, so the widget can take the list's type without depending on this package (its typings write the
 * union out).
 */

const OPEN = ['pending', 'pending_unknown'] as const;

const FINAL = [
  'paid',
  'failed',
  'cancelled',
  'expired',
  'needs_review',
  /** Manual capture only: the card is authorized; the merchant captures or voids it. */
  'authorized',
  /** An authorization the merchant voided: no money moved. */
  'voided',
] as const;

/** Every status, open ones first. `pending_unknown`: the gateway call's outcome is unknown (timeout). */
export const SESSION_STATUSES = [...OPEN, ...FINAL] as const;

/** Where a checkout session is. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Statuses a session is open in: the gateway may still report either outcome. */
export const OPEN_STATUSES: readonly SessionStatus[] = OPEN;

/** Statuses from which nothing moves on its own any more (only a late verified success may still arrive). */
export const FINAL_STATUSES: readonly SessionStatus[] = FINAL;

/** A final status. */
export type FinalStatus = (typeof FINAL)[number];
