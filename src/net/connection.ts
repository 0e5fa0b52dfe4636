// One client connection as an explicit state machine: reading a head → reading a body → responding →
// (backed up →) reading the next head …
//
// Socket events go to shared top-level handlers that find their Connection through a symbol
// on the socket: no closures per connection or per request. Requests are answered strictly in
// order; while one is being answered, later pipelined bytes wait in `pending` and reading
// pauses once they pass a bound. Once a reply is handed to the socket, the next request is
// parsed only if the socket's queue is at most OUTPUT_QUEUE_BYTES; otherwise the connection is
// BACKED_UP, not reading, until 'drain' (Node's http server pauses the same way). So a client
// that pipelines requests and never reads holds at most that queue plus one reply.

import type net from 'node:net';
import type { AccessLog } from '../access-log';
import type { FileRef } from '../static/files';
import { LF } from '../http/chars';
import { ChunkedDecoder } from '../http/chunked';
import { E, errorInfo } from '../http/errors';
import { emptyHead, NEED_MORE, parseRequestHead, type ParseLimits } from '../http/parser';
import { BODY_CHUNKED, BODY_LENGTH, emptyFraming, header, interpretHead } from '../http/request';
import { decodeTarget, type DecodedTarget } from '../http/target';
import { log } from '../log';
import { evaluatePreconditions, NOT_MODIFIED, type HeaderLookup } from '../http/conditional';
import { errorReply, notModified, type Reply, type Site, type StaticRequest } from '../static/handler';
import { modeIndex, type CachedReply } from '../static/reply-cache';
import { contentLength, replyHead, writeBuffered, writeReply } from './send';

export const READ_HEAD = 0;
export const READ_BODY = 1;
export const RESPONDING = 2;
export const CLOSING = 3;
export const CLOSED = 4;
/** A reply was handed over and the socket's queue is above OUTPUT_QUEUE_BYTES: waiting for 'drain'. */
export const BACKED_UP = 5;

/** Maps a request to a reply; the static handler in production, anything in tests. */
export type Handler = (req: StaticRequest, site: Site) => Promise<Reply>;

export interface ConnectionContext {
  limits: ParseLimits;
  maxBodyBytes: number;
  maxRequestsPerConnection: number;
  /** OUTPUT_QUEUE_BYTES: above this many queued bytes, the next request waits for 'drain'. */
  outputQueueBytes: number;
  site: Site;
  handle: Handler;
  accessLog: AccessLog | null;
  /** Worker id for log lines (cluster worker id, or 0). */
  worker: number;
  /** HEALTH_PATH, answered before anything else; null when off. */
  healthPath: string | null;
  /** True once the worker drains: every response then closes its connection. */
  draining: boolean;
  connections: Set<Connection>;
}

/** Methods of RFC 9110 (and PATCH) that PWS knows but does not serve: 405, not 501. */
const KNOWN_METHODS = new Set(['POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const ALLOW: Array<[string, string]> = [['Allow', 'GET, HEAD']];
const ALLOW_CORS: Array<[string, string]> = [['Allow', 'GET, HEAD, OPTIONS']];
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

const OK = Buffer.from('ok\n');
const DRAINING = Buffer.from('draining\n');

/** The path of an origin-form target, without its query. */
function targetPath(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** Cached bodies up to this size are stored joined to their head. */
const JOIN_BODY_BYTES = 4 * 1024;

/** Below this many buffered head bytes, the parser re-runs on every packet (cheap, finds errors early). */
const EAGER_PARSE_BYTES = 1024;

let requestSeq = 0;

export class Connection {
  state = READ_HEAD;
  /** Received bytes not yet consumed, or null. */
  pending: Buffer | null = null;
  readonly head = emptyHead();
  readonly framing = emptyFraming();
  bodyRemaining = 0;
  chunked: ChunkedDecoder | null = null;
  /** The open file of a streamed response; closed with the socket if the response is cut short. */
  file: FileRef | null = null;
  /** Resumes a streamed response waiting for the socket to drain (or to close). */
  drainWaiter: (() => void) | null = null;
  /** When the current phase started: first byte of a head, last body byte, idle since, or write progress. */
  since = Date.now();
  /** Whether bytes of the next head have arrived (distinguishes "idle" from "slow head"). */
  headStarted = false;
  /** socket.bytesWritten at the last sweep, to detect a client that stopped reading. */
  writtenAtSweep = 0;
  peerEnded = false;
  inAdvance = false;
  served = 0;
  // The request being answered, for the access log and error reports.
  seq = 0;
  start = 0;
  /** performance.now() at the start, for the request time in the log. */
  startHr = 0;
  status = 0;
  /** Body bytes of the current response: planned, or sent so far while streaming. */
  bytes = 0;
  /** Whether any byte of the current response has been written. */
  headWritten = false;
  readonly remote: string;
  readonly headLimit: number;

  constructor(
    readonly socket: net.Socket,
    readonly ctx: ConnectionContext,
  ) {
    this.headLimit = ctx.limits.maxUriBytes + ctx.limits.maxHeaderBytes + 64;
    // Only the access log needs the peer's address; asking costs a getpeername(2) and a string.
    this.remote = ctx.accessLog === null ? '-' : (socket.remoteAddress ?? '-');
  }

  /** Field lookup over the current head (the static handler's view of the request). */
  header(name: string): string | undefined {
    return header(this.head, name);
  }
}

const kConn = Symbol('pws.connection');
type ConnSocket = net.Socket & { [kConn]: Connection };

/** Wires a new socket to a Connection and registers it for the sweep. */
export function accept(socket: net.Socket, ctx: ConnectionContext): Connection {
  const conn = new Connection(socket, ctx);
  (socket as ConnSocket)[kConn] = conn;
  ctx.connections.add(conn);
  // Nagle off, as nginx's tcp_nodelay: with it on, a response written in two small pieces (a
  // streamed head, a multipart delimiter) can wait ~40 ms for the client's delayed ACK. Measured
  // here it costs ~5 % req/s on the 1 KB benchmark (118k vs 124k); latency wins.
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('drain', onDrain);
  socket.on('error', onError);
  socket.on('close', onClose);
  return conn;
}

function onData(this: ConnSocket, chunk: Buffer): void {
  const conn = this[kConn];
  try {
    receive(conn, chunk);
  } catch (err) {
    internalError(conn, err);
  }
}

function receive(conn: Connection, chunk: Buffer): void {
  // Closing: what the client still sends is read (so that its FIN arrives) and dropped.
  if (conn.state === CLOSING || conn.state === CLOSED) return;
  conn.pending = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
  if (conn.state === READ_HEAD) {
    if (!conn.headStarted) {
      conn.headStarted = true;
      conn.since = Date.now();
    }
    // Re-parsing a growing head on every packet would be quadratic; past a small size, only
    // a packet that can complete a line (or the limit) is worth a new look.
    if (conn.pending.length > EAGER_PARSE_BYTES && conn.pending.length <= conn.headLimit && chunk.indexOf(LF) === -1) return;
  } else if (conn.state === READ_BODY) {
    conn.since = Date.now();
  } else {
    // RESPONDING or BACKED_UP: later pipelined bytes wait, up to a bound.
    if (conn.pending.length > conn.headLimit) conn.socket.pause();
    return;
  }
  advance(conn);
}

function onEnd(this: ConnSocket): void {
  const conn = this[kConn];
  conn.peerEnded = true;
  if (conn.state === READ_HEAD || conn.state === READ_BODY) advance(conn);
  if (conn.state === CLOSING) conn.socket.destroy();
}

function onDrain(this: ConnSocket): void {
  const conn = this[kConn];
  const waiter = conn.drainWaiter;
  if (waiter !== null) {
    conn.drainWaiter = null;
    waiter();
  } else if (conn.state === BACKED_UP) {
    readNext(conn);
  }
}

function onError(this: ConnSocket): void {
  this.destroy();
}

function onClose(this: ConnSocket): void {
  const conn = this[kConn];
  if (conn.state === RESPONDING && conn.start !== 0) logAccess(conn); // cut short: log what was sent
  conn.state = CLOSED;
  conn.pending = null;
  conn.ctx.connections.delete(conn);
  if (conn.file !== null) {
    void conn.file.close().catch(() => undefined);
    conn.file = null;
  }
  onDrain.call(this); // a streamed response waiting for 'drain' wakes up and sees CLOSED
}

/**
 * Consumes pending bytes for as long as they complete heads and bodies. Synchronous replies
 * loop here instead of recursing, so a long pipelined batch cannot grow the stack.
 */
export function advance(conn: Connection): void {
  if (conn.inAdvance) return;
  conn.inAdvance = true;
  try {
    for (;;) {
      if (conn.state === READ_HEAD) {
        if (!readHead(conn)) break;
      } else if (conn.state === READ_BODY) {
        if (!readBody(conn)) break;
      } else {
        break;
      }
    }
  } finally {
    conn.inAdvance = false;
  }
  if (conn.state === READ_HEAD || conn.state === READ_BODY) {
    if (conn.peerEnded) {
      // Nothing more will arrive: a partial request can never complete.
      closeNow(conn);
    } else if (conn.socket.isPaused()) {
      conn.socket.resume();
    }
  }
}

/** Returns true when the loop should go on. */
function readHead(conn: Connection): boolean {
  const buf = conn.pending;
  if (buf === null) return false;
  const r = parseRequestHead(buf, 0, buf.length, conn.ctx.limits, conn.head);
  if (r === NEED_MORE) return false;
  if (r < 0) {
    fail(conn, r);
    return false;
  }
  conn.pending = r === buf.length ? null : buf.subarray(r);
  conn.headStarted = conn.pending !== null;
  conn.since = Date.now();

  const framingError = interpretHead(conn.head, conn.framing);
  if (framingError !== 0) {
    fail(conn, framingError);
    return false;
  }
  const { framing } = conn;
  if (framing.body === BODY_LENGTH) {
    if (framing.length > conn.ctx.maxBodyBytes) {
      fail(conn, E.BODY_TOO_LARGE);
      return false;
    }
    conn.bodyRemaining = framing.length;
  } else if (framing.body === BODY_CHUNKED) {
    conn.chunked = new ChunkedDecoder(conn.ctx.maxBodyBytes, conn.ctx.limits.maxHeaderBytes);
  } else {
    dispatch(conn);
    return true;
  }
  conn.state = READ_BODY;
  if (framing.expectContinue) conn.socket.write(CONTINUE);
  return true;
}

/** Skips body bytes exactly; returns true when the loop should go on. */
function readBody(conn: Connection): boolean {
  const buf = conn.pending;
  if (buf === null) return false;
  let used: number;
  if (conn.chunked !== null) {
    used = conn.chunked.feed(buf, 0, buf.length);
    if (used < 0) {
      fail(conn, used);
      return false;
    }
  } else {
    used = Math.min(conn.bodyRemaining, buf.length);
    conn.bodyRemaining -= used;
  }
  conn.pending = used === buf.length ? null : buf.subarray(used);
  const done = conn.chunked !== null ? conn.chunked.done : conn.bodyRemaining === 0;
  if (!done) return false;
  conn.chunked = null;
  conn.headStarted = conn.pending !== null;
  dispatch(conn);
  return true;
}

function beginResponse(conn: Connection): void {
  conn.state = RESPONDING;
  conn.since = Date.now();
  conn.start = conn.since;
  conn.startHr = performance.now();
  conn.seq = ++requestSeq;
  conn.headWritten = false;
  conn.writtenAtSweep = conn.socket.bytesWritten;
}

/** Routes a complete request: method policy, target decoding, then the handler. */
function dispatch(conn: Connection): void {
  beginResponse(conn);
  conn.served++;
  const { method } = conn.head;
  const { site } = conn.ctx;
  // OPTIONS is served when CORS is on (preflights); otherwise it is a method PWS does not serve.
  const options = method === 'OPTIONS' && site.options.cors !== null;
  if (method !== 'GET' && method !== 'HEAD' && !options) {
    if (KNOWN_METHODS.has(method)) respond(conn, errorReply(405, site.options.cors === null ? ALLOW : ALLOW_CORS), false);
    else respond(conn, errorReply(errorInfo(E.METHOD_NOT_IMPLEMENTED).status), false);
    return;
  }
  // The load balancer's probe: 200 while serving, 503 once draining (so it stops sending traffic).
  if (conn.ctx.healthPath !== null && (method === 'GET' || method === 'HEAD') && targetPath(conn.head.target) === conn.ctx.healthPath) {
    const status = conn.ctx.draining ? 503 : 200;
    respond(
      conn,
      {
        status,
        fields: [
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Cache-Control', 'no-store'],
        ],
        body: status === 200 ? OK : DRAINING,
      },
      method === 'HEAD',
    );
    return;
  }
  // The hot path: a response cached for this path and what of these request fields it depends on.
  const key = options ? null : site.replies.keyOf(conn.head.target, conn.head.names, conn.head.values);
  const hasQuery = key !== null && conn.head.target.includes('?');
  if (key !== null) {
    const hit = site.replies.get(key, conn.since, hasQuery);
    if (hit !== undefined) {
      respondCached(conn, hit, method === 'HEAD');
      return;
    }
  }
  let target: DecodedTarget | number;
  if (options && conn.head.target === '*') target = { segments: [], trailingSlash: true, query: '', authority: null };
  else target = decodeTarget(conn.head.target);
  if (typeof target === 'number') {
    respond(conn, errorReply(errorInfo(target).status), false);
    return;
  }
  const headOnly = method === 'HEAD';
  const header: HeaderLookup = (name) => conn.header(name);
  // A cacheable request is answered as if unconditional, so that the 200 can be cached; its
  // If-None-Match / If-Modified-Since are then evaluated here, as they are on a cache hit.
  const conditional = key !== null && (conn.header('if-none-match') !== undefined || conn.header('if-modified-since') !== undefined);
  const request: StaticRequest = {
    method,
    target,
    header: conditional ? (name) => (name === 'if-none-match' || name === 'if-modified-since' ? undefined : conn.header(name)) : header,
    cacheable: key !== null && site.replies.enabled,
  };
  let work: Promise<Reply>;
  try {
    work = conn.ctx.handle(request, site);
  } catch (err) {
    internalError(conn, err);
    return;
  }
  work.then(
    (reply) => {
      try {
        if (key !== null) site.replies.set(key, reply, Date.now(), hasQuery);
        const { validators } = reply;
        if (conditional && validators !== undefined && evaluatePreconditions(header, validators) === NOT_MODIFIED) reply = notModified(reply);
        respond(conn, reply, headOnly);
      } catch (err) {
        internalError(conn, err);
      }
    },
    (err: unknown) => internalError(conn, err),
  );
}

/** Answers a request-level error; the connection closes if the error leaves framing in doubt. */
export function fail(conn: Connection, code: number): void {
  const { status, close } = errorInfo(code);
  beginResponse(conn);
  respond(conn, errorReply(status), false, close);
}

/**
 * A bug, not a client error: logged with the request id; the client gets a 500 if nothing of
 * the response was sent yet, else the connection is cut. Other connections are unaffected.
 */
function internalError(conn: Connection, err: unknown): void {
  log.error(`request ${conn.ctx.worker}-${conn.seq} (${conn.head.method} ${conn.head.target}) failed: ${(err as Error)?.stack ?? String(err)}`);
  if (conn.state === CLOSED || conn.state === CLOSING) return;
  if (conn.headWritten) {
    conn.socket.destroy();
    return;
  }
  if (conn.start === 0) beginResponse(conn);
  conn.state = RESPONDING;
  try {
    respond(conn, errorReply(500), false, true);
  } catch {
    conn.socket.destroy();
  }
}

/** Whether the connection stays open after the current response. */
function keepsAlive(conn: Connection): boolean {
  const { ctx } = conn;
  const limit = ctx.maxRequestsPerConnection;
  return conn.framing.keepAlive && !ctx.draining && (limit === 0 || conn.served < limit);
}

function respond(conn: Connection, reply: Reply, headOnly: boolean, forceClose = false): void {
  if (conn.state === CLOSED) {
    if (reply.body !== null && !Buffer.isBuffer(reply.body)) void reply.body.handle.close().catch(() => undefined);
    return;
  }
  conn.status = reply.status;
  writeReply(conn, reply, headOnly, !forceClose && keepsAlive(conn), conn.head.versionMinor === 0);
}

/**
 * Writes a cached reply, or its 304 when the request's If-None-Match / If-Modified-Since say the
 * client has it: the head for this second and connection mode is built at most once.
 */
function respondCached(conn: Connection, hit: CachedReply, headOnly: boolean): void {
  const keepAlive = keepsAlive(conn);
  const http10 = conn.head.versionMinor === 0;
  const second = Math.floor(conn.since / 1000);
  const { replies } = conn.ctx.site;
  if (hit.second !== second) {
    hit.second = second;
    replies.setWire(hit, null, null);
  }
  let reply = hit.reply;
  const { validators } = reply;
  const unchanged =
    validators !== undefined &&
    (conn.header('if-none-match') !== undefined || conn.header('if-modified-since') !== undefined) &&
    evaluatePreconditions((name) => conn.header(name), validators) === NOT_MODIFIED;
  if (unchanged) {
    if (hit.notModified === null) replies.setNotModified(hit, notModified(reply));
    reply = hit.notModified as Reply;
  }
  const sendsBody = !headOnly && contentLength(reply) > 0;
  const body = sendsBody ? (reply.body as Buffer) : null;
  const mode = modeIndex(headOnly, keepAlive, http10, unchanged);
  let wire = hit.wire[mode];
  if (wire === undefined) {
    wire = replyHead(reply, keepAlive, http10);
    // Small bodies ride in the same buffer as the head: one write(2) instead of a writev(2).
    if (body !== null && body.length <= JOIN_BODY_BYTES) wire = Buffer.concat([wire, body]);
    replies.setWire(hit, mode, wire);
  }
  conn.status = reply.status;
  conn.bytes = sendsBody ? hit.size : 0;
  writeBuffered(conn, wire, body !== null && body.length > JOIN_BODY_BYTES ? body : null, keepAlive);
}

function logAccess(conn: Connection): void {
  const accessLog = conn.ctx.accessLog;
  if (accessLog === null) return;
  accessLog.write({
    remote: conn.remote,
    method: conn.head.method || '-',
    target: conn.head.target || '-',
    minor: conn.head.versionMinor,
    status: conn.status,
    bytes: conn.bytes,
    referer: conn.header('referer'),
    userAgent: conn.header('user-agent'),
    start: conn.start,
    ms: performance.now() - conn.startHr,
    worker: conn.ctx.worker,
  });
}

/**
 * Called by the sender once a response is fully handed to the socket: logs it, then closes
 * the connection or goes back to reading the next (possibly already buffered) request.
 */
export function finishResponse(conn: Connection, keepAlive: boolean): void {
  if (conn.state === CLOSED) return;
  logAccess(conn);
  conn.start = 0;
  // An idle connection keeps no strings of its last request alive (and a head that then fails
  // to parse is not logged under the previous request's line).
  conn.head.method = '';
  conn.head.target = '';
  conn.head.names.length = 0;
  conn.head.values.length = 0;
  if (!keepAlive) {
    closeNow(conn);
    return;
  }
  const { socket } = conn;
  // writableNeedDrain: the queue passed the socket's high-water mark, so 'drain' will come.
  if (socket.writableLength > conn.ctx.outputQueueBytes && socket.writableNeedDrain) {
    conn.state = BACKED_UP;
    conn.since = Date.now();
    conn.writtenAtSweep = socket.bytesWritten;
    socket.pause();
    return;
  }
  readNext(conn);
}

/** Goes back to reading: the next head may already be waiting in `pending`. */
function readNext(conn: Connection): void {
  conn.state = READ_HEAD;
  conn.since = Date.now();
  conn.headStarted = conn.pending !== null;
  advance(conn);
}

/** Ends our side after pending writes flush; the sweep destroys it if the peer never closes. */
export function closeNow(conn: Connection): void {
  if (conn.state === CLOSING || conn.state === CLOSED) return;
  conn.state = CLOSING;
  conn.since = Date.now();
  conn.pending = null;
  conn.socket.end();
  if (conn.peerEnded) conn.socket.destroySoon();
  // Reading may have been paused for backpressure: resume it so that the peer's FIN arrives
  // (anything else it sends is dropped by receive).
  else conn.socket.resume();
}
