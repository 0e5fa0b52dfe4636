// The HTTP/2 transport: TLS connections that chose `h2` by ALPN become node:http2 sessions
// (nghttp2 does framing, HPACK and flow control); each stream is a contract Request answered by
// the same Handler as HTTP/1.1, and each Reply goes out as HEADERS + DATA with the same fields
// and the same file streaming (net/writer.ts) under the stream's flow control.
//
// A session's bounds: at most H2_MAX_STREAMS streams at a time; a header list no longer than
// HTTP/1.1's head limit, and HTTP/1.1's 414/431 limits; request bodies read and dropped up to
// MAX_BODY_BYTES; streamed files read through H2_CHUNKS_PER_SESSION buffers of H2_CHUNK_BYTES, so
// streams the client stops reading hold at most those, until the sweep's SEND_TIMEOUT_MS check
// cancels them. The worker caps open streams (h2StreamCap). nghttp2 cuts off a client that resets
// streams in a loop (CVE-2023-44487) or floods SETTINGS or PINGs.

import http2, { type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type tls from 'node:tls';
import { errorReply } from '../contract/error-page';
import { HTTP2, type Meter } from '../metrics/meter';
import { contentLength, discardBody, type FileBody, type Reply } from '../contract/reply';
import type { Handler, Request } from '../contract/request';
import { sending, sent } from '../in-flight';
import { log, type RareWarning } from '../log';
import type { AccessLog } from '../access-log';
import type { ParseLimits } from '../http/parser';
import { clientAddress, isTrusted, peerAddress, type TrustedProxies } from './client-address';
import { replyFields, streamParts, type ChunkPool, type StreamOut } from './writer';

/** SETTINGS_MAX_CONCURRENT_STREAMS, as Apache and h2o: a page of 100 assets needs no second round. */
export const H2_MAX_STREAMS = 100;
/** Read size for files streamed over HTTP/2 (four DATA frames of the default size). */
export const H2_CHUNK_BYTES = 64 * 1024;
/**
 * Read buffers one session may hold at once (half of one HTTP/1.1 connection's); a stream waits
 * for one when all are out. Streams that are read take turns chunk by chunk; only streams whose
 * client stopped reading keep one, until SEND_TIMEOUT_MS.
 */
export const H2_CHUNKS_PER_SESSION = 2;
/**
 * Streams open at once in a worker: one per two connections MAX_CONNECTIONS allows, and at least
 * one session's worth. Past it a session's new stream is refused (REFUSED_STREAM, which a browser
 * retries) unless the session has fewer than H2_GUARANTEED_STREAMS open, so that stream state is
 * bounded by the worker, not by sessions × H2_MAX_STREAMS, and no client can take every slot.
 */
export function h2StreamCap(maxConnections: number): number {
  return Math.max(H2_MAX_STREAMS, Math.floor(maxConnections / 2));
}
/** Streams a session may always have open, whatever the worker's total: one client cannot take them all. */
export const H2_GUARANTEED_STREAMS = 2;
/** What one open stream holds besides its header list: streams, timers, request (`npm run h2-memory`). */
export const H2_STREAM_STATE_BYTES = 24 * 1024;
/** What one idle session holds: TLS, nghttp2, HPACK tables, JS objects (`npm run h2-memory`). */
export const H2_SESSION_STATE_BYTES = 256 * 1024;
/** Request body bytes a session holds at most before they are read and dropped: the connection's flow-control window. */
export const H2_WINDOW_BYTES = 65_535;
/** Fields that belong to an HTTP/1.1 connection; RFC 9113 §8.2.2 forbids them in HTTP/2. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);
/** Fields node:http2 accepts once per message: a site rule naming one replaces PWS's value. */
const SINGLE_VALUE = new Set([
  'content-type',
  'content-encoding',
  'content-length',
  'content-range',
  'etag',
  'last-modified',
  'location',
  'retry-after',
  'x-content-type-options',
  'date',
  'expires',
  'age',
  'content-language',
  'content-location',
  'access-control-allow-credentials',
  'access-control-max-age',
]);

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** What sessions share with the server they belong to (net/connection.ts's H2Context extends it). */
export interface H2Context {
  limits: ParseLimits;
  /** MAX_BODY_BYTES: request body bytes a stream may send (read and dropped) before it is cancelled. */
  maxBodyBytes: number;
  /** MAX_CONNECTIONS: sessions count against it, and it sets the worker's cap on open streams. */
  maxConnections: number;
  /** HTTP/2 streams open now in this server. */
  h2Streams: number;
  /** Streams refused at the worker's cap. */
  h2Refused: RareWarning;
  /** MAX_REQUESTS_PER_CONNECTION: after this many streams a session closes (0: no limit). */
  maxRequestsPerConnection: number;
  sendTimeoutMs: number;
  accessLog: AccessLog | null;
  /** The worker's request counters (METRICS_PATH, or under pm2); null when nothing reads them. */
  metrics: Meter | null;
  worker: number;
  retiring: boolean;
  trusted: TrustedProxies | null;
  proxyProtocol: boolean;
  /** HTTP/2 sessions open; each counts as one connection against MAX_CONNECTIONS. */
  sessions: Set<H2Session>;
}

/** One HTTP/2 connection, as the server's sweep and drain see it. */
export class H2Session {
  /** Streams being answered. */
  open = 0;
  /** Streams taken so far (MAX_REQUESTS_PER_CONNECTION). */
  served = 0;
  /** The answers in progress, for the sweep's send-progress check. */
  readonly exchanges = new Set<H2Exchange>();
  /** When the last stream finished (or the session began): an idle session closes after KEEP_ALIVE_TIMEOUT_MS. */
  idleSince = Date.now();
  closing = false;
  readonly chunks: SessionChunks;
  readonly remote: string;
  readonly fromProxy: boolean;

  constructor(
    readonly session: Http2Session,
    readonly ctx: H2Context,
    socket: tls.TLSSocket,
  ) {
    this.chunks = new SessionChunks();
    this.remote = ctx.accessLog === null ? '-' : peerAddress(socket.remoteAddress);
    this.fromProxy = ctx.trusted !== null && isTrusted(ctx.trusted, socket.remoteAddress);
  }

  /**
   * GOAWAY naming the last stream taken; open streams finish, then the session closes. A request
   * the client sent meanwhile is beyond that stream, so the client knows it was not processed and
   * retries it (RFC 9113 §6.8, §8.7), as a browser does. (A first GOAWAY naming every stream
   * would let those through, but nghttp2 takes only its own shutdown notice that way, and
   * node:http2 does not offer it.)
   */
  closeGracefully(): void {
    if (this.closing || this.session.closed || this.session.destroyed) return;
    this.closing = true;
    this.session.close();
    this.endIfDone();
  }

  /**
   * Once closing and without streams, the session ends: node:http2 does not always do it itself
   * (it can wait on the peer), and an idle session must not hold a draining worker.
   */
  endIfDone(): void {
    if (!this.closing || this.open > 0) return;
    const { session } = this;
    // A turn of the loop lets the GOAWAY reach the socket first.
    setImmediate(() => {
      if (!session.destroyed) session.destroy();
    });
  }
}

/** Read buffers of one session: at most H2_CHUNKS_PER_SESSION out, reused across its streams. */
class SessionChunks implements ChunkPool {
  readonly size = H2_CHUNK_BYTES;
  private out = 0;
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(chunk: Buffer | null) => void> = [];

  /** Buffers out now (for tests of the bound), and streams waiting for one. */
  get inUse(): number {
    return this.out;
  }

  get queued(): number {
    return this.waiting.length;
  }

  take(): Buffer | Promise<Buffer | null> {
    if (this.out < H2_CHUNKS_PER_SESSION) {
      this.out++;
      return this.free.pop() ?? Buffer.allocUnsafeSlow(H2_CHUNK_BYTES);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(chunk: Buffer): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(chunk);
      return;
    }
    this.out--;
    this.free.push(chunk);
  }

  /**
   * A buffer its stream took to a reset: node:http2 may never call that write's callback, and
   * may still hold the bytes, so the buffer is left to the collector and its place freed.
   */
  forfeit(): void {
    this.out--;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.out++;
      next(this.free.pop() ?? Buffer.allocUnsafeSlow(H2_CHUNK_BYTES));
    }
  }

  /** The session is gone: streams still waiting for a buffer give up. */
  close(): void {
    for (const w of this.waiting.splice(0)) w(null);
    this.free.length = 0;
  }
}

/** One stream's share of its session's buffers: those not handed back by its close are forfeited. */
class StreamChunks implements ChunkPool {
  readonly size = H2_CHUNK_BYTES;
  private readonly held = new Set<Buffer>();

  constructor(private readonly pool: SessionChunks) {}

  take(): Buffer | Promise<Buffer | null> {
    const taken = this.pool.take();
    if (Buffer.isBuffer(taken)) return this.hold(taken);
    return taken.then((chunk) => (chunk === null ? null : this.hold(chunk)));
  }

  give(chunk: Buffer): void {
    if (this.held.delete(chunk)) this.pool.give(chunk);
  }

  /** The stream closed: whatever it still holds is forfeited. */
  close(): void {
    for (let i = 0; i < this.held.size; i++) this.pool.forfeit();
    this.held.clear();
  }

  private hold(chunk: Buffer): Buffer {
    this.held.add(chunk);
    return chunk;
  }
}

/** Session options: the limits above, and HTTP/1.1's header limits for the header list. */
function sessionOptions(ctx: H2Context): http2.ServerOptions {
  return {
    settings: {
      maxConcurrentStreams: H2_MAX_STREAMS,
      enablePush: false,
      maxHeaderListSize: ctx.limits.maxUriBytes + ctx.limits.maxHeaderBytes,
    },
    // Pseudo-header fields count as pairs too.
    maxHeaderListPairs: ctx.limits.maxHeaders + 8,
  };
}

/** Turns a TLS socket that chose `h2` into a session answering with `handle`. */
export function acceptH2(socket: tls.TLSSocket, ctx: H2Context, handle: Handler): H2Session {
  const session = http2.performServerHandshake(socket, sessionOptions(ctx));
  const s = new H2Session(session, ctx, socket);
  ctx.sessions.add(s);
  session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    try {
      onStream(s, stream, headers, raw, handle);
    } catch (err) {
      log.error(`HTTP/2 stream failed: ${(err as Error).stack ?? String(err)}`);
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  });
  // Protocol errors, resets and timeouts end the session or stream; nothing to report.
  session.on('error', () => undefined);
  // The TLS server allows half-open sockets (HTTP/1.1 answers a request whose client has sent
  // its FIN); HTTP/2 has no such state, and a session would otherwise outlive its client until
  // every stream timed out.
  socket.once('end', () => session.destroy());
  session.on('close', () => {
    ctx.sessions.delete(s);
    s.chunks.close();
  });
  // In the lame duck a new session is still served: it closes after its first stream (onStream).
  return s;
}

/** A stream's request, as the handler contract presents it. */
class H2Request implements Request {
  readonly names: string[] = [];
  readonly values: string[] = [];

  constructor(
    readonly method: string,
    readonly target: string,
    readonly proxied: boolean,
    raw: readonly string[],
    authority: string | undefined,
  ) {
    // :authority takes the place of Host (RFC 9113 §8.3.1).
    if (authority !== undefined) {
      this.names.push('host');
      this.values.push(authority);
    }
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) === 0x3a || (name === 'host' && authority !== undefined)) continue;
      this.names.push(name);
      this.values.push(raw[i + 1]!);
    }
  }

  header(name: string): string | undefined {
    const i = this.names.indexOf(name);
    return i === -1 ? undefined : this.values[i];
  }
}

/** What one stream's answer is doing, for streaming, the timeout and the access log. */
class H2Exchange implements StreamOut {
  bytes = 0;
  status = 0;
  drainWaiter: (() => void) | null = null;
  readonly start: number;
  readonly startHr = performance.now();
  /** The read buffers of a streamed file, or null. */
  chunks: StreamChunks | null = null;
  /** The whole reply has been handed to the stream. */
  complete = false;
  /** Bytes the client had taken at the last sweep, and since when that has not changed. */
  sentAtSweep = -1;
  progressAt: number;

  constructor(
    readonly session: H2Session,
    readonly socket: ServerHttp2Stream,
    readonly req: H2Request,
  ) {
    this.start = this.progressAt = Date.now();
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.closed;
  }
}

const kExchange = Symbol('pws.exchange');
type ExchangeStream = ServerHttp2Stream & { [kExchange]: H2Exchange };

function ignore(): void {}

// Stream events go to shared handlers that find their exchange through a symbol on the stream,
// as HTTP/1.1's socket events do (net/machine.ts): no closures per stream.
function onStreamClose(this: ExchangeStream): void {
  const x = this[kExchange];
  const s = x.session;
  s.ctx.h2Streams--;
  s.exchanges.delete(x);
  if (!x.complete) {
    // Cut short (the client reset it, or it timed out): logged as nginx does, 499, with what was sent.
    x.status = 499;
    x.bytes = Math.max(0, x.bytes - this.bufferSize);
  }
  x.chunks?.close();
  wake(x);
  s.open--;
  if (s.open === 0) s.idleSince = Date.now();
  s.endIfDone();
  logAccess(s, x);
}

function onStreamDrain(this: ExchangeStream): void {
  wake(this[kExchange]);
}

function onStream(s: H2Session, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[], handle: Handler): void {
  const { ctx } = s;
  // A reset or a protocol error on one stream concerns only that stream.
  stream.on('error', ignore);
  // Past the worker's cap, only a session with fewer than H2_GUARANTEED_STREAMS open gets another.
  if (ctx.h2Streams >= h2StreamCap(ctx.maxConnections) && s.open >= H2_GUARANTEED_STREAMS) {
    refuse(ctx, stream);
    return;
  }
  ctx.h2Streams++;
  s.served++;
  // A request body is never used (GET and HEAD have none): read and dropped, up to
  // MAX_BODY_BYTES as over HTTP/1.1, then the stream is cancelled. (Resetting it as soon as the
  // reply is handed over would be shorter, but Node 22 and later then drop the reply's HEADERS.)
  if (!stream.endAfterHeaders) {
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > ctx.maxBodyBytes) stream.close(NGHTTP2_CANCEL);
    });
  }
  const method = headers[':method'] ?? '';
  const req = new H2Request(method, headers[':path'] ?? '', s.fromProxy, raw, headers[':authority']);
  const x = new H2Exchange(s, stream, req);
  s.open++;
  s.exchanges.add(x);
  (stream as ExchangeStream)[kExchange] = x;
  // 'close' comes once (`on` spares the wrapper `once` makes per stream).
  stream.on('close', onStreamClose);
  // The lame duck: this stream is served, then the session closes, as HTTP/1.1 closes after a
  // response; so does the last stream MAX_REQUESTS_PER_CONNECTION allows.
  const limit = ctx.maxRequestsPerConnection;
  if (ctx.retiring || (limit > 0 && s.served >= limit)) s.closeGracefully();

  const host = req.header('host');
  const conflicting = headers.host !== undefined && headers[':authority'] !== undefined && headers.host !== headers[':authority'];
  if (conflicting || (host === undefined && method !== 'CONNECT') || req.target === '') {
    respond(x, errorReply(400), false);
    return;
  }
  // HTTP/1.1's limits, with HTTP/1.1's answers (the header list as a whole is bounded by nghttp2).
  if (req.target.length > ctx.limits.maxUriBytes) {
    respond(x, errorReply(414), false);
    return;
  }
  let fieldBytes = 0;
  for (let i = 0; i < req.names.length; i++) fieldBytes += req.names[i]!.length + req.values[i]!.length + 4;
  if (req.names.length > ctx.limits.maxHeaders || fieldBytes > ctx.limits.maxHeaderBytes) {
    respond(x, errorReply(431), false);
    return;
  }
  let result: Reply | Promise<Reply>;
  try {
    result = handle(req);
  } catch (err) {
    internalError(x, err);
    return;
  }
  const headOnly = method === 'HEAD';
  if (!(result instanceof Promise)) {
    safeRespond(x, result, headOnly);
    return;
  }
  result.then(
    (reply) => safeRespond(x, reply, headOnly),
    (err: unknown) => internalError(x, err),
  );
}

/** respond, with a throw (a field node:http2 refuses, say) made a 500 for this stream only. */
function safeRespond(x: H2Exchange, reply: Reply, headOnly: boolean): void {
  try {
    respond(x, reply, headOnly);
  } catch (err) {
    discardBody(reply);
    internalError(x, err);
  }
}

function refuse(ctx: H2Context, stream: ServerHttp2Stream): void {
  stream.close(NGHTTP2_REFUSED_STREAM);
  ctx.h2Refused.note(
    (n) => `HTTP/2: ${h2StreamCap(ctx.maxConnections)} streams open (MAX_CONNECTIONS / 2): new streams of busy sessions refused (${n} so far)`,
  );
}

/**
 * The sweep's check of one session's answers, as HTTP/1.1's checkSendProgress: a stream whose
 * client has taken no byte for SEND_TIMEOUT_MS while bytes wait for it is cancelled.
 */
export function checkStreams(s: H2Session, now: number, sendTimeoutMs: number): void {
  for (const x of s.exchanges) {
    const waiting = x.socket.bufferSize;
    const taken = x.bytes - waiting;
    if (taken !== x.sentAtSweep || waiting === 0) {
      x.sentAtSweep = taken;
      x.progressAt = now;
    } else if (now - x.progressAt > sendTimeoutMs) {
      x.socket.close(NGHTTP2_CANCEL);
    }
  }
}

function wake(x: H2Exchange): void {
  const w = x.drainWaiter;
  x.drainWaiter = null;
  w?.();
}

function internalError(x: H2Exchange, err: unknown): void {
  log.error(`HTTP/2 request (${x.req.method} ${x.req.target}) failed: ${(err as Error | undefined)?.stack ?? String(err)}`);
  if (x.closed) return;
  try {
    if (x.socket.headersSent) x.socket.close(NGHTTP2_INTERNAL_ERROR);
    else respond(x, errorReply(500), false);
  } catch {
    x.socket.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/**
 * The reply's fields (the same as HTTP/1.1's) as HTTP/2 carries them: lower-case names, no
 * connection fields, a repeated field as a list, except where node:http2 takes one value.
 */
function h2Headers(reply: Reply): OutgoingHttpHeaders {
  // A cached reply (one with a wire slot) is sent again and again: its fields are mapped once per
  // second of Date (node:http2 copies the object it is given, so one serves every stream).
  const { wire } = reply;
  if (wire === undefined) return mapFields(reply);
  const second = Math.floor(Date.now() / 1000);
  const memo = wire.getFields(second);
  if (memo !== undefined) return memo as OutgoingHttpHeaders;
  const fields = mapFields(reply);
  let bytes = FIELDS_OVERHEAD_BYTES;
  for (const [name, value] of Object.entries(fields)) bytes += 2 * (name.length + String(value).length) + 32;
  wire.setFields(second, fields, bytes);
  return fields;
}

/** What a mapped field object holds beyond its text: the object and its slots. */
const FIELDS_OVERHEAD_BYTES = 64;

function mapFields(reply: Reply): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': reply.status };
  for (const [name, value] of replyFields(reply)) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower)) continue;
    const before = out[lower];
    if (before === undefined || SINGLE_VALUE.has(lower)) out[lower] = String(value);
    else out[lower] = [...(Array.isArray(before) ? before : [String(before)]), String(value)];
  }
  return out;
}

function respond(x: H2Exchange, reply: Reply, headOnly: boolean): void {
  const stream = x.socket;
  if (x.closed) {
    discardBody(reply);
    return;
  }
  x.status = reply.status;
  const { body } = reply;
  const length = contentLength(reply);
  const sendsBody = !headOnly && length > 0 && body !== null;
  if (!sendsBody) {
    discardBody(reply);
    stream.respond(h2Headers(reply), { endStream: true });
    x.complete = true;
    return;
  }
  stream.respond(h2Headers(reply));
  if (Buffer.isBuffer(body)) {
    x.bytes = body.length;
    sending(body);
    stream.end(body, () => sent(body));
    x.complete = true;
    return;
  }
  streamFile(x, body);
}

function streamFile(x: H2Exchange, body: FileBody): void {
  const done = (complete: boolean): void => {
    body.file.close();
    if (complete && !x.closed) {
      x.socket.end();
      x.complete = true;
    } else if (!x.closed) {
      // The promised content-length cannot be kept: the stream is cut, as HTTP/1.1 cuts the connection.
      x.socket.close(NGHTTP2_INTERNAL_ERROR);
    }
  };
  x.chunks = new StreamChunks(x.session.chunks);
  x.socket.on('drain', onStreamDrain);
  streamParts(x, body, x.chunks).then(done, () => done(false));
}

function logAccess(s: H2Session, x: H2Exchange): void {
  s.ctx.metrics?.request(HTTP2, x.req.method, x.status, x.bytes, performance.now() - x.startHr);
  const accessLog = s.ctx.accessLog;
  if (accessLog === null) return;
  accessLog.write({
    remote: clientAddress(s.ctx, s.remote, s.fromProxy, x.req),
    method: x.req.method || '-',
    target: x.req.target || '-',
    protocol: 'HTTP/2.0',
    status: x.status,
    bytes: x.bytes,
    referer: x.req.header('referer'),
    userAgent: x.req.header('user-agent'),
    start: x.start,
    ms: performance.now() - x.startHr,
    worker: s.ctx.worker,
  });
}
