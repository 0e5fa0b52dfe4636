// Configuration: built-in defaults < .env file < process environment → one frozen, validated Config.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';

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
}

/** A configuration mistake: its message is the one line shown to the operator. */
export class ConfigError extends Error {}

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
];

/** Reads `.env` in `dir` if there is one; a missing file is an empty one. */
export function readEnvFile(dir: string): Record<string, string> {
  const file = path.join(dir, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return dotenv.parse(text);
}

/**
 * Builds the Config from defaults, the .env file in `cwd` and `env` (highest priority).
 * Throws ConfigError naming the first bad variable and what it accepts.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const file = readEnvFile(cwd);
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
    if (!(n >= min && n <= max)) throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: ${accepts}`);
    return n;
  };

  const workersRaw = raw('WORKERS');
  const workers =
    workersRaw === 'auto' ? os.availableParallelism() : int('WORKERS', 1, 1024, 'expected auto or a whole number from 1 to 1024');

  const staticDir = path.resolve(cwd, raw('STATIC_DIR'));
  let isDir = false;
  try {
    isDir = fs.statSync(staticDir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConfigError(`STATIC_DIR=${JSON.stringify(raw('STATIC_DIR'))} is invalid: ${staticDir} is not an existing folder`);

  const host = raw('HOST');
  const ms = (name: string): number => int(name, 1, 86_400_000, 'expected milliseconds from 1 to 86400000');
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
  });
}
