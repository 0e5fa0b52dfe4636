// What a worker answers with, composed once: method policy, health probe, and the static site
// behind its reply cache (a new one per release when STATIC_DIR is swapped). Every protocol
// writer serves this one handler.

import type { Config } from './config';
import type { Handler } from './contract/request';
import { createHttpServer, type HttpServer } from './net/server';
import { withHealth } from './site/health';
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

/** The handler of the main server for `config`; `isRetiring` tells the health probe when to say 503. */
export function createApp(config: Config, isRetiring: () => boolean): App {
  // Compressed results are keyed by real path and ETag, so releases can share them (and their
  // bound on concurrent compressions); replies are keyed by URL, so each release has its own.
  const compressed = new CompressionCache(config.compressionCacheBytes);
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
    });
    const site = createSite(rootReal, config, compressed, replies, files);
    return { site, handle: staticSite(site) };
  });
  const handle = withHealth(config.healthPath, isRetiring, withMethods(config, releases.handle));
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
}

/** The main server of a worker: the app over HTTP/1.1 (and TLS when configured). */
export function createPwsServer(config: Config): PwsServer {
  // The health probe asks the server it belongs to whether it retires.
  let http: HttpServer | null = null;
  const app = createApp(config, () => http?.ctx.retiring ?? false);
  http = createHttpServer(config, app.handle);
  return {
    ...http,
    get site() {
      return app.site();
    },
  };
}
