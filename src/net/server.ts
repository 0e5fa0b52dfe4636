// The per-worker TCP server: accepts sockets, caps and tracks connections, enforces timeouts by one sweep.

import cluster from 'node:cluster';
import net from 'node:net';
import tls from 'node:tls';
import { AccessLog } from '../access-log';
import type { Config } from '../config';
import type { Handler } from '../contract/request';
import { E } from '../http/errors';
import { responseHead } from '../http/head';
import { RareWarning } from '../log';
import type { Meter } from '../metrics/meter';
import { type ConnectionContext, type Connection, BACKED_UP, CLOSING, READ_BODY, READ_HEAD, RESPONDING } from './connection';
import { isTrusted } from './client-address';
import { accept, closeNow, noProxyHeader } from './machine';
import { dispatcher, fail } from './dispatch';
import { acceptH2, checkStreams } from './h2';
import { tlsPort, type TlsPort } from './tls-port';

export interface HttpServer {
  server: net.Server;
  ctx: ConnectionContext;
  /**
   * The lame duck: from now on the health probe says 503 and every response closes its
   * connection, but new connections are still accepted and served.
   */
  retire(): void;
  /**
   * Retires for good: stops accepting, lets responses in flight finish, closes idle kept-alive
   * connections at once and gives a connection that has not sent a request yet
   * FIRST_REQUEST_GRACE_MS to send one.
   */
  drain(): void;
  /** Connections open: HTTP/1.1 connections and HTTP/2 sessions. */
  open(): number;
  /** Destroys every connection left and flushes the access log. */
  destroyAll(): void;
}

/** Sent, then the socket closed, to a connection past MAX_CONNECTIONS: cheaper than serving it. */
const BUSY = responseHead(503, [
  ['Content-Length', 0],
  ['Retry-After', 1],
  ['Connection', 'close'],
]);
/**
 * A connection with no request yet when the drain begins (or accepted during it) may send one for
 * this long, and is answered with `Connection: close`. Its client has just connected and is
 * probably sending now; closing it unanswered is an error a browser shows, because nothing allows
 * a client to retry a request on a brand-new connection (RFC 9112 §9.3.1 covers reused ones). Two
 * seconds cover a request already on the wire from the far side of the world; an idle preconnect
 * holds the drain no longer than that.
 */
export const FIRST_REQUEST_GRACE_MS = 2000;

/**
 * Creates the HTTP/1.1 server for `config` (not yet listening) answering with `handle`; `plain`
 * serves plain HTTP even when TLS is configured (the redirect port); `metrics` counts its requests.
 */
export function createHttpServer(config: Config, handle: Handler, plain = false, metrics: Meter | null = null): HttpServer {
  if (plain) config = { ...config, tls: null };
  const ctx: ConnectionContext = {
    limits: { maxUriBytes: config.maxUriBytes, maxHeaderBytes: config.maxHeaderBytes, maxHeaders: config.maxHeaders },
    maxBodyBytes: config.maxBodyBytes,
    maxRequestsPerConnection: config.maxRequestsPerConnection,
    outputQueueBytes: config.outputQueueBytes,
    events: dispatcher(handle),
    accessLog: config.accessLog === 'off' ? null : AccessLog.open(config.accessLog, config.logFormat, config.accessLogBufferBytes),
    metrics,
    worker: cluster.worker?.id ?? 0,
    retiring: false,
    drainingSince: 0,
    connections: new Set(),
    sessions: new Set(),
    maxConnections: config.maxConnections,
    h2Streams: 0,
    h2Refused: new RareWarning(),
    sendTimeoutMs: config.sendTimeoutMs,
    trusted: config.trustedProxies,
    proxyProtocol: config.proxyProtocol,
    badProxyHeaders: new RareWarning(),
  };

  const refused = new RareWarning();
  const strangers = new RareWarning();
  const onSocket = (socket: net.Socket): void => {
    // PROXY_PROTOCOL: only the balancers may connect; anyone else could name any client.
    if (ctx.proxyProtocol && ctx.trusted !== null && !isTrusted(ctx.trusted, socket.remoteAddress)) {
      strangers.note((n) => `PROXY_PROTOCOL: connection from ${socket.remoteAddress ?? '?'}, not in TRUSTED_PROXIES, closed (${n} so far)`);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    if (ctx.connections.size + ctx.sessions.size >= config.maxConnections) {
      refused.note((n) => `MAX_CONNECTIONS (${config.maxConnections}) reached: ${n} connection(s) answered 503 so far`);
      if (metrics !== null) metrics.refused++;
      socket.on('error', () => socket.destroy());
      // A client that chose h2 cannot read an HTTP/1.1 answer: it gets the connection closed.
      if ((socket as tls.TLSSocket).alpnProtocol === 'h2') socket.destroy();
      else {
        socket.end(BUSY);
        socket.destroySoon();
      }
      return;
    }
    if (config.http2 && (socket as tls.TLSSocket).alpnProtocol === 'h2') acceptH2(socket as tls.TLSSocket, ctx, handle);
    else accept(socket, ctx);
  };
  // HTTPS is the same handler over node:tls: a TLSSocket is a net.Socket. With HTTP2, a client
  // that offers h2 gets it (node:http2); one that offers only http/1.1, or nothing, gets PWS's own.
  // The TLS server does not listen: the door in front of it answers plain HTTP sent to this port.
  let door: TlsPort | null = null;
  let server: net.Server;
  if (config.tls === null) {
    server = net.createServer({ allowHalfOpen: true }, onSocket);
  } else {
    const tlsServer = tls.createServer(
      {
        allowHalfOpen: true,
        cert: config.tls.cert,
        key: config.tls.key,
        minVersion: 'TLSv1.2',
        // A handshake gets as long as a request head (Node's default is 120 s).
        handshakeTimeout: config.headersTimeoutMs,
        // Without HTTP2 no ALPN is offered (any client's list is accepted, as before); with it,
        // a client that lists neither h2 nor an HTTP/1 version fails the handshake, as with nginx.
        ...(config.http2 ? { ALPNProtocols: ['h2', 'http/1.1', 'http/1.0'] } : {}),
      },
      onSocket,
    );
    // A failed handshake (an old protocol, a timeout) only concerns that socket.
    tlsServer.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
    door = tlsPort(tlsServer, { firstByteMs: config.headersTimeoutMs, lingerMs: config.keepAliveTimeoutMs });
    server = door.server;
  }

  const period = Math.max(50, Math.min(1000, Math.min(config.headersTimeoutMs, config.keepAliveTimeoutMs, config.sendTimeoutMs) / 4));
  const timer = setInterval(() => {
    const now = Date.now();
    sweep(ctx, config, now);
    door?.sweep(now);
  }, period);
  timer.unref();
  server.on('close', () => clearInterval(timer));

  return {
    server,
    ctx,
    retire() {
      ctx.retiring = true;
      for (const s of ctx.sessions) s.closeGracefully();
    },
    drain() {
      if (ctx.drainingSince !== 0) return;
      ctx.retiring = true;
      ctx.drainingSince = Date.now();
      // Closing the listener first: no new connection reaches this worker once idle ones close.
      server.close();
      // Idle kept-alive connections: their client may retry on a new connection (RFC 9112 §9.3.1).
      for (const conn of ctx.connections) {
        if (conn.state === READ_HEAD && !conn.headStarted && conn.served > 0) closeNow(conn);
      }
      // HTTP/2 says so itself: GOAWAY, open streams finish, nothing in flight is refused.
      for (const s of ctx.sessions) s.closeGracefully();
    },
    open() {
      return ctx.connections.size + ctx.sessions.size;
    },
    destroyAll() {
      for (const conn of ctx.connections) conn.socket.destroy();
      for (const s of ctx.sessions) s.session.destroy();
      door?.destroyAll();
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
          if (age <= config.headersTimeoutMs) break;
          if (conn.awaitingProxy) noProxyHeader(conn, 'sent no complete PROXY header in HEADERS_TIMEOUT_MS');
          else fail(conn, E.HEADERS_TIMEOUT);
        } else if (age > config.keepAliveTimeoutMs || (ctx.drainingSince !== 0 && idleInDrain(conn, now))) {
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
  // An HTTP/2 session with no stream open closes like an idle HTTP/1.1 connection (pings do not
  // keep it), at once in a drain; its streams have their own SEND_TIMEOUT_MS.
  for (const s of ctx.sessions) {
    if (s.open === 0 && (now - s.idleSince > config.keepAliveTimeoutMs || ctx.drainingSince !== 0)) s.closeGracefully();
    else checkStreams(s, now, config.sendTimeoutMs);
  }
}

/** Whether an idle connection closes during the drain: kept-alive ones at once, new ones after their grace. */
function idleInDrain(conn: Connection, now: number): boolean {
  return conn.served > 0 || now - Math.max(conn.since, conn.ctx.drainingSince) > FIRST_REQUEST_GRACE_MS;
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
