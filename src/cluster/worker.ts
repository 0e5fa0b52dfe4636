// Worker lifecycle: listen on the shared port, serve, and on any stop signal retire (lame duck,
// when LAME_DUCK_MS is set) and drain gracefully.

import type net from 'node:net';
import type { Config } from '../config';
import { log, RareWarning } from '../log';
import { createPwsServer } from '../app';
import { createHttpServer, type HttpServer } from '../net/server';
import { errorReply } from '../contract/error-page';
import type { Handler } from '../contract/request';
import { withHealth, withPath } from '../site/health';
import { withMethods } from '../site/methods';
import { redirectToHttps } from '../site/redirect';
import { DRAIN, SHUTDOWN, tellPrimary } from './messages';
import { dropPrivileges } from './privileges';
import { migrateSetting, takesConnectionsFromPrimary } from './reuse-port';

/** When the primary vanishes, workers must not outlive it by more than this. */
const ORPHAN_DRAIN_MS = 1000;
/** A drained worker lives at least this long after closing its listener (see drain). */
const HANDBACK_MS = 100;

/** Node ≥ 22.12 reads `reusePort`; @types/node 20 does not know it yet, older runtimes ignore it. */
type ListenOptions = net.ListenOptions & { reusePort?: boolean };

function listenOn(port: number, config: Config): ListenOptions {
  return config.reusePort ? { port, host: config.host, reusePort: true } : { port, host: config.host };
}

/**
 * Says once per pm2 app start (instance 0, first run) when new connections will be slow or a
 * reload lossy, and what to do about it.
 */
function warnAboutScheduling(config: Config, server: net.Server): void {
  if (config.reusePort && migrateSetting() !== '1') {
    if (process.env.NODE_APP_INSTANCE === undefined || process.env.NODE_APP_INSTANCE === '0') {
      log.warn('REUSE_PORT=on without net.ipv4.tcp_migrate_req=1: each reload resets the connections waiting for a closing worker');
    }
    return;
  }
  // pm2 puts pm_id, NODE_APP_INSTANCE and restart_time in its processes' environment. Our own
  // primary never hands out connections round-robin unless the operator chose it.
  const firstOfPm2App = process.env.pm_id !== undefined && process.env.NODE_APP_INSTANCE === '0' && process.env.restart_time === '0';
  if (firstOfPm2App && takesConnectionsFromPrimary(server)) {
    log.warn(
      "pm2's daemon hands each connection to a worker itself (round-robin), which serves new connections about 3x slower. " +
        'Start the daemon with NODE_CLUSTER_SCHED_POLICY=none: npx pm2 kill && npm run pm2:start (README, "Scheduling").',
    );
  }
}

export function runWorker(config: Config): void {
  const pws = createPwsServer(config);
  // What needs the starting identity is open now (TLS key, access log); nothing listens yet, and
  // the primary binds the ports on this worker's behalf.
  if (config.runAs !== null) dropPrivileges(config.runAs);
  // Its files in the shared run folder are the serving user's.
  pws.metrics?.start();
  const servers: HttpServer[] = [pws];
  let port = config.port;
  let mainListening = (): void => undefined;
  let redirectListening = (): void => undefined;
  const mainListens = new Promise<void>((resolve) => (mainListening = resolve));
  const redirectListens = new Promise<void>((resolve) => (redirectListening = resolve));
  let failed = false;
  const listenFailed = (message: string): void => {
    if (failed) return;
    failed = true;
    if (!process.send) log.error(message);
    tellPrimary({ type: 'pws:listen-error', message }, () => process.exit(1));
  };
  if (config.httpRedirectPort !== null) {
    // As on the main port: the health probe first, then the method policy; OPTIONS is redirected
    // like GET (a preflight is answered over HTTPS only).
    const handler = withHealth(
      config.healthPath,
      // Asked at request time, when `redirect` exists.
      () => redirect.ctx.retiring,
      withMethods(
        config,
        redirectToHttps(() => port),
        false,
      ),
    );
    const redirect = createHttpServer({ ...config, accessLog: 'off' }, handler, true);
    const redirectPort = config.httpRedirectPort;
    // Like the main port: a redirect port that cannot be had is a start-up failure, not a log line.
    let redirectUp = false;
    redirect.server.on('error', (err: NodeJS.ErrnoException) => {
      if (redirectUp) {
        log.warn(`HTTP_REDIRECT_PORT ${redirectPort}: ${err.code ?? err.message}; still serving`);
        return;
      }
      listenFailed(
        err.code === 'EADDRINUSE'
          ? `HTTP_REDIRECT_PORT ${redirectPort} is already in use; choose another (or leave HTTP_REDIRECT_PORT empty)`
          : `cannot listen on HTTP_REDIRECT_PORT ${redirectPort}: ${err.message}`,
      );
    });
    redirect.server.listen(listenOn(redirectPort, config), () => {
      redirectUp = true;
      redirectListening();
    });
    servers.push(redirect);
  } else {
    redirectListening();
  }
  if (config.metricsPort !== null && pws.metrics !== null) {
    // METRICS_PORT: the scrape on a port of its own (a private interface, say), and nothing else there.
    const metrics = pws.metrics;
    const notHere: Handler = () => errorReply(404);
    const scrapes = createHttpServer(
      { ...config, accessLog: 'off' },
      withPath(config.metricsPath, (req) => metrics.scrape(req.header('accept')), notHere),
      true,
    );
    const metricsPort = config.metricsPort;
    let scrapesUp = false;
    scrapes.server.on('error', (err: NodeJS.ErrnoException) => {
      if (scrapesUp) log.warn(`METRICS_PORT ${metricsPort}: ${err.code ?? err.message}; still serving`);
      else
        listenFailed(
          err.code === 'EADDRINUSE'
            ? `METRICS_PORT ${metricsPort} is already in use; choose another`
            : `cannot listen on METRICS_PORT ${metricsPort}: ${err.message}`,
        );
    });
    scrapes.server.listen({ port: metricsPort, host: config.metricsHost }, () => (scrapesUp = true));
    servers.push(scrapes);
  }
  const open = (): number => servers.reduce((n, s) => n + s.open(), 0);
  let stopping = false;
  let listening = false;
  const acceptErrors = new RareWarning();

  pws.server.on('error', (err: NodeJS.ErrnoException) => {
    if (listening) {
      // accept() failing (EMFILE, ENFILE, ENOBUFS) is transient: libuv keeps the listener and
      // sheds the pending connection; we keep serving and say so at most once a minute.
      acceptErrors.note(() => `accept failed (${err.code ?? err.message}); still serving`);
      return;
    }
    listenFailed(
      err.code === 'EADDRINUSE'
        ? `port ${config.port} is already in use; choose another with --port <n> (or PORT=<n>)`
        : `cannot listen on ${config.host ?? '*'}:${config.port}: ${err.message}`,
    );
  });
  pws.server.listen(listenOn(config.port, config), () => {
    listening = true;
    port = (pws.server.address() as { port: number }).port;
    warnAboutScheduling(config, pws.server);
    mainListening();
  });
  // Listening is reported once every server of the worker listens: a replacement in a rolling
  // restart counts as started only then.
  void Promise.all([mainListens, redirectListens]).then(() => {
    tellPrimary({ type: 'pws:listening', port });
    // pm2's wait_ready: this instance is online only now that it can serve.
    process.send?.('ready');
  });

  /**
   * A graceful stop: `lameDuckMs` of serving with the health probe at 503, then the drain,
   * bounded by `deadlineMs`.
   */
  function stop(reason: string, deadlineMs: number, lameDuckMs: number): void {
    if (stopping) return;
    stopping = true;
    if (lameDuckMs > 0) {
      log.info(`worker retiring (${reason}): health probe 503, serving ${lameDuckMs} ms more, then draining`);
      servers.forEach((s) => s.retire());
      setTimeout(() => drain(reason, deadlineMs), lameDuckMs);
    } else {
      drain(reason, deadlineMs);
    }
  }

  function drain(reason: string, deadlineMs: number): void {
    log.info(`worker draining (${reason})`);
    const closedAt = Date.now();
    servers.forEach((s) => s.drain());
    const deadline = setTimeout(() => {
      log.warn(`drain deadline reached with ${open()} connection(s) open; closing them`);
      servers.forEach((s) => s.destroyAll());
      pws.metrics?.close();
      process.exit(0);
    }, deadlineMs);
    deadline.unref();
    const poll = setInterval(() => {
      // Under round-robin scheduling the primary may have passed this worker a connection just
      // before it learnt that the listener closed; staying a moment lets the worker hand it back
      // (Node's cluster does that for a closed server) instead of taking it down with the process.
      if (open() > 0 || Date.now() - closedAt < HANDBACK_MS) return;
      pws.ctx.accessLog?.flushSync();
      // Its last counts, with the mark of a clean end (a worker that dies otherwise counts as crashed).
      pws.metrics?.close();
      process.exit(0);
    }, 25);
    poll.unref();
  }

  // logrotate's postrotate (through the primary, or pm2 sendSignal): the access log file anew.
  process.on('SIGUSR1', () => pws.ctx.accessLog?.reopen());
  process.on('SIGINT', () => stop('SIGINT', config.shutdownTimeoutMs, config.lameDuckMs));
  process.on('SIGTERM', () => stop('SIGTERM', config.shutdownTimeoutMs, config.lameDuckMs));
  process.on('message', (msg) => {
    if (msg === SHUTDOWN) stop('shutdown message', config.shutdownTimeoutMs, config.lameDuckMs);
    if (msg === DRAIN) stop('rolling restart', config.shutdownTimeoutMs, 0);
  });
  // The IPC channel closes when the primary dies (even by SIGKILL): no orphan keeps the port.
  process.on('disconnect', () => stop('primary gone', Math.min(ORPHAN_DRAIN_MS, config.shutdownTimeoutMs), 0));
}
