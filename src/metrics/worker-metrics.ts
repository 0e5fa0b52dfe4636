// A worker's metrics: its Meter (fed by the transports), its process figures, its file in the
// shared run folder, the scrape answer for the whole server, and pm2 monit's figures under pm2.

import cluster from 'node:cluster';
import crypto from 'node:crypto';
import path from 'node:path';
import type { Reply } from '../contract/reply';
import { log } from '../log';
import { VERSION } from '../version';
import { labelValue, OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, wantsOpenMetrics } from './exposition';
import { Meter } from './meter';
import { Pm2Monit } from './pm2';
import { ProcessStats } from './process-stats';
import { secondsOfSums, workerSamples, type WorkerSources } from './samples';
import { runBase, SharedMetrics, type Snapshot } from './shared';

/** What a worker's metrics read from the rest of the worker (see WorkerSources). */
export type MetricsSources = Omit<WorkerSources, 'meter' | 'process' | 'slot'>;

/**
 * The run folder the workers of this server share: PWS_METRICS_DIR from PWS's primary; under
 * pm2, one per pm2 home, app, folder and port (every instance of the app computes the same); for
 * a lone process, its own.
 */
export function metricsDir(port: number, env: NodeJS.ProcessEnv = process.env): string {
  if (env.PWS_METRICS_DIR) return env.PWS_METRICS_DIR;
  const uid = process.getuid?.() ?? 0;
  if (env.pm_id !== undefined) {
    const app = crypto
      .createHash('sha256')
      .update(`${env.PM2_HOME ?? ''}\0${env.name ?? ''}\0${process.cwd()}\0${port}`)
      .digest('hex')
      .slice(0, 16);
    return path.join(runBase(env), `pws-metrics-${uid}-pm2-${app}`);
  }
  return path.join(runBase(env), `pws-metrics-${uid}-${process.pid}`);
}

/** The `worker` label: the slot PWS's primary gave, pm2's instance number, or the cluster id. */
function workerSlot(): string {
  return process.env.PWS_WORKER_SLOT ?? process.env.NODE_APP_INSTANCE ?? String(cluster.worker?.id ?? 0);
}

/**
 * The shared run folder, or null (with one error line) when it cannot be made: this worker then
 * answers scrapes with its own counts, rather than fail to start.
 */
function sharedOrAlone(dir: string, take: () => Omit<Snapshot, 'clean'>): SharedMetrics | null {
  try {
    return new SharedMetrics(dir, take);
  } catch (err) {
    log.error(
      `metrics: cannot use the folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); METRICS_PATH answers with this worker's counts only`,
    );
    return null;
  }
}

const BUILD_INFO = `pws_build_info{version="${labelValue(VERSION)}",node="${labelValue(process.version)}"}`;

export class WorkerMetrics {
  readonly meter = new Meter();
  private readonly stats = new ProcessStats();
  private readonly id = `${process.pid}-${Date.now().toString(36)}`;
  private shared: SharedMetrics | null = null;
  private monit: Pm2Monit | null = null;
  private readonly sources: WorkerSources;

  /** `shares`: whether this worker exposes METRICS_PATH (and so keeps its file in `dir`). */
  constructor(
    sources: MetricsSources,
    private readonly shares: boolean,
    private readonly dir: string,
  ) {
    this.sources = { ...sources, meter: this.meter, process: this.stats, slot: workerSlot() };
  }

  /**
   * Starts writing this worker's file (and pm2 monit's figures): once the worker runs as the user
   * it serves as (RUN_USER), so that the folder and files are that user's.
   */
  start(): void {
    if (this.shares && this.shared === null) {
      this.shared = sharedOrAlone(this.dir, () => this.snapshot());
      this.shared?.start();
    }
    this.monit ??= Pm2Monit.start(this.meter, this.sources);
  }

  private snapshot(): Omit<Snapshot, 'clean'> {
    const { counters, gauges } = workerSamples(this.sources);
    return { v: 1, id: this.id, pid: process.pid, beat: Date.now(), counters, gauges };
  }

  /** The answer to a scrape: every worker's series summed, in the format `accept` asks for. */
  scrape(accept: string | undefined): Reply {
    let samples = this.shared?.collect();
    if (samples === undefined) {
      const own = this.snapshot();
      samples = new Map(Object.entries({ ...own.counters, ...own.gauges }));
    }
    secondsOfSums(samples);
    samples.set(BUILD_INFO, 1);
    const openMetrics = wantsOpenMetrics(accept);
    return {
      status: 200,
      headers: { contentType: openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT, cacheControl: 'no-store' },
      body: Buffer.from(render(samples, openMetrics)),
    };
  }

  /** The end of the worker: its last counts written, marked as a clean end. */
  close(): void {
    this.shared?.close();
    this.monit?.stop();
    this.stats.stop();
  }
}
