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

/** A slice of a measurement: answers over a duration. */
export interface Slice {
  requests: number;
  durationSeconds: number;
}

/**
 * A signer's slices against the baseline slices around them (`baselineRates`: one before the first slice,
 * then one after each): its answers over those the baseline would have given in the same time, each slice's
 * baseline rate being the mean of the two around it. Drift of the machine that is roughly linear over a slice
 * and its neighbours cancels out, where one baseline taken minutes earlier carries all of it; alternating
 * short slices also averages out what changes faster than that.
 */
export function bracketedRatio(slices: readonly Slice[], baselineRates: readonly number[]): number {
  if (slices.length === 0 || baselineRates.length !== slices.length + 1) {
    throw new Error(
      `bracketedRatio: ${slices.length} slices need ${slices.length + 1} baselines, not ${baselineRates.length}`,
    );
  }
  let answered = 0;
  let expected = 0;
  slices.forEach((slice, i) => {
    answered += slice.requests;
    expected += ((baselineRates[i]! + baselineRates[i + 1]!) / 2) * slice.durationSeconds;
  });
  if (!(expected > 0)) throw new Error(`bracketedRatio: no baseline (${baselineRates.join(', ')})`);
  return round(answered / expected, 3);
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

/** The spread of after / before over paired rounds, and in how many rounds `after` was the lower figure. */
export function pairedRatios(
  pairs: readonly (readonly [before: number, after: number])[],
): Spread & { below: number } {
  const ratios = pairs.map(([before, after]) => {
    if (!(before > 0)) throw new Error(`pairedRatios: a round without a figure before (${before})`);
    return round(after / before, 3);
  });
  return { ...spread(ratios), below: pairs.filter(([before, after]) => after < before).length };
}
