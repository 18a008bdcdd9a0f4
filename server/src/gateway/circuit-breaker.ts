/**
 * A consecutive-failure circuit breaker for the gateway client (docs/reliability.md §5 "Outbound calls", T08).
 *
 * Why hand-written rather than `opossum`: opossum wraps a function and brings its own timeout (we already
 * enforce one deadline covering headers and body), opens on an error *percentage* over a rolling window of
 * timer-driven buckets (we want "N consecutive upstream failures", which is what the catalogue specifies),
 * reads `Date.now()` and real timers (tests would need fake timers instead of an injected clock), and keeps
 * an interval running that has to be shut down. What we need is three states and a probe slot: about sixty
 * lines that can be read in one sitting, with no dependency to audit or keep patched.
 *
 * Behaviour:
 * - `closed`: every call is allowed; `failureThreshold` consecutive failures open the circuit, and any
 *   success resets the count.
 * - `open`: every call is refused until `openMs` has passed since it opened.
 * - `half_open`: exactly one probe call is allowed; its success closes the circuit, its failure re-opens it
 *   for another `openMs`, and a probe that ends without a verdict (the caller aborted) frees the slot.
 * Outcomes of calls that started in an earlier state (a slow call finishing after the circuit opened) are
 * ignored, so only what the circuit let through in its current state moves it.
 */

/** The three states of a circuit. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Options of `CircuitBreaker`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before it lets one probe through. Default 30 000 ms. */
  openMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Called on every state change (for alerts); must not throw. */
  onStateChange?: (change: { from: CircuitState; to: CircuitState; failures: number }) => void;
}

/** The right to make one call. Report its outcome exactly once; later reports are ignored. */
export interface CircuitPermit {
  /** The upstream answered in a healthy way. */
  success(): void;
  /** The upstream failed in a way that counts towards opening the circuit. */
  failure(): void;
  /** The call ended without a verdict on the upstream (e.g. the caller aborted it). */
  release(): void;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_OPEN_MS = 30_000;

/** A closed → open → half-open circuit breaker with an injectable clock. */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly #now: () => number;
  readonly #onStateChange: CircuitBreakerOptions['onStateChange'];
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;
  /** Bumped on every state change, so permits from an earlier state cannot move the circuit. */
  #generation = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.openMs = options.openMs ?? DEFAULT_OPEN_MS;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError('CircuitBreaker: failureThreshold must be an integer of at least 1');
    }
    if (!Number.isFinite(this.openMs) || this.openMs < 0) {
      throw new RangeError('CircuitBreaker: openMs must be a finite number of at least 0');
    }
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  /** The current state (an open circuit whose time is up reads as `half_open`). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.openMs) {
      this.#moveTo('half_open');
    }
    return this.#state;
  }

  /** Consecutive failures counted while closed. */
  get failures(): number {
    return this.#failures;
  }

  /** A permit for one call, or `undefined` when the circuit refuses calls right now. */
  tryAcquire(): CircuitPermit | undefined {
    const state = this.state;
    if (state === 'open') return undefined;
    if (state === 'half_open') {
      if (this.#probeInFlight) return undefined;
      this.#probeInFlight = true;
      return this.#permit(true);
    }
    return this.#permit(false);
  }

  /** How long until a call may be tried again: 0 when one would be allowed now or soon (a probe is out). */
  retryAfterMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.#openedAt + this.openMs - this.#now());
  }

  #permit(probe: boolean): CircuitPermit {
    const generation = this.#generation;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release') => {
      if (settled) return;
      settled = true;
      if (generation !== this.#generation) return;
      if (probe) this.#settleProbe(outcome);
      else this.#settleClosed(outcome);
    };
    return {
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  }

  #settleProbe(outcome: 'success' | 'failure' | 'release'): void {
    this.#probeInFlight = false;
    if (outcome === 'success') this.#moveTo('closed');
    else if (outcome === 'failure') this.#open();
  }

  #settleClosed(outcome: 'success' | 'failure' | 'release'): void {
    if (outcome === 'success') this.#failures = 0;
    if (outcome !== 'failure') return;
    this.#failures += 1;
    if (this.#failures >= this.failureThreshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#moveTo('open');
  }

  #moveTo(to: CircuitState): void {
    const from = this.#state;
    const failures = this.#failures;
    this.#state = to;
    this.#generation += 1;
    this.#probeInFlight = false;
    if (to === 'closed') this.#failures = 0;
    this.#onStateChange?.({ from, to, failures });
  }
}
