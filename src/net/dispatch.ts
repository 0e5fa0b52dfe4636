// Answers what a connection reports: a complete request goes to the handler (the contract), a
// request-level error gets its status from http/errors, a bug gets a 500. Then the writer puts
// the reply on the wire, the access log gets its line, and the connection reads on or closes.

import { errorReply } from '../contract/error-page';
import { HTTP1 } from '../metrics/meter';
import { discardBody, type Reply } from '../contract/reply';
import type { Handler } from '../contract/request';
import { errorInfo } from '../http/errors';
import { log } from '../log';
import { clientAddress } from './client-address';
import { CLOSED, CLOSING, RESPONDING, type Connection, type ConnectionEvents } from './connection';
import { finishResponse } from './machine';
import { writeReply } from './writer';

let requestSeq = 0;

/** The events of every connection of one server, answered with `handle`. */
export function dispatcher(handle: Handler): ConnectionEvents {
  return {
    request: (conn) => dispatch(conn, handle),
    error: fail,
    bug: internalError,
    cutShort: logAccess,
  };
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

/** Hands a complete request to the handler: a ready reply is written at once, a promised one when it comes. */
function dispatch(conn: Connection, handle: Handler): void {
  beginResponse(conn);
  conn.served++;
  const headOnly = conn.head.method === 'HEAD';
  let result: Reply | Promise<Reply>;
  try {
    result = handle(conn);
  } catch (err) {
    internalError(conn, err);
    return;
  }
  if (!(result instanceof Promise)) {
    respond(conn, result, headOnly);
    return;
  }
  result.then(
    (reply) => {
      try {
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
  log.error(`request ${conn.ctx.worker}-${conn.seq} (${conn.head.method} ${conn.head.target}) failed: ${(err as Error | undefined)?.stack ?? String(err)}`);
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
  return conn.framing.keepAlive && !ctx.retiring && (limit === 0 || conn.served < limit);
}

function respond(conn: Connection, reply: Reply, headOnly: boolean, forceClose = false): void {
  if (conn.state === CLOSED) {
    discardBody(reply);
    return;
  }
  conn.status = reply.status;
  const keepAlive = !forceClose && keepsAlive(conn);
  writeReply(conn, reply, headOnly, keepAlive, conn.head.versionMinor === 0, (complete) => {
    if (!complete) {
      conn.socket.destroy();
      return;
    }
    if (conn.state === CLOSED) return;
    logAccess(conn);
    finishResponse(conn, keepAlive);
  });
}

function logAccess(conn: Connection): void {
  conn.ctx.metrics?.request(HTTP1, conn.head.method, conn.status, conn.bytes, performance.now() - conn.startHr);
  const accessLog = conn.ctx.accessLog;
  if (accessLog === null) return;
  accessLog.write({
    remote: clientAddress(conn.ctx, conn.remote, conn.fromProxy, conn),
    method: conn.head.method || '-',
    target: conn.head.target || '-',
    protocol: conn.head.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
    status: conn.status,
    bytes: conn.bytes,
    referer: conn.header('referer'),
    userAgent: conn.header('user-agent'),
    start: conn.start,
    ms: performance.now() - conn.startHr,
    worker: conn.ctx.worker,
  });
}
