// The pws command line: each flag sets the variable of the same meaning; mistakes are usage errors.

import { describe, expect, it } from '@jest/globals';
import { flagOf, helpAll, parseCli } from '../../src/cli';
import { VARIABLES } from '../../src/variables';

describe('parseCli', () => {
  it('maps every flag to its variable', () => {
    const r = parseCli([
      'site',
      '--port',
      '8080',
      '--host',
      '127.0.0.1',
      '--workers',
      'auto',
      '--cors',
      '--spa',
      '--listing',
      '--no-compression',
      '--cache-control',
      'no-cache',
      '--access-log',
      'off',
      '--log-format',
      'json',
      '--tls-cert',
      'c.pem',
      '--tls-key',
      'k.pem',
      '--env-file',
      'prod.env',
    ]);
    expect(r).toMatchObject({
      kind: 'run',
      env: {
        STATIC_DIR: 'site',
        PORT: '8080',
        HOST: '127.0.0.1',
        WORKERS: 'auto',
        CORS: '*',
        SPA_FALLBACK: 'index.html',
        DIRECTORY_LISTING: 'on',
        COMPRESSION: 'off',
        CACHE_CONTROL: 'no-cache',
        ACCESS_LOG: 'off',
        LOG_FORMAT: 'json',
        TLS_CERT: 'c.pem',
        TLS_KEY: 'k.pem',
        ENV_FILE: 'prod.env',
      },
    });
  });

  it('knows the short forms and the = form', () => {
    expect(parseCli(['-p', '1', '-H', 'h', '-w', '2'])).toMatchObject({ env: { PORT: '1', HOST: 'h', WORKERS: '2' } });
    expect(parseCli(['--port=3'])).toMatchObject({ env: { PORT: '3' }, fromFlag: { PORT: '--port' } });
  });

  it('sets nothing without flags', () => {
    expect(parseCli([])).toEqual({ kind: 'run', env: {}, fromFlag: {} });
  });

  it('asks for a check with --check, with the other flags to check', () => {
    expect(parseCli(['--check', '-p', '8080'])).toEqual({ kind: 'check', env: { PORT: '8080' }, fromFlag: { PORT: '--port' } });
  });

  it('answers help (short, or every option with --help all) and version', () => {
    expect(parseCli(['--help'])).toEqual({ kind: 'help', all: false });
    expect(parseCli(['--help', 'all'])).toEqual({ kind: 'help', all: true });
    expect(parseCli(['-v'])).toEqual({ kind: 'version' });
  });

  it('has a flag for every variable, named after it, and --help all lists each', () => {
    const all = helpAll();
    for (const v of VARIABLES) {
      if (v.name === 'CORS' || v.name === 'CLEAN_URLS') continue; // switches: --cors (CORS=*), --clean-urls (on)
      const flag = `--${flagOf(v.name)}`;
      // TLS_CERT and TLS_KEY go together.
      const pair = v.name === 'TLS_CERT' ? ['--tls-key', 'k'] : v.name === 'TLS_KEY' ? ['--tls-cert', 'c'] : [];
      const result = parseCli([flag, 'x', ...pair]);
      expect(result.kind).toBe('run');
      if (result.kind === 'run') expect([result.env[v.name], result.fromFlag[v.name]]).toEqual(['x', flag]);
      expect(all).toContain(`  ${flag} V`);
    }
    expect(parseCli(['--health-path', '/healthz', '--immutable', '/assets/**', '--redirect-port', '80', '--user', 'www-data', '--clean-urls'])).toEqual({
      kind: 'run',
      env: { HEALTH_PATH: '/healthz', IMMUTABLE_PATTERN: '/assets/**', HTTP_REDIRECT_PORT: '80', RUN_USER: 'www-data', CLEAN_URLS: 'on' },
      fromFlag: {
        HEALTH_PATH: '--health-path',
        IMMUTABLE_PATTERN: '--immutable',
        HTTP_REDIRECT_PORT: '--redirect-port',
        RUN_USER: '--user',
        CLEAN_URLS: '--clean-urls',
      },
    });
    expect(all).toContain('  --clean-urls ');
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--port'], "Option '-p, --port <value>' argument missing"],
    [['a', 'b'], 'one folder to serve, not 2: a b'],
    [['--tls-cert', 'c.pem'], '--tls-cert and --tls-key go together'],
    [['--port='], '--port needs a value'],
    [['--check', '--bounds'], '--bounds and --check go alone'],
  ])('%j is a usage error', (argv, message) => {
    expect(parseCli(argv)).toEqual({ kind: 'error', message });
  });
});
