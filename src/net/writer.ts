// The HTTP/1.1 writer: serialises any contract Reply (head with the fields every response carries,
// then the body) onto a socket, with backpressure. It knows nothing of where a reply came from.

import type net from 'node:net';
import { contentLength, type FileBody, type FileSource, type Reply, type Span } from '../contract/reply';
import { httpDate } from '../http/date';
import { responseHead } from '../http/head';
import { sending, sent } from '../in-flight';
import { VERSION } from '../version';

/** The Server field of every response. */
const SERVER = `PWS/${VERSION}`;
/** Read size for streamed files: large reads amortise syscalls; backpressure bounds memory. */
export const STREAM_CHUNK_BYTES = 256 * 1024;
/** Bodies up to this size ride in the same buffer as their (memoised) head: one write(2), not writev(2). */
const JOIN_BODY_BYTES = 4 * 1024;

/** Where a streamed body goes: a socket (HTTP/1.1) or an HTTP/2 stream. */
export interface Sink {
  /** Queues `chunk`; `done` runs once the sink is finished with its bytes. False: wait for 'drain'. */
  write(chunk: Buffer, done: (err?: Error | null) => void): boolean;
  /** Stops reading from the peer while the body waits for 'drain'. */
  pause(): void;
}

/**
 * Read buffers for streamed files. `take` resolves null when the body no longer needs one (its
 * sink closed while waiting); `give` hands a buffer back once its sink is done with it.
 */
export interface ChunkPool {
  readonly size: number;
  take(): Buffer | Promise<Buffer | null>;
  give(chunk: Buffer): void;
}

/** What streaming a file body needs of its destination. */
export interface StreamOut {
  readonly socket: Sink;
  /** True once the sink has closed. */
  readonly closed: boolean;
  /** Body bytes sent so far. */
  bytes: number;
  /** Resumes a stream waiting for 'drain' (or for the close). */
  drainWaiter: (() => void) | null;
}

/** What the writer needs of a connection: its socket and the state of the reply being sent. */
export interface Outbound extends StreamOut {
  readonly socket: net.Socket;
  /** Whether any byte of the current response has been written. */
  headWritten: boolean;
  /** The file being streamed, closed by the connection if the socket closes first. */
  file: FileSource | null;
}

/** Index of a connection mode in a reply's wire slot: HEAD or not × keep-alive, close, 1.0 keep-alive. */
export function modeIndex(headOnly: boolean, keepAlive: boolean, http10: boolean): number {
  return (headOnly ? 3 : 0) + (!keepAlive ? 1 : http10 ? 2 : 0);
}

/**
 * The fields of `reply` in the order they are sent, with those every response carries (Server,
 * Date, Content-Length, X-Content-Type-Options); no connection fields. Both protocols send these.
 */
export function replyFields(reply: Reply): Array<readonly [string, string | number]> {
  const h = reply.headers;
  const fields: Array<readonly [string, string | number]> = [
    ['Server', SERVER],
    ['Date', httpDate()],
  ];
  if (h.contentType !== undefined) fields.push(['Content-Type', h.contentType]);
  if (h.contentEncoding !== undefined) fields.push(['Content-Encoding', h.contentEncoding]);
  if (h.contentRange !== undefined) fields.push(['Content-Range', h.contentRange]);
  if (h.lastModified !== undefined) fields.push(['Last-Modified', h.lastModified]);
  if (h.etag !== undefined) fields.push(['ETag', h.etag]);
  if (h.cacheControl !== undefined) fields.push(['Cache-Control', h.cacheControl]);
  if (h.acceptRanges !== undefined) fields.push(['Accept-Ranges', h.acceptRanges]);
  if (h.location !== undefined) fields.push(['Location', h.location]);
  if (h.allow !== undefined) fields.push(['Allow', h.allow]);
  if (h.retryAfter !== undefined) fields.push(['Retry-After', h.retryAfter]);
  if (h.contentSecurityPolicy !== undefined) fields.push(['Content-Security-Policy', h.contentSecurityPolicy]);
  if (h.extra !== undefined) fields.push(...h.extra);
  if (h.vary !== undefined && h.vary.length > 0) fields.push(['Vary', h.vary.join(', ')]);
  // RFC 9110 §8.6: no Content-Length on 204; on 304 it could only repeat the 200's, so it is left out.
  if (reply.status !== 204 && reply.status !== 304) fields.push(['Content-Length', contentLength(reply)]);
  fields.push(['X-Content-Type-Options', 'nosniff']);
  return fields;
}

/** The HTTP/1.1 head of `reply` for one connection mode. */
export function replyHead(reply: Reply, keepAlive: boolean, http10: boolean): Buffer {
  const fields = replyFields(reply);
  if (!keepAlive) fields.push(['Connection', 'close']);
  else if (http10) fields.push(['Connection', 'keep-alive']);
  return responseHead(reply.status, fields);
}

/**
 * Writes `reply`. A HEAD gets exactly the head a GET would (RFC 9110 §9.3.2); `http10` adds
 * `Connection: keep-alive` where an HTTP/1.0 connection persists. A reply with a wire slot (a
 * cached one) has its head — and a small body with it — serialised once per second and mode.
 * Calls `done(true)` once everything is handed to the socket, `done(false)` if the body could not
 * be sent whole (the client left, or the file changed under it): the connection must then close.
 */
export function writeReply(out: Outbound, reply: Reply, headOnly: boolean, keepAlive: boolean, http10: boolean, done: (complete: boolean) => void): void {
  const { body } = reply;
  const length = contentLength(reply);
  const sendsBody = !headOnly && length > 0;
  out.bytes = sendsBody ? length : 0;
  if (body === null || Buffer.isBuffer(body) || !sendsBody) {
    // A file body that will not be sent (HEAD, 304) only needs its descriptor closed.
    if (body !== null && !Buffer.isBuffer(body)) body.file.close();
    const bytes = sendsBody ? (body as Buffer) : null;
    const { wire } = reply;
    if (wire === undefined) {
      writeBuffered(out, replyHead(reply, keepAlive, http10), bytes);
    } else {
      const mode = modeIndex(headOnly, keepAlive, http10);
      const second = Math.floor(Date.now() / 1000);
      let head = wire.get(mode, second);
      if (head === undefined) {
        head = replyHead(reply, keepAlive, http10);
        if (bytes !== null && bytes.length <= JOIN_BODY_BYTES) head = Buffer.concat([head, bytes]);
        wire.set(mode, second, head);
      }
      writeBuffered(out, head, bytes !== null && bytes.length > JOIN_BODY_BYTES ? bytes : null);
    }
    done(true);
    return;
  }
  out.headWritten = true;
  out.socket.write(replyHead(reply, keepAlive, http10));
  out.bytes = 0;
  out.file = body.file;
  streamParts(out, body, socketChunks).then(
    (complete) => {
      out.file = null;
      body.file.close();
      done(complete);
    },
    () => {
      out.file = null;
      body.file.close();
      done(false);
    },
  );
}

/**
 * Writes a head and an in-memory body with one writev (cork). The body is counted in flight
 * (src/in-flight.ts) until the socket is done with it, so a cache that shares it goes on charging
 * it after an eviction.
 */
function writeBuffered(out: Outbound, head: Buffer, body: Buffer | null): void {
  const { socket } = out;
  out.headWritten = true;
  if (body === null || body.length === 0) {
    socket.write(head);
    return;
  }
  sending(body);
  socket.cork();
  socket.write(head);
  socket.write(body, () => sent(body));
  socket.uncork();
}

/**
 * Streams the parts of a file body with backpressure: each chunk is read, then the file is
 * checked against the version whose head went out, then the chunk is written; while the socket's
 * buffer is full, reading waits for 'drain'. Resolves true when every byte went out, false when
 * the client left or the file changed (truncated, rewritten) while being sent: the promised
 * Content-Length cannot be honoured, so the caller cuts the connection rather than let a client
 * take mixed or short bytes for the file.
 */
export async function streamParts(out: StreamOut, body: FileBody, pool: ChunkPool): Promise<boolean> {
  for (const part of body.parts) {
    if (out.closed) return false;
    if (Buffer.isBuffer(part)) {
      out.bytes += part.length;
      if (!out.socket.write(part, noop) && !(await drained(out))) return false;
      continue;
    }
    if (!(await streamSpan(out, body.file, part, pool))) return false;
  }
  return out.bytes === body.size;
}

function noop(): void {}

/**
 * Read buffers of streamed files, handed back once the socket has written them. Without reuse,
 * a worker streaming to many clients allocates a fresh 256 KiB buffer per read, and the ones the
 * kernel already took sit as garbage until a collection: 200 slow downloads peaked 130 MiB above
 * what they hold. The free list is capped, so idle memory stays small.
 */
const freeChunks: Buffer[] = [];
/** Most read buffers kept for reuse (16 MiB); a burst beyond it allocates, then lets go. */
export const MAX_FREE_CHUNKS = 64;

/** Read buffers kept for reuse now (for tests of their bound). */
export function freeChunkCount(): number {
  return freeChunks.length;
}

/** The read buffers of HTTP/1.1 connections: one in use per streaming connection. */
const socketChunks: ChunkPool = {
  size: STREAM_CHUNK_BYTES,
  take: () => freeChunks.pop() ?? Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES),
  give(chunk) {
    if (freeChunks.length < MAX_FREE_CHUNKS) freeChunks.push(chunk);
  },
};

async function streamSpan(out: StreamOut, file: FileSource, [first, last]: Span, pool: ChunkPool): Promise<boolean> {
  let position = first;
  while (position <= last) {
    const want = Math.min(pool.size, last - position + 1);
    const taken = pool.take();
    const chunk = Buffer.isBuffer(taken) ? taken : await taken;
    if (chunk === null) return false;
    const bytesRead = await file.read(chunk, 0, want, position);
    if (out.closed || bytesRead !== want || !file.unchanged()) {
      pool.give(chunk);
      return false;
    }
    position += bytesRead;
    out.bytes += bytesRead;
    // The callback runs once the sink is done with the bytes (written, or failed): only then
    // may the buffer be read into again.
    if (!out.socket.write(chunk.subarray(0, want), () => pool.give(chunk)) && !(await drained(out))) return false;
  }
  return true;
}

/**
 * Waits for the socket to drain; false if it closed instead. Reading pauses meanwhile (it
 * resumes when the connection goes back to reading heads), so a client that does not take the
 * reply cannot keep sending requests either.
 */
function drained(out: StreamOut): Promise<boolean> {
  if (out.closed) return Promise.resolve(false);
  out.socket.pause();
  return new Promise((resolve) => {
    out.drainWaiter = () => resolve(!out.closed);
  });
}
