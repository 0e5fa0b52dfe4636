// A lenient reader of one HTTP/1.1 response, for comparing PWS with other servers: it takes
// Content-Length, chunked, and close-delimited bodies alike (nginx sends chunked replies).

import net from 'node:net';

export interface Message {
  status: number;
  /** Lower-cased names; a repeated field keeps every value, joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Whether the server closed the connection after the response. */
  closed: boolean;
}

/** Decodes a chunked body starting at `buf[start]`; null when incomplete. */
function dechunk(buf: Buffer, start: number): Buffer | null {
  const parts: Buffer[] = [];
  let p = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', p, 'latin1');
    if (eol === -1) return null;
    const size = parseInt(buf.toString('latin1', p, eol).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    if (eol + 2 + size + 2 > buf.length) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    p = eol + 2 + size + 2;
  }
}

/** Parses the first response in `buf` (null if incomplete); `closed` says whether the stream ended. */
export function parseMessage(buf: Buffer, headOnly: boolean, closed: boolean): Message | null {
  let p = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', p, 'latin1');
    if (end === -1) return null;
    const lines = buf.toString('latin1', p, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = end + 4;
    if (status === 100) {
      p = bodyStart;
      continue;
    }
    if (headOnly || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0), closed };
    if (headers['transfer-encoding'] === 'chunked') {
      const body = dechunk(buf, bodyStart);
      return body === null ? null : { status, headers, body, closed };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return buf.length < bodyStart + length ? null : { status, headers, body: buf.subarray(bodyStart, bodyStart + length), closed };
    }
    return closed ? { status, headers, body: buf.subarray(bodyStart), closed } : null;
  }
}

/**
 * Sends `request` on a new connection to 127.0.0.1:`port` and reads the first response. Resolves
 * null when the server closed without one, or sent nothing for `idleMs`.
 */
export function ask(port: number, request: Buffer | string, headOnly = false, idleMs = 1500): Promise<Message | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request));
    const chunks: Buffer[] = [];
    let done = false;
    let timer = setTimeout(() => finish(false), idleMs);
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(parseMessage(Buffer.concat(chunks), headOnly, closed));
    };
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
      if (parseMessage(Buffer.concat(chunks), headOnly, false) !== null) {
        // Complete: wait a moment for the close (or not) that follows it.
        clearTimeout(timer);
        timer = setTimeout(() => finish(false), 100);
      }
    });
    s.on('end', () => finish(true));
    s.on('error', () => finish(true));
  });
}
