// One client connection as an explicit state machine: reading a head → reading a body → responding → …
//
// Every handler is a named top-level function over the Connection object (no per-request
// closures). Requests are answered strictly in order; while one is being answered, later
// pipelined bytes wait in `pending` and reading pauses once they pass a bound.

import type net from 'node:net';
import type { ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ChunkedDecoder } from '../http/chunked';
import { E, errorInfo } from '../http/errors';
import { LF } from '../http/chars';
import { emptyHead, NEED_MORE, parseRequestHead, type ParseLimits } from '../http/parser';
import { BODY_CHUNKED, BODY_LENGTH, emptyFraming, header, interpretHead } from '../http/request';
import { decodeTarget, type DecodedTarget } from '../http/target';
import { log } from '../log';
import { errorReply, serveStatic, type Reply, type Site } from '../static/handler';
import { writeReply } from './send';

export const READ_HEAD = 0;
export const READ_BODY = 1;
export const RESPONDING = 2;
export const CLOSING = 3;
export const CLOSED = 4;

export interface ConnectionContext {
  limits: ParseLimits;
  maxBodyBytes: number;
  site: Site;
  /** True once the worker drains: every response then closes its connection. */
  draining: boolean;
  connections: Set<Connection>;
}

/** Methods of RFC 9110 (and PATCH) that PWS knows but does not serve: 405, not 501. */
const KNOWN_METHODS = new Set(['POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const ALLOW: Array<[string, string]> = [['Allow', 'GET, HEAD']];
const ALLOW_CORS: Array<[string, string]> = [['Allow', 'GET, HEAD, OPTIONS']];
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Below this many buffered head bytes, the parser re-runs on every packet (cheap, finds errors early). */
const EAGER_PARSE_BYTES = 1024;

export class Connection {
  state = READ_HEAD;
  /** Received bytes not yet consumed, or null. */
  pending: Buffer | null = null;
  readonly head = emptyHead();
  readonly framing = emptyFraming();
  bodyRemaining = 0;
  chunked: ChunkedDecoder | null = null;
  /** The file being streamed, if any; destroyed (closing its descriptor) with the socket. */
  stream: ReadStream | null = null;
  /** The open file of a streamed response; closed with the socket if the response is cut short. */
  file: FileHandle | null = null;
  /** When the current phase started: first byte of a head, last body byte, idle since, or write progress. */
  since = Date.now();
  /** Whether bytes of the next head have arrived (distinguishes "idle" from "slow head"). */
  headStarted = false;
  /** socket.bytesWritten at the last sweep, to detect a client that stopped reading. */
  writtenAtSweep = 0;
  peerEnded = false;
  inAdvance = false;
  readonly headLimit: number;
  /** Field lookup over the current head, made once per connection (not per request). */
  readonly lookup = (name: string): string | undefined => header(this.head, name);

  constructor(
    readonly socket: net.Socket,
    readonly ctx: ConnectionContext,
  ) {
    this.headLimit = ctx.limits.maxUriBytes + ctx.limits.maxHeaderBytes + 64;
  }
}

/** Wires a new socket to a Connection and registers it for the sweep. */
export function accept(socket: net.Socket, ctx: ConnectionContext): Connection {
  const conn = new Connection(socket, ctx);
  ctx.connections.add(conn);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => onData(conn, chunk));
  socket.on('end', () => onEnd(conn));
  socket.on('drain', () => conn.stream?.resume());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => onClose(conn));
  return conn;
}

function onData(conn: Connection, chunk: Buffer): void {
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
  } else if (conn.state === RESPONDING) {
    if (conn.pending.length > conn.headLimit) conn.socket.pause();
    return;
  } else {
    return;
  }
  advance(conn);
}

function onEnd(conn: Connection): void {
  conn.peerEnded = true;
  if (conn.state === READ_HEAD || conn.state === READ_BODY) advance(conn);
  if (conn.state === CLOSING) conn.socket.destroy();
}

function onClose(conn: Connection): void {
  conn.state = CLOSED;
  conn.pending = null;
  conn.ctx.connections.delete(conn);
  if (conn.stream !== null) {
    conn.stream.destroy();
    conn.stream = null;
  }
  if (conn.file !== null) {
    void conn.file.close().catch(() => undefined);
    conn.file = null;
  }
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

/** Routes a complete request: method policy, target decoding, then the static handler. */
function dispatch(conn: Connection): void {
  conn.state = RESPONDING;
  conn.since = Date.now();
  conn.writtenAtSweep = conn.socket.bytesWritten;
  const { method } = conn.head;
  const { site } = conn.ctx;
  // OPTIONS is served when CORS is on (preflights); otherwise it is a method PWS does not serve.
  const options = method === 'OPTIONS' && site.options.cors !== null;
  if (method !== 'GET' && method !== 'HEAD' && !options) {
    if (KNOWN_METHODS.has(method)) respond(conn, errorReply(405, site.options.cors === null ? ALLOW : ALLOW_CORS), false);
    else respond(conn, errorReply(errorInfo(E.METHOD_NOT_IMPLEMENTED).status), false);
    return;
  }
  let target: DecodedTarget | number;
  if (options && conn.head.target === '*') target = { segments: [], trailingSlash: true, rawPath: '*', query: '' };
  else target = decodeTarget(conn.head.target);
  if (typeof target === 'number') {
    respond(conn, errorReply(errorInfo(target).status), false);
    return;
  }
  const headOnly = method === 'HEAD';
  serveStatic({ method, target, header: conn.lookup }, site).then(
    (reply) => respond(conn, reply, headOnly),
    (err: unknown) => {
      log.error(`request handler failed: ${(err as Error).stack ?? String(err)}`);
      respond(conn, errorReply(500), headOnly, true);
    },
  );
}

/** Answers a request-level error; the connection closes if the error leaves framing in doubt. */
export function fail(conn: Connection, code: number): void {
  const { status, close } = errorInfo(code);
  conn.state = RESPONDING;
  respond(conn, errorReply(status), false, close);
}

function respond(conn: Connection, reply: Reply, headOnly: boolean, forceClose = false): void {
  if (conn.state === CLOSED) {
    if (reply.body !== null && !Buffer.isBuffer(reply.body)) void reply.body.handle.close().catch(() => undefined);
    return;
  }
  const keepAlive = !forceClose && conn.framing.keepAlive && !conn.ctx.draining;
  writeReply(conn, reply, headOnly, keepAlive, conn.head.versionMinor === 0);
}

/**
 * Called by the sender once a response is fully handed to the socket: closes the connection
 * or goes back to reading the next (possibly already buffered) request.
 */
export function finishResponse(conn: Connection, keepAlive: boolean): void {
  if (conn.state === CLOSED) return;
  if (!keepAlive) {
    closeNow(conn);
    return;
  }
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
}
