// A bounded load client that checks every response, for reload and drain proofs. Two kinds:
//
// - 'keep-alive' behaves like a browser: each lane keeps one connection alive and sends GETs back
//   to back; when a *kept-alive* connection closes before any byte of the response arrived, the
//   request is retried once on a new connection (RFC 9112 §9.3.1 lets clients retry idempotent
//   requests on a connection that closed under them).
// - 'new-connection' behaves like curl in a loop or a health checker: one connection per request,
//   `Connection: close`, and no retry at all: a browser does not retry a request whose brand-new
//   connection is reset, so neither does this client.
//
// - 'h2' behaves like a browser over HTTP/2 (TLS only): each lane keeps one session and runs
//   H2_STREAMS requests on it at once; a request the server says it did not process — refused
//   with REFUSED_STREAM, or above the last stream id of a GOAWAY — is retried on a new session
//   (RFC 9113 §8.7 allows exactly that); any other end of a stream without its response fails.
//
// Anything else — a reset mid-response, a wrong status, a body that differs by one byte, a
// refused connection — is a failure. With `tls`, the HTTP/1.1 kinds speak TLS (ALPN http/1.1).

import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

export interface LoadOptions {
  port: number;
  host?: string;
  /** Parallel connections (one request at a time each). */
  lanes: number;
  /** 'keep-alive' (the default) or 'new-connection': see the header comment. */
  kind?: LoadKind;
  /** Paths to request, each with the exact body it must return. */
  expected: ReadonlyMap<string, Buffer>;
  /** Hard stop, so the client never runs unbounded (default 120 s). */
  maxMs?: number;
  /** Connect with TLS (any certificate accepted); 'h2' always does. */
  tls?: boolean;
}

export interface LoadStats {
  ok: number;
  failed: number;
  retried: number;
  /** First few failure descriptions. */
  failures: string[];
  /** Time of each failure, ms since the epoch. */
  failureTimes: number[];
}

export type LoadKind = 'keep-alive' | 'new-connection' | 'h2';
/** The HTTP/1.1 kinds, which run with or without TLS. */
export type Http1Kind = Exclude<LoadKind, 'h2'>;

const REQUEST_TIMEOUT_MS = 10_000;
/** Requests in flight at once on each HTTP/2 session. */
export const H2_STREAMS = 4;

type H2Outcome = { kind: 'response'; status: number; body: Buffer } | { kind: 'unprocessed' } | { kind: 'failed'; why: string };

type Outcome = { kind: 'response'; status: number; body: Buffer; close: boolean } | { kind: 'closed'; anyByte: boolean; why: string };

export class LoadClient {
  private stopped = false;
  private readonly lanesDone: Array<Promise<void>> = [];
  readonly stats: LoadStats = { ok: 0, failed: 0, retried: 0, failures: [], failureTimes: [] };
  private readonly paths: string[];
  private next = 0;

  constructor(private readonly opts: LoadOptions) {
    this.paths = [...opts.expected.keys()];
  }

  start(): this {
    const deadline = setTimeout(() => (this.stopped = true), this.opts.maxMs ?? 120_000);
    deadline.unref();
    for (let i = 0; i < this.opts.lanes; i++) this.lanesDone.push(this.lane());
    return this;
  }

  /** Stops sending new requests and resolves once every lane has finished its last one. */
  async stop(): Promise<LoadStats> {
    this.stopped = true;
    await Promise.all(this.lanesDone);
    return this.stats;
  }

  private async lane(): Promise<void> {
    if (this.opts.kind === 'new-connection') return this.freshLane();
    if (this.opts.kind === 'h2') return this.h2Lane();
    let sock: net.Socket | null = null;
    let reused = false;
    while (!this.stopped) {
      const path = this.paths[this.next++ % this.paths.length] ?? '/';
      if (sock === null || sock.destroyed || sock.readableEnded) {
        sock?.destroy();
        sock = await this.connect();
        reused = false;
        if (sock === null) continue;
      }
      let out = await request(sock, path);
      if (out.kind === 'closed' && reused && !out.anyByte) {
        this.stats.retried++;
        sock.destroy();
        sock = await this.connect();
        if (sock === null) continue;
        out = await request(sock, path);
      }
      if (out.kind === 'closed') {
        this.fail(`${path}: connection closed (${out.why})${out.anyByte ? ' mid-response' : ''}`);
        sock.destroy();
        sock = null;
        continue;
      }
      this.check(path, out);
      reused = true;
      if (out.close) {
        sock.destroy();
        sock = null;
      }
    }
    sock?.destroy();
  }

  /** One connection per request, closed by the server after the response; never retried. */
  private async freshLane(): Promise<void> {
    while (!this.stopped) {
      const path = this.paths[this.next++ % this.paths.length] ?? '/';
      const sock = await this.connect();
      if (sock === null) continue;
      const out = await request(sock, path, true);
      sock.destroy();
      if (out.kind === 'closed') this.fail(`${path}: new connection closed (${out.why})${out.anyByte ? ' mid-response' : ' before any response byte'}`);
      else this.check(path, out);
    }
  }

  /** One session at a time, H2_STREAMS requests in flight on it; unprocessed ones go again on the next. */
  private async h2Lane(): Promise<void> {
    const again: string[] = [];
    while (!this.stopped || again.length > 0) {
      const session = await this.connectH2();
      if (session === null) continue;
      let goaway = false;
      session.once('goaway', () => (goaway = true));
      const streams = Array.from({ length: H2_STREAMS }, async () => {
        while ((!this.stopped || again.length > 0) && !goaway && !session.closed && !session.destroyed) {
          const path = again.shift() ?? this.paths[this.next++ % this.paths.length] ?? '/';
          const out = await h2Request(session, path);
          if (out.kind === 'unprocessed') {
            this.stats.retried++;
            again.push(path);
            return;
          }
          if (out.kind === 'failed') this.fail(`${path}: ${out.why}`);
          else this.check(path, out);
        }
      });
      await Promise.all(streams);
      session.close();
    }
  }

  private connectH2(): Promise<http2.ClientHttp2Session | null> {
    return new Promise((resolve) => {
      const host = this.opts.host ?? '127.0.0.1';
      const session = http2.connect(`https://${host}:${this.opts.port}`, { rejectUnauthorized: false, servername: 'localhost' });
      const onError = (err: Error): void => {
        this.fail(`connect: ${err.message}`);
        session.destroy();
        resolve(null);
      };
      session.once('error', onError);
      session.once('connect', () => {
        session.off('error', onError);
        session.on('error', () => undefined);
        resolve(session);
      });
    });
  }

  private check(path: string, out: { status: number; body: Buffer }): void {
    const want = this.opts.expected.get(path);
    if (out.status !== 200 || want === undefined || !out.body.equals(want)) {
      this.fail(`${path}: status ${out.status}, ${out.body.length} body bytes`);
    } else {
      this.stats.ok++;
    }
  }

  private connect(): Promise<net.Socket | null> {
    return new Promise((resolve) => {
      const where = { port: this.opts.port, host: this.opts.host ?? '127.0.0.1' };
      const s =
        this.opts.tls === true
          ? tls.connect({ ...where, rejectUnauthorized: false, servername: 'localhost', ALPNProtocols: ['http/1.1'] })
          : net.connect(where);
      s.setNoDelay(true);
      const onError = (err: Error): void => {
        this.fail(`connect: ${err.message}`);
        resolve(null);
      };
      s.once('error', onError);
      s.once(this.opts.tls === true ? 'secureConnect' : 'connect', () => {
        s.off('error', onError);
        s.on('error', () => undefined);
        resolve(s);
      });
    });
  }

  private fail(why: string): void {
    this.stats.failed++;
    this.stats.failureTimes.push(Date.now());
    if (this.stats.failures.length < 20) this.stats.failures.push(why);
  }
}

/** Sends one GET on `sock` (asking to close after it when `close`) and waits for its whole response or the connection's end. */
function request(sock: net.Socket, path: string, close = false): Promise<Outcome> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    // A response that never comes is a failure, not a hang of the whole run.
    const timer = setTimeout(() => {
      sock.destroy();
      done({ kind: 'closed', anyByte: true, why: `no response in ${REQUEST_TIMEOUT_MS} ms` });
    }, REQUEST_TIMEOUT_MS);
    const done = (o: Outcome): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.off('end', onClose);
      resolve(o);
    };
    const onData = (d: Buffer): void => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      const close = /\r\nconnection: *close/i.test(head);
      const bodyLength = length ? Number(length[1]) : 0;
      if (buf.length < end + 4 + bodyLength) return;
      done({ kind: 'response', status, body: buf.subarray(end + 4, end + 4 + bodyLength), close });
    };
    const onClose = (): void => done({ kind: 'closed', anyByte: buf.length > 0, why: 'closed by server' });
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.once('end', onClose);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: load\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
  });
}

/**
 * One GET on `session`: its response, 'unprocessed' when the server says it never handled it
 * (REFUSED_STREAM, or beyond a GOAWAY's last stream; or the session had already received a
 * GOAWAY, so nothing was sent), or a failure.
 */
function h2Request(session: http2.ClientHttp2Session, path: string): Promise<H2Outcome> {
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':path': path }, { endStream: true });
    } catch {
      resolve({ kind: 'unprocessed' });
      return;
    }
    let status = 0;
    const chunks: Buffer[] = [];
    let ended = false;
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve({ kind: 'failed', why: `no response in ${REQUEST_TIMEOUT_MS} ms` });
    }, REQUEST_TIMEOUT_MS);
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => (ended = true));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      if (ended) resolve({ kind: 'response', status, body: Buffer.concat(chunks) });
      else if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM && status === 0) resolve({ kind: 'unprocessed' });
      else resolve({ kind: 'failed', why: `stream closed (code ${stream.rstCode})${status === 0 ? ' before its response' : ' mid-response'}` });
    });
  });
}
