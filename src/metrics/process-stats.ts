// A worker's process figures for its metrics: event loop delay (perf_hooks' histogram) and time
// spent in garbage collection (a PerformanceObserver of gc entries).

import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** The event loop delay shown is the 99th percentile over windows of this length. */
const WINDOW_MS = 10_000;
/** perf_hooks samples with a timer of this period, and records the whole period: it is taken off. */
const RESOLUTION_MS = 10;

export class ProcessStats {
  private readonly delay: IntervalHistogram;
  private lastWindow = 0;
  private gcMs = 0;
  private readonly observer: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.delay.enable();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.gcMs += entry.duration;
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => {
      this.lastWindow = this.p99();
      this.delay.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  /** Seconds: the 99th percentile of the last whole window, or of the one under way before the first ends. */
  eventLoopDelay(): number {
    return this.lastWindow !== 0 ? this.lastWindow : this.p99();
  }

  /** Seconds the timer fired late at the 99th percentile of the window under way. */
  private p99(): number {
    if (this.delay.count === 0) return 0;
    return Math.max(0, this.delay.percentile(99) / 1e9 - RESOLUTION_MS / 1000);
  }

  gcSeconds(): number {
    return this.gcMs / 1000;
  }

  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
    this.observer.disconnect();
  }
}
