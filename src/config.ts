// Configuration: built-in defaults < .env file < process environment → one frozen, validated Config.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import dotenv from 'dotenv';
import { migrateSetting, resolveReusePort, runtimeHasReusePort } from './cluster/reuse-port';
import { parseTrustedProxies, type TrustedProxies } from './net/client-address';
import { parseCors, type CorsPolicy } from './site/cors';
import { globPattern, type PathPattern } from './site/glob';
import { parseHeadersFile, type HeaderRule } from './site/headers-file';
import { loadSiteFiles } from './static/site-files';
import { VARIABLES } from './variables';

export { VARIABLES };

export interface Config {
  port: number;
  /** Interface to bind; undefined binds every interface (IPv6 and IPv4 where available). */
  host: string | undefined;
  /** Absolute path of the folder served. */
  staticDir: string;
  workers: number;
  /** Each worker listens on a SO_REUSEPORT socket of its own (REUSE_PORT resolved). */
  reusePort: boolean;
  /** RUN_USER / RUN_GROUP resolved: the identity workers take once set up; null keeps the starting one. */
  runAs: RunAs | null;
  maxUriBytes: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sendTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Before a stop or reload drains: health 503, still serving, for this long (0: drain at once). */
  lameDuckMs: number;
  /** Cache-Control of every file response not matched by immutablePattern. */
  cacheControl: string;
  /** Decoded URL paths that get `public, max-age=31536000, immutable`; null when off. */
  immutablePattern: PathPattern | null;
  /** Path segments (under the root) of the SPA fallback file; null when off. */
  spaFallback: string[] | null;
  directoryListing: boolean;
  /** CLEAN_URLS: `/about` serves about.html; `/about.html` redirects to `/about`. */
  cleanUrls: boolean;
  /** TRAILING_SLASH: which URL form of a page or folder is canonical; the other gets 301. */
  trailingSlash: TrailingSlash;
  cors: CorsPolicy | null;
  headerRules: HeaderRule[];
  compression: boolean;
  compressionMinBytes: number;
  /** Largest file compressed on the fly; larger ones go out as they are (or precompressed). */
  compressionMaxBytes: number;
  /** Memory per worker for compressed results kept for reuse. */
  compressionCacheBytes: number;
  maxRanges: number;
  /** Connections one worker serves at once; more are answered 503 and closed. */
  maxConnections: number;
  /** Reply bytes a connection may have queued before PWS stops reading its next request. */
  outputQueueBytes: number;
  /** Requests served on one connection before it closes; 0 = unlimited. */
  maxRequestsPerConnection: number;
  /** `stdout`, `off`, or a file path (appended to). */
  accessLog: string;
  logFormat: 'combined' | 'json';
  accessLogBufferBytes: number;
  /** Memory per worker for cached small-file responses. */
  cacheMaxBytes: number;
  /** Largest file whose response is cached (and read whole rather than streamed). */
  cacheMaxFileBytes: number;
  /** How long a cached response is used before the file is looked at again. */
  cacheValidateMs: number;
  /** PEM certificate and key, read at start-up; null serves plain HTTP. */
  tls: { cert: string; key: string; certFile: string; keyFile: string } | null;
  /** HTTP2 with TLS: ALPN offers h2, served by node:http2 through the same handler. */
  http2: boolean;
  /** Plain-HTTP port whose every request is redirected (308) to HTTPS; null when off. */
  httpRedirectPort: number | null;
  /** Path answered 200 "ok" (503 while retiring) for load-balancer probes; null when off. */
  healthPath: string | null;
  /** METRICS_PATH: where the Prometheus metrics of the whole server are answered; null when off. */
  metricsPath: string | null;
  /** METRICS_PORT / METRICS_HOST: a port of their own for the metrics (then not on PORT); null shares PORT. */
  metricsPort: number | null;
  metricsHost: string | undefined;
  /** TRUSTED_PROXIES: the balancers whose X-Forwarded-For or PROXY header names the client; null when none. */
  trustedProxies: TrustedProxies | null;
  /** PROXY_PROTOCOL: every connection starts with a PROXY header and comes from trustedProxies. */
  proxyProtocol: boolean;
}

export type TrailingSlash = 'auto' | 'always' | 'never';

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/** A configuration mistake: its message is the one line shown to the operator. */
export class ConfigError extends Error {
  /**
   * `variable` is the variable at fault, when there is one (the CLI then names its flag instead);
   * `value` the value it had, and `why` what it accepts.
   */
  constructor(
    readonly variable: string | null,
    readonly value: string,
    readonly why: string,
  ) {
    super(variable === null ? why : `${variable}=${JSON.stringify(value)} is invalid: ${why}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the env file: ENV_FILE if set (it must exist), else `.env` in `dir` if there is one
 * (a missing .env is an empty one).
 */
export function readEnvFile(dir: string, named?: string): Record<string, string> {
  const file = path.resolve(dir, named || '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) return {};
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError('ENV_FILE', named ?? '', `${file} does not exist`);
    throw new ConfigError(null, '', `cannot read ${file}: ${(err as Error).message}`);
  }
  return dotenv.parse(text);
}

/**
 * Builds the Config from defaults, the .env file in `cwd` and `env` (highest priority).
 * Throws ConfigError naming the first bad variable and what it accepts; `siteFiles: false` leaves
 * out the check of the site's `_redirects` and `_headers`.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd(), options: { siteFiles?: boolean } = {}): Config {
  const file = readEnvFile(cwd, env.ENV_FILE?.trim());
  // An empty value counts as unset at each layer, so `PORT=` falls through to .env, then the default.
  const raw = (name: string): string => {
    for (const layer of [env, file]) {
      const value = layer[name]?.trim();
      if (value) return value;
    }
    return VARIABLES.find((v) => v.name === name)?.fallback ?? '';
  };
  const int = (name: string, min: number, max: number, accepts: string): number => {
    const value = raw(name);
    const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new ConfigError(name, value, accepts);
    return n;
  };

  const workersRaw = raw('WORKERS');
  const workers = workersRaw === 'auto' ? os.availableParallelism() : int('WORKERS', 1, 1024, 'expected auto or a whole number from 1 to 1024');

  const reuseMode = raw('REUSE_PORT');
  if (reuseMode !== 'auto' && reuseMode !== 'on' && reuseMode !== 'off') throw new ConfigError('REUSE_PORT', reuseMode, 'expected auto, on or off');
  const port = int('PORT', 0, 65535, 'expected a port number from 0 to 65535');
  const reusePort = resolveReusePort(reuseMode, runtimeHasReusePort(), migrateSetting(), port);
  if (typeof reusePort === 'string') throw new ConfigError('REUSE_PORT', reuseMode, reusePort);
  const runAs = resolveRunAs(raw('RUN_USER'), raw('RUN_GROUP'));
  // A worker that has given up root cannot bind a port of its own.
  if (runAs !== null && reusePort && reuseMode === 'on')
    throw new ConfigError('REUSE_PORT', reuseMode, 'cannot be on with RUN_USER: workers that give up root cannot bind their own sockets');

  const staticDir = path.resolve(cwd, raw('STATIC_DIR'));
  let isDir: boolean;
  try {
    isDir = fs.statSync(staticDir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConfigError('STATIC_DIR', raw('STATIC_DIR'), `${staticDir} is not an existing folder`);

  const host = raw('HOST');
  const ms = (name: string): number => int(name, 1, 86_400_000, 'expected milliseconds from 1 to 86400000');
  const onOff = (name: string): boolean => {
    const value = raw(name).toLowerCase();
    if (value === 'on' || value === 'true' || value === '1') return true;
    if (value === 'off' || value === 'false' || value === '0') return false;
    throw new ConfigError(name, raw(name), 'expected on or off');
  };
  const fail = (name: string, why: string): never => {
    throw new ConfigError(name, raw(name), why);
  };

  const trailingSlash = raw('TRAILING_SLASH');
  if (trailingSlash !== 'auto' && trailingSlash !== 'always' && trailingSlash !== 'never') fail('TRAILING_SLASH', 'expected auto, always or never');

  // The site's own _redirects and _headers: a mistake in them stops the start (or the reload).
  // A worker leaves that to its primary (see app.ts: it serves without them instead).
  try {
    if (options.siteFiles !== false) loadSiteFiles(staticDir);
  } catch (err) {
    throw new ConfigError(null, '', (err as Error).message);
  }

  const cacheControl = raw('CACHE_CONTROL');
  if (/[\x00-\x1f\x7f]/.test(cacheControl)) fail('CACHE_CONTROL', 'control characters are not allowed');

  let immutablePattern: PathPattern | null = null;
  const immutable = raw('IMMUTABLE_PATTERN');
  if (immutable.length > 2 && immutable.startsWith('/') && immutable.endsWith('/')) {
    try {
      immutablePattern = new RegExp(immutable.slice(1, -1));
    } catch (err) {
      fail('IMMUTABLE_PATTERN', (err as Error).message);
    }
  } else if (immutable !== '') {
    try {
      immutablePattern = globPattern(immutable);
    } catch (err) {
      fail('IMMUTABLE_PATTERN', (err as Error).message);
    }
  }

  let spaFallback: string[] | null = null;
  const spa = raw('SPA_FALLBACK');
  if (spa !== '') {
    spaFallback = spa.split('/').filter((s) => s !== '' && s !== '.');
    if (spaFallback.length === 0 || spaFallback.includes('..')) fail('SPA_FALLBACK', 'expected a file path inside STATIC_DIR');
    let isFile: boolean;
    try {
      isFile = fs.statSync(path.join(staticDir, ...spaFallback)).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) fail('SPA_FALLBACK', `${path.join(staticDir, ...spaFallback)} is not a file`);
  }

  let cors: CorsPolicy | null = null;
  if (raw('CORS') !== '') {
    try {
      cors = parseCors(raw('CORS'));
    } catch (err) {
      fail('CORS', (err as Error).message);
    }
  }

  let headerRules: HeaderRule[] = [];
  if (raw('HEADERS_FILE') !== '') {
    const file = path.resolve(cwd, raw('HEADERS_FILE'));
    try {
      headerRules = parseHeadersFile(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      fail('HEADERS_FILE', `${file}: ${(err as Error).message}`);
    }
  }

  const logFormat = raw('LOG_FORMAT');
  if (logFormat !== 'combined' && logFormat !== 'json') fail('LOG_FORMAT', 'expected combined or json');
  const accessLog = raw('ACCESS_LOG');
  if (accessLog !== 'stdout' && accessLog !== 'off') {
    const file = path.resolve(cwd, accessLog);
    try {
      fs.closeSync(fs.openSync(file, 'a'));
    } catch (err) {
      fail('ACCESS_LOG', `cannot append to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  let tlsFiles: Config['tls'] = null;
  const certFile = raw('TLS_CERT');
  const keyFile = raw('TLS_KEY');
  if (certFile !== '' || keyFile !== '') {
    if (certFile === '' || keyFile === '') fail(certFile === '' ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY go together');
    const read = (name: string, file: string): string => {
      try {
        return fs.readFileSync(path.resolve(cwd, file), 'utf8');
      } catch (err) {
        return fail(name, `cannot read ${path.resolve(cwd, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    const cert = read('TLS_CERT', certFile);
    const key = read('TLS_KEY', keyFile);
    try {
      tls.createSecureContext({ cert, key });
    } catch (err) {
      fail('TLS_CERT', `the certificate and key do not make a TLS context (${(err as Error).message.split('\n')[0]})`);
    }
    tlsFiles = { cert, key, certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) };
  }
  const http2 = onOff('HTTP2') && tlsFiles !== null;
  const redirect = raw('HTTP_REDIRECT_PORT');
  const httpRedirectPort = redirect === '' ? null : int('HTTP_REDIRECT_PORT', 1, 65535, 'expected a port number from 1 to 65535');
  if (httpRedirectPort !== null && tlsFiles === null) fail('HTTP_REDIRECT_PORT', 'needs TLS_CERT and TLS_KEY (it redirects to HTTPS)');
  const health = raw('HEALTH_PATH');
  if (health !== '' && (!health.startsWith('/') || /[\s?#%]/.test(health))) fail('HEALTH_PATH', 'expected a plain path such as /healthz');
  const metrics = raw('METRICS_PATH');
  if (metrics !== '' && (!metrics.startsWith('/') || /[\s?#%]/.test(metrics))) fail('METRICS_PATH', 'expected a plain path such as /metrics');
  if (metrics !== '' && metrics === health) fail('METRICS_PATH', 'is HEALTH_PATH too');
  const metricsPortRaw = raw('METRICS_PORT');
  const metricsPort = metricsPortRaw === '' ? null : int('METRICS_PORT', 1, 65535, 'expected a port number from 1 to 65535');
  if (metricsPort !== null && metrics === '') fail('METRICS_PORT', 'needs METRICS_PATH');
  if (metricsPort !== null && (metricsPort === port || metricsPort === httpRedirectPort)) fail('METRICS_PORT', 'must differ from PORT and HTTP_REDIRECT_PORT');
  if (raw('METRICS_HOST') !== '' && metricsPort === null) fail('METRICS_HOST', 'needs METRICS_PORT');

  let trustedProxies: TrustedProxies | null = null;
  if (raw('TRUSTED_PROXIES') !== '') {
    const parsed = parseTrustedProxies(raw('TRUSTED_PROXIES'));
    if (typeof parsed === 'string') fail('TRUSTED_PROXIES', parsed);
    else trustedProxies = parsed;
  }
  const proxyProtocol = onOff('PROXY_PROTOCOL');
  if (proxyProtocol && trustedProxies === null) fail('PROXY_PROTOCOL', 'needs TRUSTED_PROXIES, the addresses of the balancers allowed to send it');
  if (proxyProtocol && tlsFiles !== null) fail('PROXY_PROTOCOL', 'is for plain HTTP behind a balancer; with TLS_CERT, terminate TLS at the balancer instead');

  return Object.freeze({
    port,
    host: host === '' ? undefined : host,
    staticDir,
    workers,
    reusePort: reusePort && runAs === null,
    runAs,
    maxUriBytes: int('MAX_URI_BYTES', 64, 1_048_576, 'expected a byte count from 64 to 1048576'),
    maxHeaderBytes: int('MAX_HEADER_BYTES', 256, 1_048_576, 'expected a byte count from 256 to 1048576'),
    maxHeaders: int('MAX_HEADERS', 1, 10_000, 'expected a count from 1 to 10000'),
    maxBodyBytes: int('MAX_BODY_BYTES', 0, 2 ** 40, 'expected a byte count from 0 to 1099511627776'),
    headersTimeoutMs: ms('HEADERS_TIMEOUT_MS'),
    keepAliveTimeoutMs: ms('KEEP_ALIVE_TIMEOUT_MS'),
    sendTimeoutMs: ms('SEND_TIMEOUT_MS'),
    shutdownTimeoutMs: ms('SHUTDOWN_TIMEOUT_MS'),
    lameDuckMs: int('LAME_DUCK_MS', 0, 86_400_000, 'expected milliseconds from 0 to 86400000'),
    cacheControl,
    immutablePattern,
    spaFallback,
    directoryListing: onOff('DIRECTORY_LISTING'),
    cleanUrls: onOff('CLEAN_URLS'),
    trailingSlash: trailingSlash as TrailingSlash,
    cors,
    headerRules,
    compression: onOff('COMPRESSION'),
    compressionMinBytes: int('COMPRESSION_MIN_BYTES', 0, 2 ** 40, 'expected a byte count'),
    compressionMaxBytes: int('COMPRESSION_MAX_BYTES', 0, 2 ** 40, 'expected a byte count'),
    compressionCacheBytes: int('COMPRESSION_CACHE_BYTES', 0, 2 ** 40, 'expected a byte count'),
    maxRanges: int('MAX_RANGES', 1, 1000, 'expected a count from 1 to 1000'),
    maxConnections: int('MAX_CONNECTIONS', 1, 1_000_000, 'expected a count from 1 to 1000000'),
    // At least Node's socket high-water mark (16 KiB), so that a queue above it always ends in 'drain'.
    outputQueueBytes: int('OUTPUT_QUEUE_BYTES', 16_384, 64 * 1_048_576, 'expected a byte count from 16384 to 67108864'),
    maxRequestsPerConnection: int('MAX_REQUESTS_PER_CONNECTION', 0, 2 ** 40, 'expected a count, 0 for unlimited'),
    accessLog: accessLog === 'stdout' || accessLog === 'off' ? accessLog : path.resolve(cwd, accessLog),
    logFormat: logFormat as 'combined' | 'json',
    accessLogBufferBytes: int('ACCESS_LOG_BUFFER_BYTES', 0, 2 ** 30, 'expected a byte count'),
    cacheMaxBytes: int('CACHE_MAX_BYTES', 0, 2 ** 40, 'expected a byte count'),
    cacheMaxFileBytes: int('CACHE_MAX_FILE_BYTES', 0, 2 ** 31 - 1, 'expected a byte count'),
    cacheValidateMs: int('CACHE_VALIDATE_MS', 0, 86_400_000, 'expected milliseconds from 0 to 86400000'),
    tls: tlsFiles,
    http2,
    httpRedirectPort,
    healthPath: health === '' ? null : health,
    metricsPath: metrics === '' ? null : metrics,
    metricsPort,
    metricsHost: raw('METRICS_HOST') === '' ? (host === '' ? undefined : host) : raw('METRICS_HOST'),
    trustedProxies,
    proxyProtocol,
  });
}

/** The numeric id `id(1)` prints for `args` (it asks the system's user database, NSS included), or null. */
function idOf(args: string[]): number | null {
  const out = spawnSync('id', args, { encoding: 'utf8' });
  const n = out.status === 0 ? Number(out.stdout.trim()) : NaN;
  return Number.isInteger(n) ? n : null;
}

/** The numeric id of a group given by name or number, from the group database (getent), or null. */
function groupId(group: string): number | null {
  if (/^\d+$/.test(group)) return Number(group);
  const out = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  const n = out.status === 0 ? Number(out.stdout.split(':')[2]) : NaN;
  return Number.isInteger(n) ? n : null;
}

/**
 * RUN_USER and RUN_GROUP as ids, checked: the user (and group) must exist, and dropping to them
 * needs root unless they are who PWS already runs as. Throws ConfigError otherwise.
 */
function resolveRunAs(user: string, group: string): RunAs | null {
  if (user === '') {
    if (group !== '') throw new ConfigError('RUN_GROUP', group, 'needs RUN_USER');
    return null;
  }
  const uid = idOf(['-u', '--', user]);
  if (uid === null) throw new ConfigError('RUN_USER', user, 'no such user');
  const gid = group === '' ? idOf(['-g', '--', user]) : groupId(group);
  if (gid === null) throw new ConfigError('RUN_GROUP', group, 'no such group');
  const self = process.getuid?.() ?? 0;
  if (self !== 0 && (uid !== self || gid !== process.getgid?.())) {
    throw new ConfigError('RUN_USER', user, `switching user needs PWS to start as root (it runs as uid ${self}); or leave RUN_USER empty`);
  }
  return { user, uid, gid };
}
