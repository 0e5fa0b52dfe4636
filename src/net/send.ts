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
  const fields = [
    ['Server', SERVER],
    ['Date', httpDate()],
    ...reply.fields,
    ['Content-Length', length],
    ['X-Content-Type-Options', 'nosniff'],
  ] as Array<[string, string | number]>;
  if (!keepAlive) fields.push(['Connection', 'close']);
  else if (http10) fields.push(['Connection', 'keep-alive']);
  const head = responseHead(reply.status, fields);
  const { socket } = conn;

  if (body === null || Buffer.isBuffer(body)) {
    if (headOnly || body === null || body.length === 0) {
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
  const { socket } = conn;
  const stream = file.handle.createReadStream({ start: 0, end: file.size - 1, highWaterMark: STREAM_CHUNK_BYTES });
  conn.stream = stream;
  let sent = 0;
  stream.on('data', (chunk: string | Buffer) => {
    sent += chunk.length;
    if (!socket.write(chunk)) stream.pause();
  });
  stream.on('error', () => socket.destroy());
  stream.on('end', () => {
    conn.stream = null;
    if (sent !== file.size) socket.destroy();
    else finishResponse(conn, keepAlive);
  });
}
