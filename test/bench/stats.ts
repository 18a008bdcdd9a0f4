/**
 * Medians, spreads and bracketed ratios of repeated measurements. One run of a measurement on a shared
 * 2-core machine moves by ±10 % or more; the bench repeats each one, takes each ratio against the baseline
 * measured around it, and judges its bars on the median, quoting the spread beside it so nobody quotes the
 * best run.
 */

/** A figure measured once per round. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Each round's value, in round order. */
  runs: number[];
}

/** The median (the mean of the middle two for an even count) and the extremes of `values`. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median: round(median, 3), min: sorted[0]!, max: sorted.at(-1)!, runs: [...values] };
}

/** The spread of one figure picked from each round; rounds where it is null are left out. */
export function spreadOf<R>(
  rounds: readonly R[],
  pick: (round: R) => number | null,
): Spread | null {
  const values = rounds.map(pick).filter((value): value is number => value !== null);
  return values.length === 0 ? null : spread(values);
}

/**
 * A rate over the mean of the baseline measured just before and just after it. Drift of the machine that is
 * roughly linear over the bracket cancels out, where one baseline taken minutes earlier carries all of it.
 */
export function bracketedRatio(
  rate: number,
  baselineBefore: number,
  baselineAfter: number,
): number {
  const baseline = (baselineBefore + baselineAfter) / 2;
  if (!(baseline > 0))
    throw new Error(`bracketedRatio: no baseline (${baselineBefore}, ${baselineAfter})`);
  return round(rate / baseline, 3);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `median (min–max)`, for the summary table. */
export function formatSpread(figure: Spread | null, unit = ''): string {
  if (figure === null) return 'n/a';
  return figure.runs.length === 1
    ? `${figure.median}${unit}`
    : `${figure.median}${unit} (${figure.min}–${figure.max})`;
}
