// The per-worker TCP server: accepts sockets, tracks connections, enforces timeouts by one sweep.

import fs from 'node:fs';
import net from 'node:net';
import type { Config } from '../config';
import { E } from '../http/errors';
import { createSite } from '../static/handler';
import { accept, closeNow, fail, type ConnectionContext, type Connection, CLOSING, READ_BODY, READ_HEAD, RESPONDING } from './connection';

export interface PwsServer {
  server: net.Server;
  ctx: ConnectionContext;
  /** Stops accepting, lets responses in flight finish, closes idle connections. */
  drain(): void;
  /** Destroys every connection left. */
  destroyAll(): void;
}

/** Creates the server for `config` (not yet listening). */
export function createPwsServer(config: Config): PwsServer {
  const ctx: ConnectionContext = {
    limits: { maxUriBytes: config.maxUriBytes, maxHeaderBytes: config.maxHeaderBytes, maxHeaders: config.maxHeaders },
    maxBodyBytes: config.maxBodyBytes,
    site: createSite(fs.realpathSync(config.staticDir), config, config.compressionCacheBytes),
    draining: false,
    connections: new Set(),
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => accept(socket, ctx));

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
