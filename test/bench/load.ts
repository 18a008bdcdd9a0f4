/**
 * Load generators: autocannon (closed loop, max throughput) and a small
 * open-loop generator that sends at an even pace and measures latency from each request's scheduled time.
 */

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** Throughput and latency of one measurement. Latencies are in milliseconds. */
export interface LoadStats {
  /** Responses received. */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Responses outside 2xx. */
  non2xx: number;
  /** 2xx responses whose body failed the check (e.g. an IPN not answered `ipnStatus` "200"). */
  mismatches: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/** One autocannon run. */
export interface AutocannonOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  /** Wall-clock bound (autocannon stops at its next 1 s tick after it). */
  durationSeconds: number;
  /** Body of each request, called once per request. */
  body: () => string;
  /** At most this many requests (the unique bodies available); the run may then end early. */
  maxRequests?: number;
  /** Checks each response body; failures count as mismatches. */
  verifyBody?: (body: string) => boolean;
}

/** Runs autocannon against one POST route and summarises the result. */
export function runAutocannon(options: AutocannonOptions): Promise<LoadStats> {
  // autocannon's own duration has 1 s resolution (it stops on its sampling tick); the rate is computed
  // from the first request to the last response instead, so a run that ends early is still measured right.
  let firstAt: number | undefined;
  let lastAt = 0;
  const verify = options.verifyBody;
  return new Promise((resolve, reject) => {
    // Set first: autocannon reports a bad option synchronously, from inside the call below, which clears it.
    const timer = setTimeout(() => instance.stop(), options.durationSeconds * 1000);
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        // With `amount` set autocannon ignores `duration`; the timer below bounds the run instead.
        ...(options.maxRequests === undefined
          ? { duration: options.durationSeconds }
          : { amount: options.maxRequests }),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: options.path,
            headers: options.headers,
            setupRequest: req => {
              firstAt ??= performance.now();
              return { ...req, body: options.body() };
            },
          },
        ],
        ...(verify ? { verifyBody: (body: unknown) => verify(String(body ?? '')) } : {}),
      },
      (error, result) => {
        clearTimeout(timer);
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const requests = result.requests.total;
        const durationSeconds =
          firstAt === undefined || lastAt <= firstAt ? result.duration : (lastAt - firstAt) / 1000;
        resolve({
          requests,
          durationSeconds: round(durationSeconds, 2),
          requestsPerSecond: Math.round(requests / durationSeconds),
          latencyMs: {
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          non2xx: result.non2xx,
          mismatches: result.mismatches,
          errors: result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', () => (lastAt = performance.now()));
  });
}

/** One open-loop run at a fixed, evenly spaced rate. */
export interface PacedOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Requests per second, spread evenly (one every 1000 / rate ms). */
  rate: number;
  durationSeconds: number;
  /** The next request body, or undefined when the supply is exhausted (the slot is then dropped). */
  body: () => string | Uint8Array | undefined;
  /** Checks each 2xx response body; failures count as mismatches. */
  verifyBody?: (body: string) => boolean;
  /** Sockets the generator may open (requests queue in the client beyond that, which the latency shows). */
  maxSockets?: number;
  /**
   * Requests that may be outstanding (sent or queued in the client, not yet answered). A slot that comes
   * due beyond this is dropped and counted: a server that cannot keep the pace then costs a bounded
   * time instead of an ever-growing backlog.
   */
  maxOutstanding?: number;
}

/** Paced results: also the slots dropped and the latency measured from the actual send time. */
export interface PacedStats extends LoadStats {
  /** Requests the schedule asked for. */
  scheduled: number;
  /** Slots not sent because too many requests were outstanding (or the bodies ran out). */
  dropped: number;
  /** Latency from the moment the request was written rather than when it was due. */
  serviceLatencyMs: { p50: number; p99: number };
}

/**
 * Sends `rate × durationSeconds` requests, the n-th scheduled at `start + n / rate`, without waiting for
 * earlier answers (open loop), so a slow server cannot slow the sender down and hide its own queueing
 * (coordinated omission). Latency counts from the scheduled time; the tick is 1 ms.
 */
export function runPaced(options: PacedOptions): Promise<PacedStats> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const total = Math.max(1, Math.round(options.rate * options.durationSeconds));
  const interval = 1000 / options.rate;
  const maxOutstanding = options.maxOutstanding ?? 200;
  const target = new URL(options.path, options.url);
  const latencies: number[] = [];
  const service: number[] = [];
  let slot = 0;
  let sent = 0;
  let dropped = 0;
  let finished = 0;
  let non2xx = 0;
  let mismatches = 0;
  let errors = 0;
  const start = performance.now();

  return new Promise(resolve => {
    let settled = false;
    const settle = () => {
      if (settled || slot < total || finished < sent) return;
      settled = true;
      agent.destroy();
      const durationSeconds = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      service.sort((a, b) => a - b);
      resolve({
        requests: finished - errors,
        durationSeconds: round(durationSeconds, 2),
        requestsPerSecond: Math.round((finished - errors) / durationSeconds),
        latencyMs: {
          p50: percentile(latencies, 50),
          p90: percentile(latencies, 90),
          p99: percentile(latencies, 99),
          max: percentile(latencies, 100),
        },
        serviceLatencyMs: { p50: percentile(service, 50), p99: percentile(service, 99) },
        scheduled: total,
        dropped,
        non2xx,
        mismatches,
        errors,
      });
    };

    const answered = () => {
      finished += 1;
      settle();
    };

    const fire = (scheduledAt: number, body: string | Uint8Array) => {
      sent += 1;
      let writtenAt = performance.now();
      let over = false;
      const answer = () => {
        if (over) return;
        over = true;
        answered();
      };
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { ...options.headers, 'content-length': Buffer.byteLength(body) },
          timeout: 10_000,
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const end = performance.now();
            latencies.push(end - scheduledAt);
            service.push(end - writtenAt);
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) non2xx += 1;
            else if (options.verifyBody && !options.verifyBody(text)) mismatches += 1;
            answer();
          });
        },
      );
      req.on('socket', socket => {
        const mark = () => (writtenAt = performance.now());
        if (socket.connecting) socket.once('connect', mark);
        else mark();
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        if (over) return;
        errors += 1;
        answer();
      });
      req.end(body);
    };

    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; slot < due; slot++) {
        const body = sent - finished < maxOutstanding ? options.body() : undefined;
        if (body === undefined) dropped += 1;
        else fire(start + slot * interval, body);
      }
      if (slot < total) return;
      clearInterval(timer);
      settle();
    }, 1);
  });
}

/** Nearest-rank percentile of sorted values, rounded to 0.01 ms. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return round(sorted[rank - 1]!, 2);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
