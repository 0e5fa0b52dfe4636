// Worker lifecycle: listen on the shared port, serve, and drain gracefully on any stop signal.

import type { Config } from '../config';
import { log } from '../log';
import { createPwsServer } from '../app';
import { createHttpServer, type HttpServer } from '../net/server';
import { withHealth } from '../site/health';
import { withMethods } from '../site/methods';
import { redirectToHttps } from '../site/redirect';
import { SHUTDOWN, tellPrimary } from './messages';

/** When the primary vanishes, workers must not outlive it by more than this. */
const ORPHAN_DRAIN_MS = 1000;

export function runWorker(config: Config): void {
  const pws = createPwsServer(config);
  const servers: HttpServer[] = [pws];
  let port = config.port;
  if (config.httpRedirectPort !== null) {
    // As on the main port: the health probe first, then the method policy; OPTIONS is redirected
    // like GET (a preflight is answered over HTTPS only).
    const handler = withHealth(
      config.healthPath,
      // Asked at request time, when `redirect` exists.
      () => redirect.ctx.draining,
      withMethods(
        config,
        redirectToHttps(() => port),
        false,
      ),
    );
    const redirect = createHttpServer({ ...config, accessLog: 'off' }, handler, true);
    redirect.server.on('error', (err: NodeJS.ErrnoException) => {
      log.error(`HTTP_REDIRECT_PORT ${config.httpRedirectPort}: ${err.code ?? err.message}`);
    });
    redirect.server.listen({ port: config.httpRedirectPort, host: config.host });
    servers.push(redirect);
  }
  const open = (): number => servers.reduce((n, s) => n + s.ctx.connections.size, 0);
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
        ? `port ${config.port} is already in use; choose another with --port <n> (or PORT=<n>)`
        : `cannot listen on ${config.host ?? '*'}:${config.port}: ${err.message}`;
    if (!process.send) log.error(message);
    tellPrimary({ type: 'pws:listen-error', message }, () => process.exit(1));
  });
  pws.server.listen({ port: config.port, host: config.host }, () => {
    listening = true;
    port = (pws.server.address() as { port: number }).port;
    tellPrimary({ type: 'pws:listening', port });
    // pm2's wait_ready: this instance is online only now that it can serve.
    process.send?.('ready');
  });

  function stop(reason: string, deadlineMs: number): void {
    if (stopping) return;
    stopping = true;
    log.info(`worker draining (${reason})`);
    servers.forEach((s) => s.drain());
    const deadline = setTimeout(() => {
      log.warn(`drain deadline reached with ${open()} connection(s) open; closing them`);
      servers.forEach((s) => s.destroyAll());
      process.exit(0);
    }, deadlineMs);
    deadline.unref();
    const poll = setInterval(() => {
      if (open() > 0) return;
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
