/** Stable codes of {@link StoreError}, for callers that branch on the failure. */
export type StoreErrorCode =
  | 'session_not_found'
  | 'transaction_id_conflict'
  | 'open_session_exists'
  | 'invalid_config'
  | 'driver_missing';

/**
 * A store operation refused without changing anything (its transaction was rolled back, so the caller
 * may record the attempt separately and alert), or a store that cannot be opened as configured.
 */
export class StoreError extends Error {
  /** What went wrong, stable across releases. */
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** The session id was not found. */
export function sessionNotFound(id: string): StoreError {
  return new StoreError('session_not_found', `no session with id ${id}`);
}

/** The gateway transaction id already belongs to another session (UNIQUE on sessions.transaction_id). */
export function transactionIdConflict(
  sessionId: string,
  transactionId: string | null,
  cause: unknown,
): StoreError {
  return new StoreError(
    'transaction_id_conflict',
    `transaction id ${transactionId ?? '(unknown)'} is already recorded on another session; ` +
      `session ${sessionId} was left unchanged`,
    { cause },
  );
}

/** The order already has an open session (one per order: UNIQUE on open sessions' order_ref). */
export function openSessionExists(orderRef: string, cause: unknown): StoreError {
  return new StoreError('open_session_exists', `order ${orderRef} already has an open session`, {
    cause,
  });
}
