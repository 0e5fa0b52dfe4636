// Every allocation a client can cause, and its bound: the one place they are listed.
//
// Like nginx's client_header_buffer_size, output_buffers and worker_connections, each is a
// named limit; this module adds them up for a Config, so that the worst case of a worker at any
// settings is a figure an operator can read (`pws --bounds` prints it; docs/memory.md lists it
// for the defaults, and a test keeps the two in step). Bytes shared with a cache entry are
// counted once, in that cache's budget.

import { MAX_CHUNK_LINE_BYTES } from './http/chunked';
import type { Config } from './config';
import { MAX_FREE_CHUNKS, STREAM_CHUNK_BYTES } from './net/writer';
import {
  H2_CHUNK_BYTES,
  H2_CHUNKS_PER_SESSION,
  H2_GUARANTEED_STREAMS,
  H2_MAX_STREAMS,
  H2_SESSION_STATE_BYTES,
  H2_STREAM_STATE_BYTES,
  H2_WINDOW_BYTES,
  h2StreamCap,
} from './net/h2';
import { COMPRESSED_MAX_ENTRIES, MAX_CONCURRENT_COMPRESSIONS } from './static/compress';
import { SMALL_FILE_BYTES } from './static/site';
import { MEMO_ENTRIES, MEMO_VALUE_CHARS } from './static/cache-key';
import { MAX_ENTRIES } from './static/reply-cache';

/** Largest chunk one socket read hands to JavaScript (libuv reads into 64 KiB buffers). */
export const SOCKET_READ_BYTES = 64 * 1024;
/** What a connection holds besides buffers: socket, Connection, parser state (`npm run idle-memory` measures ~3.1 KB). */
export const CONNECTION_STATE_BYTES = 4 * 1024;

export interface Bound {
  what: string;
  /** Bytes at the given Config. */
  bytes: number;
  /** The variable or constant that sets it, and how it is enforced. */
  set: string;
}

const KIB = 1024;
const count = (n: number): string => n.toLocaleString('en-US');

/** What one connection can make a worker hold, at `config`. */
export function connectionBounds(config: Config): Bound[] {
  return [
    { what: 'connection state (socket, parser, timers)', bytes: CONNECTION_STATE_BYTES, set: 'fixed; `npm run idle-memory` measures it' },
    {
      what: 'received bytes not yet parsed: a head, or pipelined heads while a reply is written',
      bytes: config.maxUriBytes + config.maxHeaderBytes + 64 + SOCKET_READ_BYTES,
      set: 'MAX_URI_BYTES + MAX_HEADER_BYTES + 64, plus one socket read; reading pauses past it (a PROXY protocol header is refused past 4,096 bytes)',
    },
    {
      what: 'a request body',
      bytes: 0,
      set: `never kept: discarded as it arrives, every byte (framing too) counted against MAX_BODY_BYTES; a chunk line over ${count(MAX_CHUNK_LINE_BYTES)} bytes is a 400`,
    },
    {
      what: 'replies queued on the socket',
      bytes: config.outputQueueBytes,
      set: 'OUTPUT_QUEUE_BYTES: above it, the next request is not parsed and the socket not read until drain',
    },
    {
      what: 'the one reply in progress, where no cache charges it',
      bytes: Math.max(STREAM_CHUNK_BYTES, SMALL_FILE_BYTES, config.cacheMaxFileBytes),
      set: `a ${STREAM_CHUNK_BYTES / KIB} KiB read of a streamed file; a whole file of at most ${SMALL_FILE_BYTES / KIB} KiB, or CACHE_MAX_FILE_BYTES read into the reply cache (which can evict it while it is sent); compressed results stay charged to the compression cache until sent`,
    },
  ];
}

/** What one HTTP/2 session can make a worker hold besides its streams (none without HTTP/2). */
export function sessionBounds(config: Config): Bound[] {
  if (!config.http2) return [];
  return [
    { what: 'HTTP/2 session state (TLS, nghttp2, HPACK tables)', bytes: H2_SESSION_STATE_BYTES, set: 'fixed; `npm run h2-memory` measures ~200 KiB of RSS' },
    {
      what: 'a header list being received',
      bytes: config.maxUriBytes + config.maxHeaderBytes,
      set: 'SETTINGS_MAX_HEADER_LIST_SIZE = MAX_URI_BYTES + MAX_HEADER_BYTES; a larger list resets its stream',
    },
    {
      what: 'request bodies',
      bytes: H2_WINDOW_BYTES,
      set: 'read and dropped as they arrive, at most the flow-control window at a time; past MAX_BODY_BYTES the stream is cancelled',
    },
    {
      what: 'streams it may open past the worker cap',
      bytes: H2_GUARANTEED_STREAMS * (H2_STREAM_STATE_BYTES + config.maxUriBytes + config.maxHeaderBytes),
      set: `${H2_GUARANTEED_STREAMS}, each its state and header list: one client cannot take every slot of the worker cap`,
    },
    {
      what: 'read buffers of streamed files',
      bytes: H2_CHUNKS_PER_SESSION * H2_CHUNK_BYTES,
      set: `${H2_CHUNKS_PER_SESSION} of ${H2_CHUNK_BYTES / KIB} KiB; more streams wait for one (a client that stops reading holds these, until SEND_TIMEOUT_MS)`,
    },
  ];
}

/** What one worker can be made to hold, at `config`, beyond the Node runtime itself. */
export function workerBounds(config: Config): Bound[] {
  const perSession = sum(sessionBounds(config));
  const h2 = config.http2
    ? [
        {
          what: 'HTTP/2 streams open (all sessions)',
          bytes: h2StreamCap(config.maxConnections) * (H2_STREAM_STATE_BYTES + config.maxUriBytes + config.maxHeaderBytes),
          set: `${count(h2StreamCap(config.maxConnections))} per worker (max(${H2_MAX_STREAMS}, MAX_CONNECTIONS / 2); past it, a session with ${H2_GUARANTEED_STREAMS} open gets new ones refused with REFUSED_STREAM), ${H2_MAX_STREAMS} per session; each its state (\`npm run h2-memory\`: ~19 KiB) and header list`,
        },
      ]
    : [];
  return [
    {
      what: 'connections',
      bytes: config.maxConnections * Math.max(perConnection(config), perSession),
      set: config.http2
        ? 'MAX_CONNECTIONS × the larger of the per-connection and per-session sums; past MAX_CONNECTIONS a new connection gets 503'
        : 'MAX_CONNECTIONS × the per-connection sum; past MAX_CONNECTIONS a new connection gets 503',
    },
    ...h2,
    {
      what: 'reply cache: bodies, keys, fields, wire buffers, per-entry overhead',
      bytes: config.cacheMaxBytes,
      set: `CACHE_MAX_BYTES, at most ${count(MAX_ENTRIES)} entries; keyed by the normalised path and what negotiation reads, never the query or raw field bytes`,
    },
    {
      what: 'compression cache: results (evicted ones too, until sent), keys, per-entry overhead',
      bytes: config.compressionCacheBytes,
      set: `COMPRESSION_CACHE_BYTES, at most ${count(COMPRESSED_MAX_ENTRIES)} entries; keyed by file version, not by client input; a result it cannot charge is not kept and the file goes out uncompressed`,
    },
    {
      what: 'files being compressed: input and output',
      bytes: config.compression ? MAX_CONCURRENT_COMPRESSIONS * 2 * config.compressionMaxBytes : 0,
      set: `${MAX_CONCURRENT_COMPRESSIONS} at a time, each a file of at most COMPRESSION_MAX_BYTES and its result; more wait their turn`,
    },
    {
      what: 'stream read buffers kept for reuse',
      bytes: MAX_FREE_CHUNKS * STREAM_CHUNK_BYTES,
      set: `${MAX_FREE_CHUNKS} buffers of ${STREAM_CHUNK_BYTES / KIB} KiB at most; one in use is counted with its connection`,
    },
    { what: 'access log lines not yet written', bytes: config.accessLogBufferBytes, set: 'ACCESS_LOG_BUFFER_BYTES; past it lines are dropped and counted' },
    {
      what: 'memos of normalised Accept-Encoding and Accept values',
      bytes: 2 * MEMO_ENTRIES * (2 * MEMO_VALUE_CHARS + 128),
      set: `${MEMO_ENTRIES} values each, of at most ${MEMO_VALUE_CHARS} characters; cleared when full`,
    },
    { what: 'field offsets of the parser', bytes: 16 * Math.max(config.maxHeaders, 128), set: 'MAX_HEADERS × 16 bytes, grown once' },
  ];
}

const sum = (bounds: Bound[]): number => bounds.reduce((n, b) => n + b.bytes, 0);

/** The sum of the per-connection bounds at `config`. */
export function perConnection(config: Config): number {
  return sum(connectionBounds(config));
}

/** The worst case of one worker at `config`: every bound at once (beyond the Node runtime). */
export function perWorker(config: Config): number {
  return sum(workerBounds(config));
}

/** Bytes as MiB or KiB with one decimal. */
export function formatBytes(n: number): string {
  if (n >= 1024 * KIB) return `${(n / (1024 * KIB)).toFixed(1)} MiB`;
  if (n >= KIB) return `${(n / KIB).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The bounds at `config` as a Markdown table (what `pws --bounds` prints and docs/memory.md holds). */
export function boundsTable(config: Config): string {
  const rows = (scope: string, bounds: Bound[]): string[] => bounds.map((b) => `| ${scope} | ${b.what} | ${formatBytes(b.bytes)} | ${b.set} |`);
  return [
    '| per | what | bound | set by |',
    '|---|---|---:|---|',
    ...rows('connection', connectionBounds(config)),
    `| connection | **sum** | **${formatBytes(perConnection(config))}** | |`,
    ...rows('HTTP/2 session', sessionBounds(config)),
    ...(config.http2 ? [`| HTTP/2 session | **sum** | **${formatBytes(sum(sessionBounds(config)))}** | |`] : []),
    ...rows('worker', workerBounds(config)),
    `| worker | **worst case, everything at once** | **${formatBytes(perWorker(config))}** | plus the Node runtime (~50 MB RSS) |`,
  ].join('\n');
}
