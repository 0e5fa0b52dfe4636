// The primary (without pm2): forks one worker per CPU, replaces crashed ones with backoff,
// rolls restarts on SIGHUP and drains everything on SIGINT/SIGTERM.

import cluster, { type Worker } from 'node:cluster';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config';
import { log } from '../log';
import { runBase, SharedMetrics } from '../metrics/shared';
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

/**
 * Why a reload cannot apply `next` over `now`, or null: the listening socket is the primary's
 * and outlives reloads, so where it listens changes only with a restart.
 */
export function reloadBlocker(now: Config, next: Config): string | null {
  const changed = (name: string, a: string | number | boolean | undefined, b: typeof a): string | null =>
    a === b ? null : `${name} changed (${String(a ?? '')} → ${String(b ?? '')})`;
  const why = changed('PORT', now.port, next.port) ?? changed('HOST', now.host, next.host) ?? changed('REUSE_PORT', now.reusePort, next.reusePort);
  return why === null ? null : `${why}; a reload keeps the listening socket: restart PWS to change it`;
}

/**
 * The run folder of this primary's workers (their shared metrics), made under the system's
 * temporary folder and removed when the primary exits; owned by RUN_USER when the workers run as
 * another user. Throws a ConfigError saying why it cannot be made.
 */
function runFolder(config: Config): string {
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(runBase(), `pws-run-${process.getuid?.() ?? 0}-`));
    if (config.runAs !== null) fs.chownSync(dir, config.runAs.uid, config.runAs.gid);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(
      'METRICS_PATH',
      config.metricsPath ?? '',
      `the workers share their counts in a folder under ${runBase()}, which cannot be made (${why}); set TMPDIR to a writable folder`,
    );
  }
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function runPrimary(startConfig: Config, workerEnv: Record<string, string> = {}): void {
  /** The configuration now in force: replaced by each reload that goes through. */
  let config = startConfig;
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
  const env: Record<string, string> = { MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? String(MMAP_THRESHOLD_BYTES), ...workerEnv };
  // With METRICS_PATH, the run folder the workers share their counts in, and the reloads done
  // (kept there beside them): made when the metrics are first asked for, at start or on a reload.
  let reloads = 0;
  let primaryFile: SharedMetrics | null = null;
  const shareMetrics = (wanted: Config): void => {
    if (wanted.metricsPath === null || primaryFile !== null) return;
    const dir = runFolder(wanted);
    env.PWS_METRICS_DIR = dir;
    primaryFile = new SharedMetrics(dir, () => ({
      v: 1,
      id: `primary-${process.pid}`,
      pid: process.pid,
      beat: Date.now(),
      counters: { pws_reloads_total: reloads },
      gauges: {},
    }));
  };
  try {
    shareMetrics(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`pws: ${err.message}\n`);
    process.exit(1);
  }
  /** Workers that have listened: they handle SIGUSR1 (see below). */
  const listeningWorkers = new Set<Worker>();
  /** Worker slots (the `worker` label of process metrics): a new worker takes the lowest free one. */
  const slots = new Map<Worker, number>();
  const fork = (): Worker => {
    const taken = new Set([...slots].filter(([w]) => !w.isDead()).map(([, slot]) => slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    const worker = cluster.fork({ ...env, PWS_WORKER_SLOT: String(slot) });
    slots.set(worker, slot);
    worker.once('pws-listening', () => listeningWorkers.add(worker));
    worker.once('exit', () => {
      slots.delete(worker);
      listeningWorkers.delete(worker);
    });
    worker.once('pws-listening', announce);
    worker.on('message', (raw: unknown) => {
      const msg = workerMessage(raw);
      if (msg?.type === 'pws:listening') worker.emit('pws-listening', msg.port);
      if (msg?.type === 'pws:listen-error') {
        // A replacement that cannot listen ends the reload, not the server.
        if (probation.has(worker)) {
          log.error(`replacement worker cannot listen: ${msg.message}`);
          worker.process.kill('SIGKILL');
          return;
        }
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
    // Only if still short of WORKERS: a rolling restart may have started one meanwhile.
    setTimeout(() => {
      if (!stopping && serving().length < config.workers) fork();
    }, delay);
  });

  const liveWorkers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  /** Live workers not asked to stop. */
  const serving = (): Worker[] => liveWorkers().filter((w) => !retiring.has(w));

  /**
   * Asks a worker to stop (SHUTDOWN: lame duck, then drain) or to drain at once (DRAIN); kills it
   * if it outstays its own deadline.
   */
  const retire = (worker: Worker, how: typeof SHUTDOWN | typeof DRAIN = SHUTDOWN): Promise<void> =>
    new Promise((resolve) => {
      // Already gone (it crashed meanwhile): there is nothing to wait for, and no exit to come.
      if (worker.isDead()) {
        resolve();
        return;
      }
      retiring.add(worker);
      const deadline = (how === SHUTDOWN ? config.lameDuckMs : 0) + config.shutdownTimeoutMs + KILL_GRACE_MS;
      const kill = setTimeout(() => {
        log.warn(`worker ${worker.process.pid} still running ${deadline} ms after it was asked to stop; killing it`);
        worker.process.kill('SIGKILL');
      }, deadline);
      worker.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (worker.isConnected()) worker.send(how);
      else worker.process.kill('SIGTERM');
    });

  /**
   * Rolling restart: one worker at a time, the replacement listening before the old one drains;
   * then workers are added or retired to match a changed WORKERS.
   */
  const reload = async (): Promise<void> => {
    if (stopping) return;
    if (reloading) {
      reloadQueued = true;
      return;
    }
    // The replacements read the configuration afresh (.env, site files): a broken one is refused
    // here, while the old workers keep serving, rather than in a crash loop of new workers.
    let next: Config;
    try {
      next = loadConfig({ ...process.env, ...workerEnv });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(`reload refused, the workers keep serving: ${err.message}`);
      return;
    }
    const blocker = reloadBlocker(config, next);
    if (blocker !== null) {
      log.error(`reload refused, the workers keep serving: ${blocker}`);
      return;
    }
    try {
      shareMetrics(next);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(`reload refused, the workers keep serving: ${err.message}`);
      return;
    }
    config = next;
    reloading = true;
    reloads++;
    primaryFile?.publish(true);
    log.info('rolling restart started');
    try {
      await roll();
    } finally {
      reloading = false;
    }
    log.info(stopping ? 'rolling restart ended by the shutdown' : 'rolling restart finished');
    if (reloadQueued && !stopping) {
      reloadQueued = false;
      void reload();
    }
  };

  /** Forks a replacement and waits until it listens; false if it died first. */
  const startReplacement = async (): Promise<boolean> => {
    const fresh = fork();
    probation.add(fresh);
    const ok = await new Promise<boolean>((resolve) => {
      fresh.once('pws-listening', () => resolve(true));
      fresh.once('exit', () => resolve(false));
    });
    probation.delete(fresh);
    if (!ok) log.error('replacement worker failed to start; rolling restart stopped, old workers keep serving');
    return ok;
  };

  const roll = async (): Promise<void> => {
    const old = serving();
    for (const [i, worker] of old.entries()) {
      if (stopping) return;
      // Beyond the new WORKERS: retired without a replacement.
      if (i >= config.workers) {
        await retire(worker, DRAIN);
        continue;
      }
      if (!(await startReplacement())) return;
      // Like pm2, wait for the old worker to finish draining before the next: never more than
      // N + 1 processes, at the price of a reload taking up to N drain deadlines.
      await retire(worker, DRAIN);
    }
    // A larger WORKERS (or workers lost meanwhile): start the missing ones.
    while (!stopping && serving().length < config.workers) {
      if (!(await startReplacement())) return;
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
  // logrotate's postrotate signals the primary: each worker reopens its access log file. (A
  // listener also keeps Node from opening its inspector on SIGUSR1.)
  process.on('SIGUSR1', () => {
    // Only to workers that listen: one still starting may not handle SIGUSR1 yet, and Node would open its inspector.
    for (const w of liveWorkers()) if (listeningWorkers.has(w)) w.process.kill('SIGUSR1');
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  for (let i = 0; i < config.workers; i++) fork();
}
