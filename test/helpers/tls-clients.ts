// Clients for PWS's TLS port, one per protocol: HTTP/1.1 (node:https, ALPN http/1.1) and HTTP/2
// (node:http2, one session per port). Both return the same shape, so that a test can run one
// table of cases over both protocols.

import http2 from 'node:http2';
import https from 'node:https';

export type Protocol = 'http/1.1' | 'h2';

export interface TlsResponse {
  protocol: Protocol;
  status: number;
  /** Lower-case names; repeated fields joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface TlsRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

function flatten(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function h1(port: number, req: TlsRequest): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const r = https.request(
      {
        host: '127.0.0.1',
        port,
        path: req.path,
        method: req.method ?? 'GET',
        headers: { host: 'localhost', ...req.headers },
        // A browser's offer when it will not speak h2: the server must choose http/1.1.
        agent: new https.Agent({ keepAlive: false, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ protocol: 'http/1.1', status: res.statusCode ?? 0, headers: flatten(res.headers), body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end();
  });
}

/** HTTP/2 sessions by port, reused across requests as a browser would. */
const sessions = new Map<number, http2.ClientHttp2Session>();

/** One HTTP/2 session to 127.0.0.1:`port` (a new one if the last has closed). */
export function h2Session(port: number): http2.ClientHttp2Session {
  let s = sessions.get(port);
  if (s === undefined || s.closed || s.destroyed) {
    s = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false, host: '127.0.0.1', servername: 'localhost' });
    s.on('error', () => undefined);
    sessions.set(port, s);
  }
  return s;
}

/** Closes every HTTP/2 session these helpers opened. */
export function closeH2Sessions(): void {
  for (const s of sessions.values()) s.close();
  sessions.clear();
}

function h2(port: number, req: TlsRequest): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const stream = h2Session(port).request({ ':method': req.method ?? 'GET', ':path': req.path, ...req.headers }, { endStream: true });
    const chunks: Buffer[] = [];
    let head: Record<string, string | string[] | number | undefined> | null = null;
    let ended = false;
    // For a reply without a body (204, 304), some Node versions end the stream before they emit
    // 'response': the result is complete once both have happened.
    const settle = (): void => {
      if (head !== null && ended) resolve({ protocol: 'h2', status: Number(head[':status']), headers: flatten(head), body: Buffer.concat(chunks) });
    };
    stream.on('response', (h) => {
      head = h;
      settle();
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      ended = true;
      settle();
    });
    stream.on('close', () => {
      if (head === null) reject(new Error(`stream closed without a response (code ${stream.rstCode})`));
    });
    stream.on('error', reject);
  });
}

/** Sends `req` to 127.0.0.1:`port` over TLS with `protocol`. */
export function tlsRequest(protocol: Protocol, port: number, req: TlsRequest): Promise<TlsResponse> {
  return protocol === 'h2' ? h2(port, req) : h1(port, req);
}
