// Puts a Reply on the wire: the head with the fields every response carries, then the body.

import { httpDate } from '../http/date';
import { responseHead } from '../http/head';
import type { FileBody, Reply } from '../static/handler';
import { VERSION } from '../version';
import { type Connection, finishResponse } from './connection';

const SERVER = `PWS/${VERSION}`;
/** Read size for streamed files: large reads amortise syscalls; backpressure bounds memory. */
const STREAM_CHUNK_BYTES = 256 * 1024;

/**
 * Writes `reply` on the connection. A HEAD gets exactly the head a GET would (RFC 9110 §9.3.2).
 * `http10` adds `Connection: keep-alive` where an HTTP/1.0 connection persists.
 * Calls finishResponse once everything is handed to the socket.
 */
export function writeReply(conn: Connection, reply: Reply, headOnly: boolean, keepAlive: boolean, http10: boolean): void {
  const { body } = reply;
  const length = body === null ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
  const fields: Array<[string, string | number]> = [['Server', SERVER], ['Date', httpDate()], ...reply.fields];
  // RFC 9110 §8.6: no Content-Length on 204; on 304 it could only repeat the 200's, so it is left out.
  if (reply.status !== 204 && reply.status !== 304) fields.push(['Content-Length', length]);
  fields.push(['X-Content-Type-Options', 'nosniff']);
  if (!keepAlive) fields.push(['Connection', 'close']);
  else if (http10) fields.push(['Connection', 'keep-alive']);
  const head = responseHead(reply.status, fields);
  const { socket } = conn;

  if (body === null || Buffer.isBuffer(body)) {
    if (headOnly || body === null || body.length === 0 || reply.status === 304 || reply.status === 204) {
      socket.write(head);
    } else {
      socket.cork();
      socket.write(head);
      socket.write(body);
      socket.uncork();
    }
    finishResponse(conn, keepAlive);
    return;
  }
  if (headOnly) {
    void body.handle.close().catch(() => undefined);
    socket.write(head);
    finishResponse(conn, keepAlive);
    return;
  }
  socket.write(head);
  streamFile(conn, body, keepAlive);
}

/**
 * Streams a file with backpressure: reading pauses while the socket's buffer is full and
 * resumes on 'drain' (see connection.ts). If the file ends early (truncated while being sent)
 * the promised Content-Length cannot be kept, so the connection is destroyed rather than
 * letting the client take a short body for a whole one.
 */
function streamFile(conn: Connection, file: FileBody, keepAlive: boolean): void {
  conn.file = file.handle;
  streamPart(conn, file, 0, 0, keepAlive);
}

/** Sends parts[index…] one after another; `sent` counts body bytes so far. */
function streamPart(conn: Connection, file: FileBody, index: number, sent: number, keepAlive: boolean): void {
  const { socket } = conn;
  while (index < file.parts.length) {
    const part = file.parts[index];
    if (!Buffer.isBuffer(part)) break;
    socket.write(part);
    sent += part.length;
    index++;
  }
  if (index === file.parts.length) {
    conn.file = null;
    void file.handle.close().catch(() => undefined);
    if (sent !== file.size) socket.destroy();
    else finishResponse(conn, keepAlive);
    return;
  }
  const [start, end] = file.parts[index] as [number, number];
  const stream = file.handle.createReadStream({ start, end, highWaterMark: STREAM_CHUNK_BYTES, autoClose: false });
  conn.stream = stream;
  let spanBytes = 0;
  stream.on('data', (chunk: string | Buffer) => {
    spanBytes += chunk.length;
    if (!socket.write(chunk)) stream.pause();
  });
  stream.on('error', () => socket.destroy());
  stream.on('end', () => {
    conn.stream = null;
    // A file truncated while being sent ends early: the promised length cannot be kept.
    if (spanBytes !== end - start + 1) socket.destroy();
    else streamPart(conn, file, index + 1, sent + spanBytes, keepAlive);
  });
}
