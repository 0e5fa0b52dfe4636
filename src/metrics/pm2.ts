// Under pm2: a worker's live figures in `pm2 monit` (and `pm2 show`), sent once a second as pm2's
// own `axm:monitor` messages over the IPC channel pm2 gives each instance.
//
// Written here rather than through @pm2/io, pm2's library for it: requiring @pm2/io initialises
// it with defaults that catch uncaught exceptions, patch the http module and start an inspector
// session — none of which a server that must crash cleanly, and speaks no node:http, should take
// on for a few numbers. The message is the one @pm2/io's IPC transport sends, and pm2's daemon
// stores it (lib/Daemon.js, 'axm:monitor') for monit to show.

import type { Meter } from './meter';
import type { WorkerSources } from './samples';

const EVERY_MS = 1000;

export class Pm2Monit {
  private lastRequests = 0;
  private lastAt = Date.now();
  private lastHits = 0;
  private lastLookups = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly meter: Meter,
    private readonly sources: WorkerSources,
    private readonly send: (msg: unknown) => void,
  ) {
    this.timer = setInterval(() => this.report(), EVERY_MS);
    this.timer.unref();
  }

  /** Starts reporting when this process runs under pm2 with an IPC channel; null otherwise. */
  static start(meter: Meter, sources: WorkerSources, env: NodeJS.ProcessEnv = process.env): Pm2Monit | null {
    const send = process.send?.bind(process);
    if (env.pm_id === undefined || send === undefined) return null;
    return new Pm2Monit(meter, sources, (msg) => {
      if (process.connected) send(msg);
    });
  }

  private report(): void {
    const now = Date.now();
    let requests = 0;
    for (const n of this.meter.requests) requests += n;
    const rate = ((requests - this.lastRequests) * 1000) / Math.max(1, now - this.lastAt);
    const cache = this.sources.replyCache();
    const hits = cache.hits - this.lastHits;
    const lookups = cache.hits + cache.misses - this.lastLookups;
    const conns = this.sources.connections();
    this.lastRequests = requests;
    this.lastAt = now;
    this.lastHits = cache.hits;
    this.lastLookups = cache.hits + cache.misses;
    this.send({
      type: 'axm:monitor',
      data: {
        'Requests/s': { value: Math.round(rate), unit: 'req/s' },
        Connections: { value: conns.open },
        'Cache hit ratio': { value: lookups === 0 ? '-' : `${((100 * hits) / lookups).toFixed(1)} %` },
        'Event loop delay p99': { value: (this.sources.process.eventLoopDelay() * 1000).toFixed(1), unit: 'ms' },
      },
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
