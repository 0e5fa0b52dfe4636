// The primary (without pm2): forks one worker per CPU, replaces crashed ones with backoff,
// rolls restarts on SIGHUP and drains everything on SIGINT/SIGTERM.

import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { ConfigError, loadConfig, type Config } from '../config';
import { log } from '../log';
import { VERSION } from '../version';
import { DRAIN, SHUTDOWN, workerMessage } from './messages';

/** First respawn is immediate; each crash within STABLE_MS of the last doubles the wait, up to the cap. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 30_000;
const STABLE_MS = 30_000;
/** glibc's default mmap threshold, fixed so that it no longer grows (see runPrimary). */
export const MMAP_THRESHOLD_BYTES = 128 * 1024;
/** Grace beyond a worker's own drain deadline before the primary kills it. */
const KILL_GRACE_MS = 2000;

/** The URLs PWS can be reached at: localhost, and every LAN address when bound to all interfaces. */
export function urls(config: Config, port: number): string[] {
  const scheme = config.tls === null ? 'http' : 'https';
  const host = config.host;
  const format = (h: string): string => `${scheme}://${h.includes(':') ? `[${h}]` : h}:${port}`;
  if (host !== undefined && host !== '0.0.0.0' && host !== '::') return [format(host)];
  const out = [format('localhost')];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(format(a.address));
  }
  return out;
}

export function backoffDelay(recentCrashes: number): number {
  if (recentCrashes <= 1) return 0;
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (recentCrashes - 2));
}

export function runPrimary(config: Config, workerEnv: Record<string, string> = {}): void {
  // Workers accept on the shared socket themselves (SCHED_NONE) unless the operator chose
  // otherwise with Node's own NODE_CLUSTER_SCHED_POLICY. Round-robin makes the primary accept
  // every connection and pass it over IPC: slower for new connections, and under descriptor
  // exhaustion its queue of passed sockets was seen to wedge for good (see README).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  /** Workers asked to stop: their exit is expected and not replaced. */
  const retiring = new Set<Worker>();
  /** Replacements forked by a reload that have not listened yet: if one dies, the reload stops instead. */
  const probation = new Set<Worker>();
  let crashes = 0;
  let lastCrash = 0;
  let announced = false;
  let stopping = false;
  let reloading = false;
  let reloadQueued = false;

  // glibc's malloc raises its mmap threshold each time a large block is freed, after which
  // large Buffers come from heap arenas that are not given back to the system: a burst of large
  // replies then leaves the worker's RSS high for good. A fixed threshold keeps every block of
  // 128 KiB or more mmapped, returned when freed. The operator's own setting wins.
  const env = { MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? String(MMAP_THRESHOLD_BYTES), ...workerEnv };
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    worker.once('pws-listening', announce);
    worker.on('message', (raw: unknown) => {
      const msg = workerMessage(raw);
      if (msg?.type === 'pws:listening') worker.emit('pws-listening', msg.port);
      if (msg?.type === 'pws:listen-error') {
        process.stderr.write(`pws: ${msg.message}\n`);
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        process.exit(1);
      }
    });
    return worker;
  };

  // Announce once every first worker listens (its main server: a redirect server may listen too).
  let listening = 0;
  const announce = (port: number): void => {
    if (announced || ++listening < config.workers) return;
    announced = true;
    process.stdout.write(
      `PWS ${VERSION} listening on port ${port}: serving ${config.staticDir} with ${config.workers} worker${config.workers === 1 ? '' : 's'}\n` +
        urls(config, port)
          .map((u) => `  ${u}\n`)
          .join(''),
    );
  };

  cluster.on('exit', (worker, code, signal) => {
    if (retiring.delete(worker) || probation.delete(worker) || stopping) {
      if (stopping && liveWorkers().length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    crashes = now - lastCrash > STABLE_MS ? 1 : crashes + 1;
    lastCrash = now;
    const delay = backoffDelay(crashes);
    log.error(`worker ${worker.process.pid} died (${signal ? `signal ${signal}` : `exit code ${code}`}); replacing it in ${delay} ms`);
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  const liveWorkers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  /**
   * Asks a worker to stop (SHUTDOWN: lame duck, then drain) or to drain at once (DRAIN); kills it
   * if it outstays its own deadline.
   */
  const retire = (worker: Worker, how: typeof SHUTDOWN | typeof DRAIN = SHUTDOWN): Promise<void> =>
    new Promise((resolve) => {
      retiring.add(worker);
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), config.lameDuckMs + config.shutdownTimeoutMs + KILL_GRACE_MS);
      worker.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (worker.isConnected()) worker.send(how);
      else worker.process.kill('SIGTERM');
    });

  /** Rolling restart: one worker at a time, the replacement listening before the old one drains. */
  const reload = async (): Promise<void> => {
    if (reloading) {
      reloadQueued = true;
      return;
    }
    // The replacements read the configuration afresh (.env, site files): a broken one is refused
    // here, while the old workers keep serving, rather than in a crash loop of new workers.
    try {
      loadConfig({ ...process.env, ...workerEnv });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(`reload refused, the workers keep serving: ${err.message}`);
      return;
    }
    reloading = true;
    log.info('rolling restart started');
    for (const old of liveWorkers().filter((w) => !retiring.has(w))) {
      if (stopping) break;
      const fresh = fork();
      probation.add(fresh);
      const ok = await new Promise<boolean>((resolve) => {
        fresh.once('pws-listening', () => resolve(true));
        fresh.once('exit', () => resolve(false));
      });
      probation.delete(fresh);
      if (!ok) {
        log.error('replacement worker failed to start; rolling restart stopped, old workers keep serving');
        break;
      }
      // Like pm2, wait for the old worker to finish draining before the next: never more than
      // N + 1 processes, at the price of a reload taking up to N drain deadlines.
      await retire(old, DRAIN);
    }
    reloading = false;
    log.info('rolling restart finished');
    if (reloadQueued) {
      reloadQueued = false;
      void reload();
    }
  };

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: draining ${liveWorkers().length} worker(s)`);
    const workers = liveWorkers();
    if (workers.length === 0) process.exit(0);
    Promise.all(workers.map((w) => retire(w))).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };

  process.on('SIGHUP', () => void reload());
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  for (let i = 0; i < config.workers; i++) fork();
}
