// One worker's samples: its counters (which outlive it: they are summed over every worker that
// ever ran) and its gauges (which count only while it runs), as series keys of the exposition.

import { BUCKETS, CODES, METHODS, PROTOCOLS, type Meter } from './meter';
import { labelValue } from './exposition';
import type { ProcessStats } from './process-stats';

/** What a worker reads besides its Meter, at the moment of a snapshot. */
export interface WorkerSources {
  meter: Meter;
  /** Connections and sessions open, and of those the idle ones. */
  connections(): { open: number; idle: number };
  replyCache(): { hits: number; misses: number; bytes: number; entries: number };
  compressionCache(): { hits: number; misses: number; bytes: number };
  accessLogDropped(): number;
  process: ProcessStats;
  /** The `worker` label of this worker's process metrics. */
  slot: string;
}

export interface WorkerSamples {
  counters: Record<string, number>;
  gauges: Record<string, number>;
}

/** The series keys of the request counters and the histogram, made once. */
const REQUEST_KEYS = PROTOCOLS.flatMap((p) => METHODS.flatMap((m) => CODES.map((c) => `pws_http_requests_total{protocol="${p}",method="${m}",code="${c}"}`)));
const BYTES_KEYS = PROTOCOLS.map((p) => `pws_http_response_bytes_total{protocol="${p}"}`);
const BUCKET_KEYS = PROTOCOLS.map((p) => [...BUCKETS.map(String), '+Inf'].map((le) => `pws_http_request_duration_seconds_bucket{protocol="${p}",le="${le}"}`));

/** The samples of one worker now. */
export function workerSamples(s: WorkerSources): WorkerSamples {
  const { meter } = s;
  const counters: Record<string, number> = {};
  REQUEST_KEYS.forEach((key, i) => (counters[key] = meter.requests[i] as number));
  BYTES_KEYS.forEach((key, i) => (counters[key] = meter.bytes[i] as number));
  PROTOCOLS.forEach((p, i) => {
    let cumulative = 0;
    (BUCKET_KEYS[i] as string[]).forEach((key, b) => {
      cumulative += meter.durations[i * (BUCKETS.length + 1) + b] as number;
      counters[key] = cumulative;
    });
    // In microseconds here and in the run folder (exact sums); shown in seconds (secondsOfSums).
    counters[`pws_http_request_duration_seconds_sum{protocol="${p}"}`] = meter.durationSumUs[i] as number;
    counters[`pws_http_request_duration_seconds_count{protocol="${p}"}`] = cumulative;
  });
  counters.pws_connections_refused_total = meter.refused;
  const reply = s.replyCache();
  const compression = s.compressionCache();
  counters.pws_reply_cache_hits_total = reply.hits;
  counters.pws_reply_cache_misses_total = reply.misses;
  counters.pws_compression_cache_hits_total = compression.hits;
  counters.pws_compression_cache_misses_total = compression.misses;
  counters.pws_access_log_dropped_lines_total = s.accessLogDropped();
  counters.pws_workers_started_total = 1;
  // Present from the start, so that the series exist at 0: the folder adds crashes, the primary reloads.
  counters.pws_worker_crashes_total = 0;
  counters.pws_reloads_total = 0;

  const conns = s.connections();
  const worker = `{worker="${labelValue(s.slot)}"}`;
  const gauges: Record<string, number> = {
    pws_connections_open: conns.open,
    pws_connections_idle: conns.idle,
    pws_reply_cache_bytes: reply.bytes,
    pws_reply_cache_entries: reply.entries,
    pws_compression_cache_bytes: compression.bytes,
    pws_workers: 1,
    [`pws_process_resident_memory_bytes${worker}`]: process.memoryUsage.rss(),
    [`pws_process_event_loop_delay_seconds${worker}`]: s.process.eventLoopDelay(),
    // A process's own counter: it starts again at 0 with a new process, as process_cpu_seconds_total does.
    [`pws_process_gc_seconds_total${worker}`]: s.process.gcSeconds(),
  };
  return { counters, gauges };
}

/** The histogram sums, kept in whole microseconds, in the seconds the exposition shows. */
export function secondsOfSums(samples: Map<string, number>): Map<string, number> {
  for (const [k, v] of samples) if (k.startsWith('pws_http_request_duration_seconds_sum{')) samples.set(k, v / 1e6);
  return samples;
}
