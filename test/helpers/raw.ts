// A raw HTTP/1.1 client over node:net for tests: exact bytes out, responses parsed strictly back.

import net from 'node:net';

export interface Response {
  statusLine: string;
  status: number;
  /** Field names lower-cased; a repeated field keeps its last value. */
  headers: Record<string, string>;
  /** Field lines exactly as received, in order. */
  rawHeaders: string[];
  body: Buffer;
}

export interface Exchange {
  responses: Response[];
  /** Bytes left over after the last whole response (should be empty). */
  rest: Buffer;
  /** Whether the server closed the connection. */
  closed: boolean;
}

export interface ExchangeOptions {
  /** Stop once this many responses are complete (default: wait for close or idle). */
  responses?: number;
  /** Which responses answer HEAD (they have no body), by index. */
  headOnly?: number[];
  /** Give up waiting after this long without a new byte (default 2000 ms). */
  idleMs?: number;
  /** Delay between chunks, when `data` is an array. */
  gapMs?: number;
}

/**
 * Parses as many complete responses as `buf` holds. Bodies are delimited by Content-Length,
 * which every PWS response carries; a response without one is a test failure.
 */
export function parseResponses(buf: Buffer, headOnly: number[] | 'guess' = []): { responses: Response[]; rest: Buffer } {
  const responses: Response[] = [];
  let p = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', p, 'latin1');
    if (end === -1) break;
    const lines = buf.toString('latin1', p, end).split('\r\n');
    const statusLine = lines[0] ?? '';
    const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*$/.exec(statusLine);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad field line: ${JSON.stringify(line)}`);
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(m[1]);
    if (status === 100) {
      p = end + 4;
      continue;
    }
    const bodiless = status === 204 || status === 304;
    if (headers['content-length'] === undefined && !bodiless) throw new Error(`response without Content-Length: ${statusLine}`);
    // 'guess' (for fuzzing, where the request methods are unknown): a response directly followed
    // by another status line answered a HEAD.
    const guessedHead = headOnly === 'guess' && buf.toString('latin1', end + 4, end + 13) === 'HTTP/1.1 ';
    const length = (headOnly !== 'guess' && headOnly.includes(responses.length)) || guessedHead || bodiless ? 0 : Number(headers['content-length']);
    if (end + 4 + length > buf.length) break;
    responses.push({ statusLine, status, headers, rawHeaders: lines.slice(1), body: buf.subarray(end + 4, end + 4 + length) });
    p = end + 4 + length;
  }
  return { responses, rest: buf.subarray(p) };
}

/** Sends `data` (one write, or several with gaps) and collects the responses. */
export function exchange(port: number, data: string | Buffer | Array<string | Buffer>, opts: ExchangeOptions = {}): Promise<Exchange> {
  const chunks = Array.isArray(data) ? data : [data];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let closed = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(idle);
      socket.destroy();
      try {
        const { responses, rest } = parseResponses(Buffer.concat(received), opts.headOnly);
        resolve({ responses, rest, closed });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, opts.idleMs ?? 2000);
    };
    const send = async (): Promise<void> => {
      arm();
      for (const [i, c] of chunks.entries()) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!socket.destroyed) socket.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
      }
    };
    socket.on('connect', () => void send());
    socket.on('data', (d: Buffer) => {
      received.push(d);
      arm();
      if (opts.responses !== undefined) {
        try {
          if (parseResponses(Buffer.concat(received), opts.headOnly).responses.length >= opts.responses) finish();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
  });
}

/** One request with the usual framing; resolves with its single response. */
export async function get(port: number, target: string, fields: string[] = ['Host: localhost'], method = 'GET'): Promise<Response> {
  const ex = await exchange(port, `${method} ${target} HTTP/1.1\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`, {
    responses: 1,
    headOnly: method === 'HEAD' ? [0] : [],
  });
  const [only] = ex.responses;
  if (only === undefined || ex.responses.length !== 1) throw new Error(`expected one response to ${method} ${target}, got ${ex.responses.length}`);
  return only;
}
