// Worker lifecycle: listen on the shared port, serve, and drain gracefully on any stop signal.

import type { Config } from '../config';
import { log } from '../log';
import { createPwsServer } from '../net/server';

/** Message a worker sends its primary when it cannot listen (the primary exits with it). */
export const LISTEN_ERROR = 'pws:listen-error';
/** Message a primary sends a worker (pm2 sends the same string) to start a graceful drain. */
export const SHUTDOWN = 'shutdown';

/** When the primary vanishes, workers must not outlive it by more than this. */
const ORPHAN_DRAIN_MS = 1000;

export function runWorker(config: Config): void {
  const pws = createPwsServer(config);
  let stopping = false;
  let listening = false;
  let lastAcceptError = 0;

  pws.server.on('error', (err: NodeJS.ErrnoException) => {
    if (listening) {
      // accept() failing (EMFILE, ENFILE, ENOBUFS) is transient: libuv keeps the listener and
      // sheds the pending connection; we keep serving and say so at most once a minute.
      const now = Date.now();
      if (now - lastAcceptError > 60_000) {
        lastAcceptError = now;
        log.warn(`accept failed (${err.code ?? err.message}); still serving`);
      }
      return;
    }
    const message =
      err.code === 'EADDRINUSE'
        ? `port ${config.port} is already in use; choose another with PORT=<port>`
        : `cannot listen on ${config.host ?? '*'}:${config.port}: ${err.message}`;
    if (process.send) process.send({ type: LISTEN_ERROR, message }, () => process.exit(1));
    else {
      log.error(message);
      process.exit(1);
    }
  });
  pws.server.listen({ port: config.port, host: config.host }, () => {
    listening = true;
    // pm2's wait_ready: this instance is online only now that it can serve.
    process.send?.('ready');
  });

  function stop(reason: string, deadlineMs: number): void {
    if (stopping) return;
    stopping = true;
    log.info(`worker draining (${reason})`);
    pws.drain();
    const deadline = setTimeout(() => {
      log.warn(`drain deadline reached with ${pws.ctx.connections.size} connection(s) open; closing them`);
      pws.destroyAll();
      process.exit(0);
    }, deadlineMs);
    deadline.unref();
    const poll = setInterval(() => {
      if (pws.ctx.connections.size > 0) return;
      pws.ctx.accessLog?.flushSync();
      process.exit(0);
    }, 25);
    poll.unref();
  }

  process.on('SIGINT', () => stop('SIGINT', config.shutdownTimeoutMs));
  process.on('SIGTERM', () => stop('SIGTERM', config.shutdownTimeoutMs));
  process.on('message', (msg) => {
    if (msg === SHUTDOWN) stop('shutdown message', config.shutdownTimeoutMs);
  });
  // The IPC channel closes when the primary dies (even by SIGKILL): no orphan keeps the port.
  process.on('disconnect', () => stop('primary gone', Math.min(ORPHAN_DRAIN_MS, config.shutdownTimeoutMs)));
}
