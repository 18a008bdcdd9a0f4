/**
 * A per-source token bucket for what unverifiable callbacks may cost us (issue 11 §5): the IPN intake charges
 * it only after a signature failed, so a verified IPN is never refused, whoever shares its address.
 *
 * Why not express-rate-limit (already a dependency): the IPN intake runs before Express (no `req.ip`, no
 * `next`), the charge must come after verification rather than as a middleware in front of it, and an
 * over-limit request is still answered 401/400, only not stored. What is left is a bucket per address in a
 * bounded map, a few lines with an injectable clock.
 */

import { isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Options of {@link sourceLimiter}. */
export interface SourceLimiterOptions {
  /** Tokens per minute and source; also the bucket's size (a burst). 0: every take fails. */
  perMinute: number;
  /** Sources remembered at once; the least recently seen is forgotten first. Default 10,000. */
  maxSources?: number;
  /** Milliseconds, e.g. `() => Date.now()`. */
  now: () => number;
}

/** Per-source token buckets. */
export interface SourceLimiter {
  /** Takes one token of `source`'s bucket: false when it is empty. */
  take(source: string): boolean;
  /** How many sources it remembers now. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets per source in a map bounded by `maxSources` (least recently seen forgotten first). */
export function sourceLimiter(options: SourceLimiterOptions): SourceLimiter {
  const { perMinute, now } = options;
  const maxSources = options.maxSources ?? 10_000;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  return {
    get size() {
      return buckets.size;
    },
    take(source) {
      if (perMinute <= 0) return false;
      const at = now();
      let bucket = buckets.get(source);
      if (bucket === undefined) {
        // A forgotten source starts full, as a new one does: forgetting never lets anyone store more than a
        // new address could, and the store's own caps bound the total.
        if (buckets.size >= maxSources) buckets.delete(buckets.keys().next().value!);
        bucket = { tokens: perMinute, at };
      } else {
        buckets.delete(source);
        bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, at - bucket.at) * perMs);
        bucket.at = at;
      }
      // Re-inserted: the map's order is the order sources were last seen.
      buckets.set(source, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}

/**
 * The client address of a request, as Express's `req.ip` would give it with `trust proxy` set to `hops`: the
 * socket address, or with proxies in front the X-Forwarded-For entry `hops` places from the right (no further:
 * what a client writes there itself is not trusted).
 */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const chain = [req.socket.remoteAddress ?? ''];
  if (hops > 0) {
    const forwarded = req.headers['x-forwarded-for'];
    const entries = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .map(entry => entry.trim())
      .filter(Boolean)
      .reverse();
    chain.push(...entries);
  }
  return chain[Math.min(hops, chain.length - 1)]!;
}

/**
 * The key a source is limited under: an IPv4 address as is (IPv4-mapped IPv6 too), an IPv6 address by its
 * /56 prefix (one subscriber's allocation, as express-rate-limit does), anything else as given.
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') && tail !== '' ? tail.split(':') : [];
  // An embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) stands for two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = Math.max(0, 8 - width(left) - width(right));
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  const hex = groups.slice(0, 4).map(group => parseInt(group, 16) || 0);
  hex[3] = hex[3]! & 0xff00;
  return `${hex.map(group => group.toString(16)).join(':')}::/56`;
}
