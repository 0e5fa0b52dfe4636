// The metric families PWS exposes, and their text exposition: Prometheus text format 0.0.4, or
// OpenMetrics 1.0 when the scraper asks for it. Pure: samples in, text out.
//
// A sample is keyed by its series as written in the exposition, `name{label="value",...}`, so
// that the samples of several workers sum by key.

export type Kind = 'counter' | 'gauge' | 'histogram';

export interface Family {
  /** The sample name: with `_total` for a counter, without `_bucket`/`_sum`/`_count` for a histogram. */
  name: string;
  kind: Kind;
  help: string;
}

/** Every family, in the order shown. docs/metrics.md explains each. */
export const FAMILIES: readonly Family[] = [
  { name: 'pws_http_requests_total', kind: 'counter', help: 'Requests answered, by protocol, method (GET, HEAD, other) and status class.' },
  { name: 'pws_http_response_bytes_total', kind: 'counter', help: 'Response body bytes sent, by protocol.' },
  {
    name: 'pws_http_request_duration_seconds',
    kind: 'histogram',
    help: 'Time from a request arriving whole to its last byte handed to the socket, by protocol.',
  },
  { name: 'pws_connections_open', kind: 'gauge', help: 'Connections and HTTP/2 sessions open now.' },
  { name: 'pws_connections_idle', kind: 'gauge', help: 'Open connections waiting for a request (kept alive, or not sent one yet).' },
  { name: 'pws_connections_refused_total', kind: 'counter', help: 'Connections answered 503 and closed at MAX_CONNECTIONS.' },
  { name: 'pws_reply_cache_hits_total', kind: 'counter', help: 'Requests answered from the reply cache.' },
  { name: 'pws_reply_cache_misses_total', kind: 'counter', help: 'Cacheable requests the reply cache did not hold.' },
  { name: 'pws_reply_cache_bytes', kind: 'gauge', help: 'Bytes the reply caches hold (bodies, keys, fields, overhead), all workers.' },
  { name: 'pws_reply_cache_entries', kind: 'gauge', help: 'Replies the reply caches hold, all workers.' },
  { name: 'pws_compression_cache_hits_total', kind: 'counter', help: 'Compressed results reused.' },
  { name: 'pws_compression_cache_misses_total', kind: 'counter', help: 'Compressed results computed (or joined while being computed).' },
  { name: 'pws_compression_cache_bytes', kind: 'gauge', help: 'Bytes the compression caches hold, all workers.' },
  { name: 'pws_access_log_dropped_lines_total', kind: 'counter', help: 'Access log lines dropped because ACCESS_LOG_BUFFER_BYTES was full.' },
  { name: 'pws_workers', kind: 'gauge', help: 'Worker processes running.' },
  { name: 'pws_workers_started_total', kind: 'counter', help: 'Worker processes started: the first ones, and every replacement (reload, crash, pm2 restart).' },
  { name: 'pws_worker_crashes_total', kind: 'counter', help: 'Worker processes that ended without finishing their drain (killed or crashed).' },
  { name: 'pws_reloads_total', kind: 'counter', help: 'Rolling restarts (SIGHUP) done by the PWS primary; not counted under pm2.' },
  { name: 'pws_process_resident_memory_bytes', kind: 'gauge', help: 'Resident memory of each worker process.' },
  { name: 'pws_process_event_loop_delay_seconds', kind: 'gauge', help: '99th percentile of event loop delay of each worker over the last 10 s.' },
  { name: 'pws_process_gc_seconds_total', kind: 'counter', help: 'Time each worker process has spent in garbage collection (restarts at 0 with the process).' },
  { name: 'pws_build_info', kind: 'gauge', help: 'The PWS version and the Node.js version running it.' },
];

/** A label value as the exposition formats write it. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The family a series key belongs to, or undefined. */
function familyOf(key: string, byName: ReadonlyMap<string, Family>): Family | undefined {
  const brace = key.indexOf('{');
  const base = brace === -1 ? key : key.slice(0, brace);
  return byName.get(base) ?? byName.get(base.replace(/_(bucket|sum|count)$/, ''));
}

const BY_NAME = new Map(FAMILIES.map((f) => [f.name, f]));

/** The media type of each format, as the Content-Type of a scrape. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Whether a scraper's Accept asks for OpenMetrics (Prometheus does, before the 0.0.4 text). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}

/** A number as both formats write it. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * The exposition of `samples` (series key → value), grouped by family in FAMILIES order, each
 * family's series in the order given. Samples of unknown families are left out. OpenMetrics
 * names a counter family without `_total` and ends with `# EOF`.
 */
export function render(samples: ReadonlyMap<string, number>, openMetrics: boolean): string {
  const grouped = new Map<Family, string[]>();
  for (const f of FAMILIES) grouped.set(f, []);
  for (const [key, value] of samples) {
    const f = familyOf(key, BY_NAME);
    if (f !== undefined) grouped.get(f)?.push(`${key} ${num(value)}`);
  }
  let out = '';
  for (const [f, lines] of grouped) {
    if (lines.length === 0) continue;
    const name = openMetrics && f.kind === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.kind}\n${lines.join('\n')}\n`;
  }
  return openMetrics ? `${out}# EOF\n` : out;
}
