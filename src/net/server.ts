// The per-worker TCP server: accepts sockets, caps and tracks connections, enforces timeouts by one sweep.

import cluster from 'node:cluster';
import net from 'node:net';
import tls from 'node:tls';
import { AccessLog } from '../access-log';
import type { Config } from '../config';
import type { Handler } from '../contract/request';
import { E } from '../http/errors';
import { responseHead } from '../http/head';
import { log } from '../log';
import { type ConnectionContext, type Connection, BACKED_UP, CLOSING, READ_BODY, READ_HEAD, RESPONDING } from './connection';
import { accept, closeNow } from './machine';
import { dispatcher, fail } from './dispatch';

export interface HttpServer {
  server: net.Server;
  ctx: ConnectionContext;
  /** Stops accepting, lets responses in flight finish, closes idle connections. */
  drain(): void;
  /** Destroys every connection left and flushes the access log. */
  destroyAll(): void;
}

/** Sent, then the socket closed, to a connection past MAX_CONNECTIONS: cheaper than serving it. */
const BUSY = responseHead(503, [
  ['Content-Length', 0],
  ['Retry-After', 1],
  ['Connection', 'close'],
]);
const LIMIT_LOG_MS = 60_000;

/**
 * Creates the HTTP/1.1 server for `config` (not yet listening) answering with `handle`; `plain`
 * serves plain HTTP even when TLS is configured (the redirect port).
 */
export function createHttpServer(config: Config, handle: Handler, plain = false): HttpServer {
  if (plain) config = { ...config, tls: null };
  const ctx: ConnectionContext = {
    limits: { maxUriBytes: config.maxUriBytes, maxHeaderBytes: config.maxHeaderBytes, maxHeaders: config.maxHeaders },
    maxBodyBytes: config.maxBodyBytes,
    maxRequestsPerConnection: config.maxRequestsPerConnection,
    outputQueueBytes: config.outputQueueBytes,
    events: dispatcher(handle),
    accessLog: config.accessLog === 'off' ? null : AccessLog.open(config.accessLog, config.logFormat, config.accessLogBufferBytes),
    worker: cluster.worker?.id ?? 0,
    draining: false,
    connections: new Set(),
  };

  let refused = 0;
  let lastLimitLog = 0;
  const onSocket = (socket: net.Socket): void => {
    if (ctx.connections.size >= config.maxConnections) {
      refused++;
      const now = Date.now();
      if (now - lastLimitLog >= LIMIT_LOG_MS) {
        lastLimitLog = now;
        log.warn(`MAX_CONNECTIONS (${config.maxConnections}) reached: ${refused} connection(s) answered 503 so far`);
      }
      socket.on('error', () => socket.destroy());
      socket.end(BUSY);
      socket.destroySoon();
      return;
    }
    accept(socket, ctx);
  };
  // HTTPS is the same handler over node:tls: a TLSSocket is a net.Socket.
  const server: net.Server =
    config.tls === null
      ? net.createServer({ allowHalfOpen: true }, onSocket)
      : tls.createServer({ allowHalfOpen: true, cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' }, onSocket);
  // A failed handshake (a plain-HTTP client, an old protocol) only concerns that socket.
  server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());

  const period = Math.max(50, Math.min(1000, Math.min(config.headersTimeoutMs, config.keepAliveTimeoutMs, config.sendTimeoutMs) / 4));
  const timer = setInterval(() => sweep(ctx, config, Date.now()), period);
  timer.unref();
  server.on('close', () => clearInterval(timer));

  return {
    server,
    ctx,
    drain() {
      ctx.draining = true;
      server.close();
      for (const conn of ctx.connections) {
        if (conn.state === READ_HEAD && !conn.headStarted) closeNow(conn);
      }
    },
    destroyAll() {
      for (const conn of ctx.connections) conn.socket.destroy();
      ctx.accessLog?.flushSync();
    },
  };
}

/**
 * One pass over every connection, instead of a timer per socket (as Node's http server does):
 * a head that takes too long gets 408; an idle keep-alive connection, a stalled body, a reader
 * that accepts no bytes, and a closing socket whose peer never finishes are destroyed.
 */
export function sweep(ctx: ConnectionContext, config: Config, now: number): void {
  for (const conn of ctx.connections) {
    const age = now - conn.since;
    switch (conn.state) {
      case READ_HEAD:
        if (conn.headStarted) {
          if (age > config.headersTimeoutMs) fail(conn, E.HEADERS_TIMEOUT);
        } else if (age > config.keepAliveTimeoutMs || ctx.draining) {
          closeNow(conn);
        }
        break;
      case READ_BODY:
        if (age > config.headersTimeoutMs) conn.socket.destroy();
        break;
      case RESPONDING:
      case BACKED_UP:
        checkSendProgress(conn, config, now);
        break;
      case CLOSING:
        if (age > config.keepAliveTimeoutMs) conn.socket.destroy();
        break;
    }
  }
}

function checkSendProgress(conn: Connection, config: Config, now: number): void {
  const written = conn.socket.bytesWritten;
  if (written !== conn.writtenAtSweep || conn.socket.writableLength === 0) {
    conn.writtenAtSweep = written;
    conn.since = now;
  } else if (now - conn.since > config.sendTimeoutMs) {
    conn.socket.destroy();
  }
}
