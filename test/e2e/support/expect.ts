/** Assertions the walks share. */

import assert from 'node:assert/strict';

/** Asserts that `actual` has each of `expected`'s fields, with that value; other fields are not compared. */
export function assertFields<T extends object>(
  actual: T,
  expected: { [K in keyof T]?: T[K] },
  message?: string,
): void {
  const compared = Object.fromEntries(
    Object.keys(expected).map(key => [key, actual[key as keyof T]]),
  );
  assert.deepEqual(compared, expected, message);
}
