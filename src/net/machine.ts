// The state machine of an HTTP/1.1 connection: reading a head → reading a body → responding →
// (backed up →) reading the next head …
//
// Socket events go to shared top-level handlers that find their Connection through a symbol on
// the socket: no closures per connection or per request. The machine only frames requests; what
// to answer is the dispatcher's (ConnectionEvents), and how to write it the writer's. Requests are
// answered strictly in order; while one is being answered, later pipelined bytes wait in
// `pending` and reading pauses once they pass a bound. Once a reply is handed to the socket, the
// next request is parsed only if the socket's queue is at most OUTPUT_QUEUE_BYTES; otherwise the
// connection is BACKED_UP, not reading, until 'drain' (Node's http server pauses the same way).
// So a client that pipelines requests and never reads holds at most that queue plus one reply.

import type net from 'node:net';
import { LF } from '../http/chars';
import { ChunkedDecoder } from '../http/chunked';
import { E } from '../http/errors';
import { NEED_MORE, parseRequestHead } from '../http/parser';
import { BODY_CHUNKED, BODY_LENGTH, interpretHead } from '../http/request';
import { parseProxyHeader, PROXY_NEED_MORE } from './proxy-protocol';
import { BACKED_UP, CLOSED, CLOSING, Connection, READ_BODY, READ_HEAD, RESPONDING, type ConnectionContext } from './connection';

/** Below this many buffered head bytes, the parser re-runs on every packet (cheap, finds errors early). */
const EAGER_PARSE_BYTES = 1024;

const kConn = Symbol('pws.connection');
type ConnSocket = net.Socket & { [kConn]: Connection };

/** Wires a new socket to a Connection and registers it for the sweep. */
export function accept(socket: net.Socket, ctx: ConnectionContext): Connection {
  const conn = new Connection(socket, ctx);
  (socket as ConnSocket)[kConn] = conn;
  ctx.connections.add(conn);
  // Nagle off, as nginx's tcp_nodelay: with it on, a response written in two small pieces (a
  // streamed head, a multipart delimiter) can wait ~40 ms for the client's delayed ACK, for ~5 %
  // req/s on the 1 KB benchmark (118k vs 124k); latency wins.
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
    conn.ctx.events.bug(conn, err);
  }
}

function receive(conn: Connection, chunk: Buffer): void {
  // Closing: what the client still sends is read (so that its FIN arrives) and dropped.
  if (conn.state === CLOSING || conn.state === CLOSED) return;
  conn.pending = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
  if (conn.awaitingProxy && !readProxyHeader(conn)) return;
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

/**
 * A balancer's connection without its PROXY header: closed unanswered (its peer is a balancer,
 * which gets no HTTP error it could relay), and said once a minute, since it usually means the
 * balancer is not configured to send one (HAProxy: send-proxy-v2, on its checks too).
 */
export function noProxyHeader(conn: Connection, what: string): void {
  conn.ctx.badProxyHeaders.note((n) => `PROXY_PROTOCOL: a connection from ${conn.socket.remoteAddress ?? '?'} ${what}; closed (${n} so far)`);
  conn.socket.destroy();
}

/**
 * PROXY_PROTOCOL: takes the header off the front of `pending` and notes the client it names.
 * Returns false while it is incomplete; a connection without a valid one is closed unanswered
 * (its peer is a balancer, which gets no HTTP error it could relay).
 */
function readProxyHeader(conn: Connection): boolean {
  const buf = conn.pending as Buffer;
  const r = parseProxyHeader(buf);
  if (r === PROXY_NEED_MORE) {
    if (!conn.headStarted) {
      conn.headStarted = true;
      conn.since = Date.now();
    }
    return false;
  }
  if (typeof r === 'number') {
    noProxyHeader(conn, 'did not start with a valid PROXY header');
    return false;
  }
  conn.awaitingProxy = false;
  if (r.source !== null && conn.remote !== '-') conn.remote = r.source;
  conn.pending = r.consumed === buf.length ? null : buf.subarray(r.consumed);
  conn.headStarted = false;
  return conn.pending !== null;
}

function onEnd(this: ConnSocket): void {
  const conn = this[kConn];
  conn.peerEnded = true;
  // What came before the FIN was not a PROXY header, so it is not HTTP either: no answer.
  if (conn.awaitingProxy) {
    noProxyHeader(conn, 'closed before a complete PROXY header');
    return;
  }
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
  if (conn.state === RESPONDING && conn.start !== 0) conn.ctx.events.cutShort(conn);
  conn.state = CLOSED;
  conn.pending = null;
  conn.ctx.connections.delete(conn);
  if (conn.file !== null) {
    conn.file.close();
    conn.file = null;
  }
  onDrain.call(this); // a streamed response waiting for 'drain' wakes up and sees CLOSED
}

/**
 * Consumes pending bytes for as long as they complete heads and bodies. Synchronous replies
 * loop here instead of recursing, so a long pipelined batch cannot grow the stack.
 */
function advance(conn: Connection): void {
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
    conn.ctx.events.error(conn, r);
    return false;
  }
  conn.pending = r === buf.length ? null : buf.subarray(r);
  conn.headStarted = conn.pending !== null;
  conn.since = Date.now();

  const framingError = interpretHead(conn.head, conn.framing);
  if (framingError !== 0) {
    conn.ctx.events.error(conn, framingError);
    return false;
  }
  const { framing } = conn;
  if (framing.body === BODY_LENGTH) {
    if (framing.length > conn.ctx.maxBodyBytes) {
      conn.ctx.events.error(conn, E.BODY_TOO_LARGE);
      return false;
    }
    conn.bodyRemaining = framing.length;
  } else if (framing.body === BODY_CHUNKED) {
    conn.chunked = new ChunkedDecoder(conn.ctx.maxBodyBytes, conn.ctx.limits.maxHeaderBytes);
  } else {
    conn.ctx.events.request(conn);
    return true;
  }
  conn.state = READ_BODY;
  if (framing.expectContinue) conn.socket.write(CONTINUE);
  return true;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Skips body bytes exactly; returns true when the loop should go on. */
function readBody(conn: Connection): boolean {
  const buf = conn.pending;
  if (buf === null) return false;
  let used: number;
  if (conn.chunked !== null) {
    used = conn.chunked.feed(buf, 0, buf.length);
    if (used < 0) {
      conn.ctx.events.error(conn, used);
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
  conn.ctx.events.request(conn);
  return true;
}

/**
 * Called once a response is fully handed to the socket: closes the connection, or goes back to
 * reading the next (possibly already buffered) request — unless the socket's queue is above
 * OUTPUT_QUEUE_BYTES, in which case reading waits for 'drain'.
 */
export function finishResponse(conn: Connection, keepAlive: boolean): void {
  if (conn.state === CLOSED) return;
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
