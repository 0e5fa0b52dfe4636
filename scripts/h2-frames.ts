// A bare HTTP/2 client that writes frames itself (RFC 9113 §4, §6) for the cases a well-behaved
// client library will not produce: streams reset the moment they open, requests sent after a
// GOAWAY arrived, conflicting Host fields. It reads back which streams were answered, reset or
// cut by GOAWAY; header blocks are not decoded beyond their first byte (0x88 is `:status: 200`).

import tls from 'node:tls';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1), its first byte or'ed with `mask`. */
function hpackInt(value: number, n: number, mask: number): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const out = [mask | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

function literal(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/**
 * A header block for GET `path` (literal fields, never indexed, no Huffman), `authority` as
 * :authority, and `fields` after it.
 */
export function requestBlock(path: string, authority = 'localhost', fields: Array<[string, string]> = []): Buffer {
  const parts: Buffer[] = [Buffer.from([0x82, 0x87])]; // :method GET, :scheme https (static table)
  parts.push(hpackInt(4, 4, 0x00), literal(path)); // :path, literal without indexing
  parts.push(hpackInt(1, 4, 0x00), literal(authority)); // :authority
  for (const [name, value] of fields) parts.push(Buffer.from([0x00]), literal(name), literal(value));
  return Buffer.concat(parts);
}

export interface StreamSeen {
  /** First byte of the response header block (0x88: `:status: 200` from the static table). */
  status?: number;
  data: number;
  ended: boolean;
  reset?: number;
}

export class RawH2 {
  readonly streams = new Map<number, StreamSeen>();
  goaways: Array<{ last: number; code: number }> = [];
  /** Called as each GOAWAY is read, before any frame after it (a PING's ACK, say) is answered. */
  onGoaway: (() => void) | null = null;
  /** False: no WINDOW_UPDATE is sent, so the server's windows fill (a client that stopped reading). */
  reading = true;
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
        const c = new RawH2(socket);
        socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
        resolve(c);
      });
      socket.once('error', reject);
    });
  }

  send(...frames: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(frames));
  }

  /** Gives the server `bytes` more of the connection's flow-control window. */
  openWindow(bytes: number): void {
    const inc = Buffer.alloc(4);
    inc.writeUInt32BE(bytes);
    this.send(frame(WINDOW_UPDATE, 0, 0, inc));
  }

  /** HEADERS for GET `path` on `id`, ending the stream. */
  get(id: number, path: string, authority?: string, fields?: Array<[string, string]>): Buffer {
    return frame(HEADERS, END_HEADERS | END_STREAM, id, requestBlock(path, authority, fields));
  }

  /** Resolves once `check` holds (checked on every frame), or rejects after `ms`. */
  until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      const test = (): void => {
        if (check()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(test);
      };
      test();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private stream(id: number): StreamSeen {
    let s = this.streams.get(id);
    if (s === undefined) {
      s = { data: 0, ended: false };
      this.streams.set(id, s);
    }
    return s;
  }

  private receive(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 9) {
      const length = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + length) break;
      const type = this.buf[3]!;
      const flags = this.buf[4]!;
      const id = this.buf.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buf.subarray(9, 9 + length);
      this.buf = this.buf.subarray(9 + length);
      if (type === SETTINGS && (flags & ACK) === 0) this.send(frame(SETTINGS, ACK, 0));
      else if (type === PING && (flags & ACK) === 0) this.send(frame(PING, ACK, 0, payload));
      else if (type === HEADERS) {
        const s = this.stream(id);
        s.status ??= payload[0];
        if (flags & END_STREAM) s.ended = true;
      } else if (type === DATA) {
        const s = this.stream(id);
        s.data += length;
        if (flags & END_STREAM) s.ended = true;
        // Keep the windows open: this client reads everything.
        if (length > 0 && this.reading) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(length);
          this.send(frame(WINDOW_UPDATE, 0, 0, inc), frame(WINDOW_UPDATE, 0, id, inc));
        }
      } else if (type === RST_STREAM) this.stream(id).reset = payload.readUInt32BE(0);
      else if (type === GOAWAY) {
        this.goaways.push({ last: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) });
        this.onGoaway?.();
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A RST_STREAM frame with `code`. */
export function rst(id: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(RST_STREAM, 0, id, p);
}
