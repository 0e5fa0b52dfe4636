// A worker's metrics: its Meter (fed by the transports), its process figures, its file in the
// shared run folder, the scrape answer for the whole server, and pm2 monit's figures under pm2.

import cluster from 'node:cluster';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Reply } from '../contract/reply';
import { VERSION } from '../version';
import { labelValue, OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, wantsOpenMetrics } from './exposition';
import { Meter } from './meter';
import { Pm2Monit } from './pm2';
import { ProcessStats } from './process-stats';
import { workerSamples, type WorkerSources } from './samples';
import { SharedMetrics, type Snapshot } from './shared';

/** What a worker's metrics read from the rest of the worker (see WorkerSources). */
export type MetricsSources = Omit<WorkerSources, 'meter' | 'process' | 'slot'>;

/**
 * The run folder the workers of this server share: PWS_METRICS_DIR from PWS's primary; under
 * pm2, one per pm2 home, app and folder (every instance of the app computes the same); for a lone
 * process, its own.
 */
export function metricsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PWS_METRICS_DIR) return env.PWS_METRICS_DIR;
  const uid = process.getuid?.() ?? 0;
  if (env.pm_id !== undefined) {
    const app = crypto
      .createHash('sha256')
      .update(`${env.PM2_HOME ?? ''}\0${env.name ?? ''}\0${process.cwd()}`)
      .digest('hex')
      .slice(0, 16);
    return path.join(os.tmpdir(), `pws-metrics-${uid}-pm2-${app}`);
  }
  return path.join(os.tmpdir(), `pws-metrics-${uid}-${process.pid}`);
}

/** The `worker` label: the slot PWS's primary gave, pm2's instance number, or the cluster id. */
function workerSlot(): string {
  return process.env.PWS_WORKER_SLOT ?? process.env.NODE_APP_INSTANCE ?? String(cluster.worker?.id ?? 0);
}

const BUILD_INFO = `pws_build_info{version="${labelValue(VERSION)}",node="${labelValue(process.version)}"}`;

export class WorkerMetrics {
  readonly meter = new Meter();
  private readonly stats = new ProcessStats();
  private readonly id = `${process.pid}-${Date.now().toString(36)}`;
  private readonly shared: SharedMetrics | null;
  private readonly monit: Pm2Monit | null;
  private readonly sources: WorkerSources;

  /** `shared`: whether this worker exposes METRICS_PATH (and so writes its file in `dir`). */
  constructor(sources: MetricsSources, shared: boolean, dir: string = metricsDir()) {
    this.sources = { ...sources, meter: this.meter, process: this.stats, slot: workerSlot() };
    this.shared = shared ? new SharedMetrics(dir, () => this.snapshot()) : null;
    this.shared?.start();
    this.monit = Pm2Monit.start(this.meter, this.sources);
  }

  private snapshot(): Omit<Snapshot, 'clean'> {
    const { counters, gauges } = workerSamples(this.sources);
    return { v: 1, id: this.id, pid: process.pid, beat: Date.now(), counters, gauges };
  }

  /** The answer to a scrape: every worker's series summed, in the format `accept` asks for. */
  scrape(accept: string | undefined): Reply {
    const own = this.snapshot();
    const samples = this.shared?.collect(own) ?? new Map(Object.entries({ ...own.counters, ...own.gauges }));
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
