// Configuration: built-in defaults < .env file < process environment → one frozen, validated Config.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import dotenv from 'dotenv';
import { parseCors, type CorsPolicy } from './site/cors';
import { globPattern, type PathPattern } from './site/glob';
import { parseHeadersFile, type HeaderRule } from './site/headers-file';

export interface Config {
  port: number;
  /** Interface to bind; undefined binds every interface (IPv6 and IPv4 where available). */
  host: string | undefined;
  /** Absolute path of the folder served. */
  staticDir: string;
  workers: number;
  maxUriBytes: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sendTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Cache-Control of every file response not matched by immutablePattern. */
  cacheControl: string;
  /** Decoded URL paths that get `public, max-age=31536000, immutable`; null when off. */
  immutablePattern: PathPattern | null;
  /** Path segments (under the root) of the SPA fallback file; null when off. */
  spaFallback: string[] | null;
  directoryListing: boolean;
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
  /** Plain-HTTP port whose every request is redirected (308) to HTTPS; null when off. */
  httpRedirectPort: number | null;
  /** Path answered 200 "ok" (503 while draining) for load-balancer probes; null when off. */
  healthPath: string | null;
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

interface Variable {
  name: string;
  fallback: string;
  meaning: string;
}

/** Every variable PWS reads, with its default and meaning (the source of .env.example). */
export const VARIABLES: readonly Variable[] = [
  { name: 'PORT', fallback: '9000', meaning: 'TCP port to listen on (0 picks a free one)' },
  { name: 'HOST', fallback: '', meaning: 'interface to bind; empty binds all interfaces' },
  { name: 'STATIC_DIR', fallback: './static', meaning: 'folder to serve, relative to the working directory' },
  { name: 'WORKERS', fallback: 'auto', meaning: 'worker processes; auto = one per CPU' },
  { name: 'MAX_URI_BYTES', fallback: '8192', meaning: 'longest request-target; longer gets 414' },
  { name: 'MAX_HEADER_BYTES', fallback: '16384', meaning: 'largest header section; larger gets 431' },
  { name: 'MAX_HEADERS', fallback: '100', meaning: 'most header fields in a request; more gets 431' },
  { name: 'MAX_BODY_BYTES', fallback: '1048576', meaning: 'largest request body read and discarded; larger gets 413' },
  { name: 'HEADERS_TIMEOUT_MS', fallback: '10000', meaning: 'time to receive a whole request head; then 408' },
  { name: 'KEEP_ALIVE_TIMEOUT_MS', fallback: '5000', meaning: 'idle keep-alive connections close after this' },
  { name: 'SEND_TIMEOUT_MS', fallback: '30000', meaning: 'a client that accepts no bytes for this long is dropped' },
  { name: 'SHUTDOWN_TIMEOUT_MS', fallback: '10000', meaning: 'graceful drain deadline on reload or shutdown' },
  { name: 'CACHE_CONTROL', fallback: 'public, max-age=0', meaning: 'Cache-Control of file responses' },
  { name: 'IMMUTABLE_PATTERN', fallback: '', meaning: 'glob (or /regex/) of hashed assets cached for a year as immutable' },
  { name: 'SPA_FALLBACK', fallback: '', meaning: 'file served for unknown extension-less paths that accept HTML, e.g. index.html' },
  { name: 'DIRECTORY_LISTING', fallback: 'off', meaning: 'on: list folders without index.html (HTML, or ?format=json)' },
  { name: 'CORS', fallback: '', meaning: '* or a comma-separated list of allowed origins; empty is off' },
  { name: 'HEADERS_FILE', fallback: '', meaning: 'JSON file of extra response headers by path glob' },
  { name: 'COMPRESSION', fallback: 'on', meaning: 'on: compress text types on the fly (brotli or gzip), cached per file version' },
  { name: 'COMPRESSION_MIN_BYTES', fallback: '1024', meaning: 'smallest file compressed on the fly' },
  { name: 'COMPRESSION_MAX_BYTES', fallback: '8388608', meaning: 'largest file compressed on the fly' },
  { name: 'COMPRESSION_CACHE_BYTES', fallback: '67108864', meaning: 'memory per worker for reused compressed results' },
  { name: 'MAX_RANGES', fallback: '16', meaning: 'most ranges honoured in one request; more sends the whole file' },
  { name: 'MAX_CONNECTIONS', fallback: '2048', meaning: 'connections per worker; past it new ones get 503 and are closed' },
  { name: 'OUTPUT_QUEUE_BYTES', fallback: '262144', meaning: 'reply bytes queued per connection before PWS stops reading its next request' },
  { name: 'MAX_REQUESTS_PER_CONNECTION', fallback: '0', meaning: 'requests on one connection before it closes; 0 = unlimited' },
  { name: 'ACCESS_LOG', fallback: 'stdout', meaning: 'stdout, off, or a file to append access lines to' },
  { name: 'LOG_FORMAT', fallback: 'combined', meaning: 'access log format: combined (nginx default) or json' },
  {
    name: 'CACHE_MAX_BYTES',
    fallback: '75497472',
    meaning: 'memory per worker for cached small-file responses, keys and overhead included; 0 turns the cache off',
  },
  { name: 'CACHE_MAX_FILE_BYTES', fallback: '262144', meaning: 'largest file whose response is cached (and read whole); larger ones stream' },
  { name: 'CACHE_VALIDATE_MS', fallback: '1000', meaning: 'a cached response is used this long before the file is checked again' },
  { name: 'TLS_CERT', fallback: '', meaning: 'PEM certificate file; with TLS_KEY, PWS serves HTTPS (TLS 1.2+)' },
  { name: 'TLS_KEY', fallback: '', meaning: 'PEM private key file of TLS_CERT' },
  { name: 'HTTP_REDIRECT_PORT', fallback: '', meaning: 'with TLS: a plain-HTTP port that redirects (308) every request to HTTPS' },
  { name: 'HEALTH_PATH', fallback: '', meaning: 'path answered 200 ok (503 while draining) for load balancers, e.g. /healthz' },
  { name: 'ACCESS_LOG_BUFFER_BYTES', fallback: '1048576', meaning: 'access lines buffered per worker; past it lines are dropped and counted' },
];

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
 * Throws ConfigError naming the first bad variable and what it accepts.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
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
    immutablePattern = globPattern(immutable);
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
  const redirect = raw('HTTP_REDIRECT_PORT');
  const httpRedirectPort = redirect === '' ? null : int('HTTP_REDIRECT_PORT', 1, 65535, 'expected a port number from 1 to 65535');
  if (httpRedirectPort !== null && tlsFiles === null) fail('HTTP_REDIRECT_PORT', 'needs TLS_CERT and TLS_KEY (it redirects to HTTPS)');
  const health = raw('HEALTH_PATH');
  if (health !== '' && (!health.startsWith('/') || /[\s?#%]/.test(health))) fail('HEALTH_PATH', 'expected a plain path such as /healthz');

  return Object.freeze({
    port: int('PORT', 0, 65535, 'expected a port number from 0 to 65535'),
    host: host === '' ? undefined : host,
    staticDir,
    workers,
    maxUriBytes: int('MAX_URI_BYTES', 64, 1_048_576, 'expected a byte count from 64 to 1048576'),
    maxHeaderBytes: int('MAX_HEADER_BYTES', 256, 1_048_576, 'expected a byte count from 256 to 1048576'),
    maxHeaders: int('MAX_HEADERS', 1, 10_000, 'expected a count from 1 to 10000'),
    maxBodyBytes: int('MAX_BODY_BYTES', 0, 2 ** 40, 'expected a byte count from 0 to 1099511627776'),
    headersTimeoutMs: ms('HEADERS_TIMEOUT_MS'),
    keepAliveTimeoutMs: ms('KEEP_ALIVE_TIMEOUT_MS'),
    sendTimeoutMs: ms('SEND_TIMEOUT_MS'),
    shutdownTimeoutMs: ms('SHUTDOWN_TIMEOUT_MS'),
    cacheControl,
    immutablePattern,
    spaFallback,
    directoryListing: onOff('DIRECTORY_LISTING'),
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
    httpRedirectPort,
    healthPath: health === '' ? null : health,
  });
}
