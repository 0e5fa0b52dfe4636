// Puts a Reply on the wire: the head with the fields every response carries, then the body.

import { httpDate } from '../http/date';
import { sending, sent } from '../in-flight';
import { responseHead } from '../http/head';
import type { Span } from '../http/range';
import type { FileRef, FileVersion } from '../static/files';
import type { FileBody, Reply } from '../static/handler';
import { VERSION } from '../version';
import { CLOSED, type Connection, finishResponse } from './connection';

const SERVER = `PWS/${VERSION}`;
/** Read size for streamed files: large reads amortise syscalls; backpressure bounds memory. */
export const STREAM_CHUNK_BYTES = 256 * 1024;

/** Body length of a reply as Content-Length states it (0 for 204 and 304). */
export function contentLength(reply: Reply): number {
  const { body } = reply;
  if (body === null || reply.status === 204 || reply.status === 304) return 0;
  return Buffer.isBuffer(body) ? body.length : body.size;
}

/** The head of `reply` with the fields every response carries, for one connection mode. */
export function replyHead(reply: Reply, keepAlive: boolean, http10: boolean): Buffer {
  const fields: Array<[string, string | number]> = [['Server', SERVER], ['Date', httpDate()], ...reply.fields];
  // RFC 9110 §8.6: no Content-Length on 204; on 304 it could only repeat the 200's, so it is left out.
  if (reply.status !== 204 && reply.status !== 304) fields.push(['Content-Length', contentLength(reply)]);
  fields.push(['X-Content-Type-Options', 'nosniff']);
  if (!keepAlive) fields.push(['Connection', 'close']);
  else if (http10) fields.push(['Connection', 'keep-alive']);
  return responseHead(reply.status, fields);
}

/**
 * Writes a head and an in-memory body with one writev (cork), then finishes the response. The
 * body is counted in flight (src/in-flight.ts) until the socket is done with it, so a cache that
 * shares it goes on charging it after an eviction.
 */
export function writeBuffered(conn: Connection, head: Buffer, body: Buffer | null, keepAlive: boolean): void {
  const { socket } = conn;
  conn.headWritten = true;
  if (body === null || body.length === 0) {
    socket.write(head);
  } else {
    sending(body);
    socket.cork();
    socket.write(head);
    socket.write(body, () => sent(body));
    socket.uncork();
  }
  finishResponse(conn, keepAlive);
}

/**
 * Writes `reply` on the connection. A HEAD gets exactly the head a GET would (RFC 9110 §9.3.2).
 * `http10` adds `Connection: keep-alive` where an HTTP/1.0 connection persists.
 * Calls finishResponse once everything is handed to the socket.
 */
export function writeReply(conn: Connection, reply: Reply, headOnly: boolean, keepAlive: boolean, http10: boolean): void {
  const { body } = reply;
  const head = replyHead(reply, keepAlive, http10);
  const length = contentLength(reply);
  conn.bytes = headOnly ? 0 : length;
  const sendsBody = !headOnly && length > 0;
  if (body === null || Buffer.isBuffer(body) || !sendsBody) {
    // A file body that will not be sent (HEAD, 304) only needs its descriptor closed.
    if (body !== null && !Buffer.isBuffer(body)) void body.handle.close().catch(() => undefined);
    writeBuffered(conn, head, sendsBody ? (body as Buffer | null) : null, keepAlive);
    return;
  }
  conn.headWritten = true;
  conn.socket.write(head);
  conn.bytes = 0;
  conn.file = body.handle;
  streamParts(conn, body).then(
    (complete) => {
      conn.file = null;
      void body.handle.close().catch(() => undefined);
      if (complete) finishResponse(conn, keepAlive);
      else conn.socket.destroy();
    },
    () => conn.socket.destroy(),
  );
}

/**
 * Streams the parts of a file body with backpressure: each chunk is read, then the file's size
 * and mtime are checked against the version whose head went out, then the chunk is written;
 * while the socket's buffer is full, reading waits for 'drain'. Resolves true when every byte
 * went out, false when the client left or the file changed (truncated, rewritten) while being
 * sent: the promised Content-Length cannot be honoured, so the caller cuts the connection
 * rather than let a client take mixed or short bytes for the file.
 */
async function streamParts(conn: Connection, file: FileBody): Promise<boolean> {
  const { handle } = file;
  for (const part of file.parts) {
    if (conn.state === CLOSED) return false;
    if (Buffer.isBuffer(part)) {
      conn.bytes += part.length;
      if (!conn.socket.write(part) && !(await drained(conn))) return false;
      continue;
    }
    if (!(await streamSpan(conn, handle, part, file.version))) return false;
  }
  return conn.bytes === file.size;
}

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

function takeChunk(): Buffer {
  return freeChunks.pop() ?? Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES);
}

function giveBack(chunk: Buffer): void {
  if (freeChunks.length < MAX_FREE_CHUNKS) freeChunks.push(chunk);
}

async function streamSpan(conn: Connection, handle: FileRef, [first, last]: Span, version: FileVersion): Promise<boolean> {
  let position = first;
  while (position <= last) {
    const want = Math.min(STREAM_CHUNK_BYTES, last - position + 1);
    const chunk = takeChunk();
    const { bytesRead } = await handle.read(chunk, 0, want, position);
    if (conn.state === CLOSED || bytesRead !== want || !handle.unchanged(version)) {
      giveBack(chunk);
      return false;
    }
    position += bytesRead;
    conn.bytes += bytesRead;
    // The callback runs once the socket is done with the bytes (written, or failed): only then
    // may the buffer be read into again.
    if (!conn.socket.write(chunk.subarray(0, want), () => giveBack(chunk)) && !(await drained(conn))) return false;
  }
  return true;
}

/**
 * Waits for the socket to drain; false if it closed instead. Reading pauses meanwhile (it
 * resumes when the connection goes back to reading heads), so a client that does not take the
 * reply cannot keep sending requests either.
 */
function drained(conn: Connection): Promise<boolean> {
  if (conn.state === CLOSED) return Promise.resolve(false);
  conn.socket.pause();
  return new Promise((resolve) => {
    conn.drainWaiter = () => resolve(conn.state !== CLOSED);
  });
}
