// Configuration: defaults, .env below the environment, and one clear error per bad value.

import fs from 'node:fs';
import os from 'node:os';
import { tempDir } from '../helpers/server';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, VARIABLES } from '../../src/config';

let dir: string;
beforeEach(() => {
  dir = tempDir('pws-config-');
  fs.mkdirSync(path.join(dir, 'static'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('uses the built-in defaults', () => {
    const c = loadConfig({}, dir);
    expect(c).toMatchObject({
      port: 9000,
      host: undefined,
      staticDir: path.join(dir, 'static'),
      workers: os.availableParallelism(),
      maxUriBytes: 8192,
      maxHeaderBytes: 16384,
      maxHeaders: 100,
      headersTimeoutMs: 10000,
      keepAliveTimeoutMs: 5000,
      sendTimeoutMs: 30000,
      shutdownTimeoutMs: 10000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads .env, and the environment beats it', () => {
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=8000\nWORKERS=3\n# comment\nHOST=127.0.0.1\n');
    expect(loadConfig({}, dir)).toMatchObject({ port: 8000, workers: 3, host: '127.0.0.1' });
    expect(loadConfig({ PORT: '8080' }, dir)).toMatchObject({ port: 8080, workers: 3 });
  });

  it('reads ENV_FILE instead of .env, and refuses one that does not exist', () => {
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=1111\n');
    fs.writeFileSync(path.join(dir, 'prod.env'), 'PORT=2222\n');
    expect(loadConfig({ ENV_FILE: 'prod.env' }, dir).port).toBe(2222);
    expect(() => loadConfig({ ENV_FILE: 'missing.env' }, dir)).toThrow(/^ENV_FILE="missing.env" is invalid: .*missing\.env does not exist$/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '' }, dir).port).toBe(9000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT="abc" is invalid: expected a port number from 0 to 65535'],
    [{ PORT: '65536' }, 'PORT="65536" is invalid'],
    [{ PORT: '-1' }, 'PORT="-1" is invalid'],
    [{ PORT: '80.5' }, 'PORT="80.5" is invalid'],
    [{ WORKERS: '0' }, 'WORKERS="0" is invalid: expected auto or a whole number from 1 to 1024'],
    [{ WORKERS: 'many' }, 'WORKERS="many" is invalid'],
    [{ STATIC_DIR: './nope' }, 'STATIC_DIR="./nope" is invalid: '],
    [{ HEADERS_TIMEOUT_MS: '0' }, 'HEADERS_TIMEOUT_MS="0" is invalid'],
    [{ MAX_HEADERS: '1e3' }, 'MAX_HEADERS="1e3" is invalid'],
  ])('%j → ConfigError', (env, message) => {
    expect(() => loadConfig(env, dir)).toThrow(ConfigError);
    expect(() => loadConfig(env, dir)).toThrow(message);
  });

  it('reads the site options', () => {
    fs.writeFileSync(path.join(dir, 'static', 'index.html'), 'x');
    fs.writeFileSync(path.join(dir, 'h.json'), '{"/*.html": {"X-A": "1"}}');
    const c = loadConfig(
      { IMMUTABLE_PATTERN: '/assets/**', SPA_FALLBACK: 'index.html', DIRECTORY_LISTING: 'on', CORS: '*', HEADERS_FILE: 'h.json', COMPRESSION: 'off' },
      dir,
    );
    expect(c.immutablePattern?.test('/assets/a/b.js')).toBe(true);
    expect(c.spaFallback).toEqual(['index.html']);
    expect(c.directoryListing).toBe(true);
    expect(c.cors).toEqual({ kind: 'any' });
    expect(c.headerRules[0]!.headers).toEqual([['X-A', '1']]);
    expect(c.compression).toBe(false);
    expect(loadConfig({ IMMUTABLE_PATTERN: '/\\.[0-9a-f]{8}\\./' }, dir).immutablePattern?.test('/app.0123abcd.js')).toBe(true);
  });

  it.each([
    [{ IMMUTABLE_PATTERN: '/(/' }, 'IMMUTABLE_PATTERN'],
    [{ SPA_FALLBACK: 'missing.html' }, 'SPA_FALLBACK'],
    [{ SPA_FALLBACK: '../x' }, 'SPA_FALLBACK'],
    [{ DIRECTORY_LISTING: 'maybe' }, 'DIRECTORY_LISTING'],
    [{ CORS: 'example.com' }, 'CORS'],
    [{ HEADERS_FILE: 'nope.json' }, 'HEADERS_FILE'],
    [{ CACHE_CONTROL: 'a\nb' }, 'CACHE_CONTROL'],
    [{ MAX_RANGES: '0' }, 'MAX_RANGES'],
    [{ LAME_DUCK_MS: '-5' }, 'LAME_DUCK_MS'],
    [{ LAME_DUCK_MS: '2s' }, 'LAME_DUCK_MS'],
    [{ REUSE_PORT: 'yes' }, 'REUSE_PORT'],
    [{ TRUSTED_PROXIES: '10.0.0.0/40' }, 'TRUSTED_PROXIES'],
    [{ PROXY_PROTOCOL: 'on' }, 'PROXY_PROTOCOL'],
    [{ PROXY_PROTOCOL: 'v2', TRUSTED_PROXIES: '10.0.0.1' }, 'PROXY_PROTOCOL'],
  ])('%j → a ConfigError naming the variable', (env, name) => {
    expect(() => loadConfig(env, dir)).toThrow(new RegExp(`^${name}=`));
  });

  it('reads LAME_DUCK_MS (0, the default, drains at once)', () => {
    expect(loadConfig({}, dir).lameDuckMs).toBe(0);
    expect(loadConfig({ LAME_DUCK_MS: '3000' }, dir).lameDuckMs).toBe(3000);
  });

  it('reads TRUSTED_PROXIES and PROXY_PROTOCOL, which needs it', () => {
    const c = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8,198.51.100.1', PROXY_PROTOCOL: 'on' }, dir);
    expect(c.trustedProxies?.text).toBe('10.0.0.0/8, 198.51.100.1');
    expect(c.proxyProtocol).toBe(true);
    expect(() => loadConfig({ PROXY_PROTOCOL: 'on' }, dir)).toThrow('PROXY_PROTOCOL="on" is invalid: needs TRUSTED_PROXIES');
  });

  it('never lets REUSE_PORT=off listen with SO_REUSEPORT', () => {
    expect(loadConfig({ REUSE_PORT: 'off' }, dir).reusePort).toBe(false);
  });

  it('refuses a STATIC_DIR that is a file', () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(() => loadConfig({ STATIC_DIR: 'file' }, dir)).toThrow('is not an existing folder');
  });
});

describe('docs/configuration.md', () => {
  it('has a row for every variable with its default', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    for (const v of VARIABLES) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${v.name}\``) || line.includes(`/ \`${v.name}\` |`));
      expect([v.name, row !== undefined]).toEqual([v.name, true]);
      if (v.fallback !== '' && !row?.includes(' / ')) expect([v.name, row?.split('|')[2]?.trim()]).toEqual([v.name, `\`${v.fallback}\``]);
    }
  });
});

describe('.env.example', () => {
  it('lists every variable with its default', () => {
    const example = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    for (const v of VARIABLES) expect(example).toMatch(new RegExp(`^#? ?${v.name}=${v.fallback.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  });
});
