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
// Anything else — a reset mid-response, a wrong status, a body that differs by one byte, a
// refused connection — is a failure.

import net from 'node:net';

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

export type LoadKind = 'keep-alive' | 'new-connection';

const REQUEST_TIMEOUT_MS = 10_000;

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
      const s = net.connect({ port: this.opts.port, host: this.opts.host ?? '127.0.0.1' });
      s.setNoDelay(true);
      const onError = (err: Error): void => {
        this.fail(`connect: ${err.message}`);
        resolve(null);
      };
      s.once('error', onError);
      s.once('connect', () => {
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
