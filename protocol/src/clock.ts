/**
 * Galaxy Pay's `yyyyMMddHHmmss` timestamps, always in GMT+7 (Vietnam has no daylight saving time).
 * The official Node sample builds them the same way: UTC plus seven hours.
 */

const GMT_PLUS_7_MS = 7 * 60 * 60 * 1000;
const GATEWAY_DATE_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** A source of the current time; inject a fixed one in tests. */
export type Now = () => Date;

/** Formats an instant as `yyyyMMddHHmmss` in GMT+7. */
export function formatGatewayDateTime(instant: Date): string {
  const shifted = new Date(instant.getTime() + GMT_PLUS_7_MS);
  if (Number.isNaN(shifted.getTime())) throw new RangeError('formatGatewayDateTime: invalid date');
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    pad(shifted.getUTCFullYear(), 4) +
    pad(shifted.getUTCMonth() + 1) +
    pad(shifted.getUTCDate()) +
    pad(shifted.getUTCHours()) +
    pad(shifted.getUTCMinutes()) +
    pad(shifted.getUTCSeconds())
  );
}

/**
 * Parses a `yyyyMMddHHmmss` GMT+7 value (the gateway sends it as a string or a JSON number).
 * Returns `undefined` for anything that is not a real calendar instant, so callers decide how to fail.
 */
export function parseGatewayDateTime(value: unknown): Date | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = GATEWAY_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utc);
  // Date.UTC rolls 31 February over into March; a real timestamp must survive the round trip.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  return new Date(utc - GMT_PLUS_7_MS);
}

/** A clock bound to a time source: `clock.now()` is the gateway timestamp for "now". */
export function createGatewayClock(now: Now = () => new Date()): { now(): string } {
  return { now: () => formatGatewayDateTime(now()) };
}
