// What a worker answers with, composed once: method policy, health probe, and the static site
// behind its reply cache. Every protocol writer serves this one handler.

import fs from 'node:fs';
import type { Config } from './config';
import type { Handler } from './contract/request';
import { createHttpServer, type HttpServer } from './net/server';
import { withHealth } from './site/health';
import { withMethods } from './site/methods';
import { staticSite } from './static/cached';
import { sameVersion } from './static/files';
import { ReplyCache } from './static/reply-cache';
import { createSite, type Site } from './static/site';

export interface App {
  handle: Handler;
  /** The static site and its caches (for tests and introspection). */
  site: Site;
}

/** The handler of the main server for `config`; `isRetiring` tells the health probe when to say 503. */
export function createApp(config: Config, isRetiring: () => boolean): App {
  const replies = new ReplyCache({
    maxBytes: config.cacheMaxBytes,
    maxFileBytes: config.cacheMaxFileBytes,
    validateMs: config.cacheValidateMs,
    stillValid: sameVersion,
    policy: { cors: config.cors, spa: config.spaFallback !== null },
  });
  const site = createSite(fs.realpathSync(config.staticDir), config, config.compressionCacheBytes, replies);
  const handle = withHealth(config.healthPath, isRetiring, withMethods(config, staticSite(site)));
  return { handle, site };
}

export interface PwsServer extends HttpServer {
  /** The static site and its caches (for tests and introspection). */
  site: Site;
}

/** The main server of a worker: the app over HTTP/1.1 (and TLS when configured). */
export function createPwsServer(config: Config): PwsServer {
  // The health probe asks the server it belongs to whether it retires.
  let http: HttpServer | null = null;
  const app = createApp(config, () => http?.ctx.retiring ?? false);
  http = createHttpServer(config, app.handle);
  return { ...http, site: app.site };
}
