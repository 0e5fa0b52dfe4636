// A worker's request counters: what the transports report as each response completes, kept in
// typed arrays so that counting costs a few additions on the hot path. No I/O here.

/** Protocol label values, by index: HTTP/1.0 and 1.1 count as http/1.1. */
export const PROTOCOLS = ['http/1.1', 'h2'] as const;
export const HTTP1 = 0;
export const HTTP2 = 1;
/** Method label values: the two PWS serves, and everything else (answered 405 or 501). */
export const METHODS = ['GET', 'HEAD', 'other'] as const;
/** Status classes of final responses (PWS sends no 1xx but `100 Continue`, which is not one). */
export const CODES = ['2xx', '3xx', '4xx', '5xx'] as const;
/**
 * Upper bounds of the request duration histogram, in seconds: from 100 µs (a cached reply on a
 * warm connection) to 10 s (a large file to a slow client); the +Inf bucket follows.
 */
export const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const BUCKET_MS = BUCKETS.map((s) => s * 1000);

/** Counts of one worker since it started; only ever incremented. */
export class Meter {
  /** [protocol][method][code], flattened. */
  readonly requests = new Float64Array(PROTOCOLS.length * METHODS.length * CODES.length);
  readonly bytes = new Float64Array(PROTOCOLS.length);
  /** [protocol][bucket], each bucket counting its own range (made cumulative when shown); the last is +Inf. */
  readonly durations = new Float64Array(PROTOCOLS.length * (BUCKETS.length + 1));
  /**
   * Whole microseconds, so that sums over workers are exact whatever the order they are added in:
   * summed as fractions of seconds, a fold or a new order of files could make a total smaller by
   * a rounding error, which Prometheus reads as a counter reset.
   */
  readonly durationSumUs = new Float64Array(PROTOCOLS.length);
  /** Connections answered 503 and closed at MAX_CONNECTIONS. */
  refused = 0;

  /** One response completed (or cut short): `ms` from the request's arrival to its end. */
  request(protocol: number, method: string, status: number, bytes: number, ms: number): void {
    const m = method === 'GET' ? 0 : method === 'HEAD' ? 1 : 2;
    const c = status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
    const r = (protocol * METHODS.length + m) * CODES.length + c;
    this.requests[r] = (this.requests[r] as number) + 1;
    this.bytes[protocol] = (this.bytes[protocol] as number) + bytes;
    let b = 0;
    while (b < BUCKET_MS.length && ms > (BUCKET_MS[b] as number)) b++;
    const d = protocol * (BUCKETS.length + 1) + b;
    this.durations[d] = (this.durations[d] as number) + 1;
    this.durationSumUs[protocol] = (this.durationSumUs[protocol] as number) + Math.round(ms * 1000);
  }
}
