// What a worker answers with, composed once: method policy, health probe, and the static site
// behind its reply cache (a new one per release when STATIC_DIR is swapped). Every protocol
// writer serves this one handler.

import type { Config } from './config';
import type { Reply } from './contract/reply';
import type { Handler, Request } from './contract/request';
import { metricsDir as defaultMetricsDir, WorkerMetrics } from './metrics/worker-metrics';
import { READ_HEAD } from './net/connection';
import { createHttpServer, type HttpServer } from './net/server';
import { withHealth, withPath } from './site/health';
import { withMethods } from './site/methods';
import { staticSite } from './static/cached';
import { CompressionCache } from './static/compress';
import { sameVersion } from './static/files';
import { followReleases } from './static/release';
import { ReplyCache } from './static/reply-cache';
import { createSite, type Site } from './static/site';
import { loadSiteFiles, NO_SITE_FILES, type SiteFiles } from './static/site-files';
import { log } from './log';

export interface App {
  handle: Handler;
  /** The static site now served and its caches (for tests and introspection). */
  site(): Site;
}

/**
 * The handler of the main server for `config`; `isRetiring` tells the health probe when to say
 * 503; `scrape` answers METRICS_PATH when the metrics share this port.
 */
export function createApp(config: Config, isRetiring: () => boolean, scrape: ((req: Request) => Reply) | null = null): App {
  // Compressed results are keyed by real path and ETag, so releases can share them (and their
  // bound on concurrent compressions); replies are keyed by URL, so each release has its own.
  const compressed = new CompressionCache(config.compressionCacheBytes);
  const replyCounts = { hits: 0, misses: 0 };
  let first = true;
  const releases = followReleases(config.staticDir, config.cacheValidateMs, (rootReal) => {
    const files = siteFilesOf(rootReal, first);
    first = false;
    const replies = new ReplyCache({
      maxBytes: config.cacheMaxBytes,
      maxFileBytes: config.cacheMaxFileBytes,
      validateMs: config.cacheValidateMs,
      stillValid: sameVersion,
      policy: { cors: config.cors, spa: config.spaFallback !== null },
      counts: replyCounts,
    });
    const site = createSite(rootReal, config, compressed, replies, files);
    return { site, handle: staticSite(site) };
  });
  const site = withMethods(config, releases.handle);
  const handle = withHealth(config.healthPath, isRetiring, scrape === null ? site : withPath(config.metricsPath, scrape, site));
  return { handle, site: () => releases.current().site };
}

/**
 * The compiled `_redirects` and `_headers` of a release. One that does not compile is refused
 * (thrown) when STATIC_DIR is swapped to it: the release served keeps serving. But the start of a
 * worker serves the site without them, with an error line: the primary refused such files at start
 * and on every reload, so they were broken in place since, and a worker replacing a crashed one
 * must not stay down until someone notices.
 */
function siteFilesOf(rootReal: string, first: boolean): SiteFiles {
  try {
    return loadSiteFiles(rootReal);
  } catch (err) {
    if (!first) throw err;
    log.error(`${(err as Error).message}; serving without the site's _redirects and _headers until it is fixed`);
    return NO_SITE_FILES;
  }
}

export interface PwsServer extends HttpServer {
  /** The static site now served and its caches (for tests and introspection). */
  readonly site: Site;
  /** The worker's metrics (METRICS_PATH, or under pm2), or null. */
  readonly metrics: WorkerMetrics | null;
}

/**
 * The main server of a worker: the app over HTTP/1.1 (and TLS when configured), with its metrics
 * when METRICS_PATH is set or pm2 runs it (started by the caller: metrics.start()); `metricsDir`
 * is the run folder the workers share.
 */
export function createPwsServer(config: Config, metricsDir?: string): PwsServer {
  // The health probe asks the server it belongs to whether it retires.
  let http: HttpServer | null = null;
  let app: App | null = null;
  const metrics =
    config.metricsPath !== null || process.env.pm_id !== undefined
      ? new WorkerMetrics(
          {
            connections: () => connectionCounts(http),
            replyCache: () => {
              const replies = app?.site().replies;
              return { ...replyCounts(replies), bytes: replies?.byteSize ?? 0, entries: replies?.count ?? 0 };
            },
            compressionCache: () => {
              const c = app?.site().compressed;
              return { hits: c?.hits ?? 0, misses: c?.misses ?? 0, bytes: c?.size ?? 0 };
            },
            accessLogDropped: () => http?.ctx.accessLog?.droppedLines ?? 0,
          },
          config.metricsPath !== null,
          metricsDir ?? defaultMetricsDir(config.port),
        )
      : null;
  // With METRICS_PORT the scrape has a port of its own (worker.ts), and this one serves the site only.
  const scrape = metrics !== null && config.metricsPort === null ? (req: Request) => metrics.scrape(req.header('accept')) : null;
  app = createApp(config, () => http?.ctx.retiring ?? false, scrape);
  http = createHttpServer(config, app.handle, false, metrics?.meter ?? null);
  const site = app;
  return {
    ...http,
    metrics,
    get site() {
      return site.site();
    },
  };
}

function replyCounts(replies: ReplyCache | undefined): { hits: number; misses: number } {
  return { hits: replies?.counts.hits ?? 0, misses: replies?.counts.misses ?? 0 };
}

/** Connections and HTTP/2 sessions open, and those waiting for a request. */
function connectionCounts(http: HttpServer | null): { open: number; idle: number } {
  if (http === null) return { open: 0, idle: 0 };
  let idle = 0;
  for (const conn of http.ctx.connections) if (conn.state === READ_HEAD && !conn.headStarted) idle++;
  for (const s of http.ctx.sessions) if (s.open === 0) idle++;
  return { open: http.open(), idle };
}
