// The pws command from the outside: help, version, usage errors (exit 2), flags beating the
// environment, the start-up lines with URLs, and `npx pws` from the checkout.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { childEnv, MAIN, makeSite, tempDir, waitFor } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
/** The `pws` command as installed (package.json "bin"). */
const BIN = path.join(REPO, 'dist', 'bin.js');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: tempDir('pws-cwd-'), env: childEnv(env), timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

describe('pws command', () => {
  it('prints a short grouped help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pws \[dir\] \[options\]/);
    for (const group of ['Server', 'Site', 'Logs', 'Other']) expect(r.stdout).toContain(`\n${group}\n`);
    expect(r.stdout.split('\n').length).toBeLessThan(40);
  });

  it('prints the memory bounds at the settings given, and exits without serving', async () => {
    const r = await run(['--bounds'], { STATIC_DIR: makeSite({ 'index.html': 'x' }), MAX_CONNECTIONS: '100', OUTPUT_QUEUE_BYTES: '65536' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| connection | replies queued on the socket | 64.0 KiB |');
    // 100 connections of (4 + 88.1 + 64 + 256) KiB each.
    expect(r.stdout).toMatch(/\| worker \| connections \| 40\.\d MiB \|/);
    expect(r.stdout).not.toContain('listening');
  });

  it('checks a configuration with --check, like nginx -t: what it will do, exit 0, nothing served', async () => {
    const site = makeSite({ 'index.html': 'x', _redirects: '/a /b\n/c /d 302\n', _headers: '/*\n  X-Frame-Options: DENY\n' });
    const r = await run(['--check', site, '--port', '8123'], { HEALTH_PATH: '/healthz', LAME_DUCK_MS: '4000', WORKERS: '3' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'pws: configuration OK',
      `  serve ${fs.realpathSync(site)}`,
      '  listen on *:8123 with 3 workers',
      '  apply 2 rules of _redirects',
      '  add headers by 1 block of _headers',
      '  answer the health probe at /healthz',
      '  keep serving 4000 ms with the probe at 503 before draining',
      '  access log: stdout (combined)',
      '',
    ]);
  });

  it('fails --check with the one line start-up would print: exit 1 for the environment or a file, 2 for a flag', async () => {
    const site = makeSite({ 'index.html': 'x' });
    const headers = path.join(tempDir('pws-h-'), 'headers.json');
    fs.writeFileSync(headers, '{"/*": {"X-A": 1}}');
    const badFile = await run(['--check', site], { HEADERS_FILE: headers });
    expect(badFile.code).toBe(1);
    expect(badFile.stdout).toBe('');
    expect(badFile.stderr.trim().split('\n')).toHaveLength(1);
    expect(badFile.stderr).toMatch(/^pws: HEADERS_FILE=".*headers\.json" is invalid: /);
    const badSiteFile = await run(['--check', makeSite({ _redirects: '/a /b\n/blog/* https://blog.example/:splat 200\n' })]);
    expect(badSiteFile.code).toBe(1);
    expect(badSiteFile.stderr).toMatch(
      /^pws: \/.*\/_redirects line 2: proxying to another host \("https:\/\/blog\.example\/:splat" with 200\) is not supported; only redirects may name an absolute URL\n$/,
    );
    const badFlag = await run(['--check', site, '--workers', 'lots']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/^pws: --workers "lots" is invalid: expected auto or a whole number from 1 to 1024\n/);
  });

  it('prints its version', async () => {
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it.each([
    [['--bogus'], "pws: Unknown option '--bogus'"],
    [['--port', 'abc'], 'pws: --port "abc" is invalid: expected a port number from 0 to 65535'],
    [['--workers', '0'], 'pws: --workers "0" is invalid: expected auto or a whole number from 1 to 1024'],
    [['--log-format', 'xml'], 'pws: --log-format "xml" is invalid: expected combined or json'],
    [['/no/such/folder'], 'pws: [dir] "/no/such/folder" is invalid: /no/such/folder is not an existing folder'],
  ])('%j: one line of error, a hint, exit 2', async (args, line) => {
    const r = await run(args, { STATIC_DIR: makeSite({ 'index.html': 'x' }) });
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 2, stderr: `${line}\nTry 'pws --help' for the options.\n`, stdout: '' });
  });

  it('serves the folder given as argument, flags beating the environment, and prints its URLs', async () => {
    const site = makeSite({ 'index.html': 'from the argument' });
    const other = makeSite({ 'index.html': 'from the environment' });
    const proc = spawn(process.execPath, [MAIN, site, '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--access-log', 'off'], {
      cwd: tempDir('pws-cwd-'),
      env: childEnv({ STATIC_DIR: other, WORKERS: '3', ACCESS_LOG: 'stdout' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('start', () => /listening on port \d+/.test(out) && out.includes('http://'), 10_000);
      const port = Number(/listening on port (\d+)/.exec(out)?.[1]);
      expect(out).toContain(`PWS ${VERSION} listening on port ${port}: serving ${site} with 1 worker\n`);
      expect(out).toContain(`  http://127.0.0.1:${port}\n`);
      expect((await get(port, '/')).body.toString()).toBe('from the argument');
    } finally {
      proc.kill('SIGTERM');
      // 'close', not 'exit': every byte the process wrote has been read by then.
      await new Promise((r) => proc.once('close', r));
    }
    // Workers flush their access log before they exit: after the exit, every line would be out.
    expect(out).not.toContain('"GET /'); // --access-log off beat ACCESS_LOG=stdout
  });

  /** Starts `bin` (the pws command or npm start's main.js) in `cwd` with `args`; resolves once it listens or exits. */
  async function startIn(
    bin: string,
    cwd: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ port: number | null; out: string; err: string; stop(): Promise<void> }> {
    const proc = spawn(process.execPath, [bin, ...args, '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--access-log', 'off'], {
      cwd,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise((r) => proc.once('close', r));
    await waitFor('start or exit', () => /listening on port \d+/.test(out) || proc.exitCode !== null, 10_000);
    await (proc.exitCode !== null ? closed : Promise.resolve());
    const m = /listening on port (\d+)/.exec(out);
    return {
      port: m === null ? null : Number(m[1]),
      out,
      err,
      stop: async () => {
        if (proc.exitCode === null) proc.kill('SIGTERM');
        await closed;
      },
    };
  }

  it('serves the current folder as `pws` with no folder where there is no ./static, and names it', async () => {
    const here = makeSite({ 'index.html': 'the current folder' });
    const pws = await startIn(BIN, here, []);
    try {
      expect(pws.out).toContain(`: serving ${here} with 1 worker`);
      expect((await get(pws.port ?? 0, '/')).body.toString()).toBe('the current folder');
    } finally {
      await pws.stop();
    }
  });

  it('keeps ./static where there is one, and wherever a folder is named (flag, environment, .env)', async () => {
    const here = makeSite({ 'index.html': 'the current folder', 'static/index.html': 'static', 'other/index.html': 'other' });
    const withStatic = await startIn(BIN, here, []);
    try {
      expect((await get(withStatic.port ?? 0, '/')).body.toString()).toBe('static');
    } finally {
      await withStatic.stop();
    }
    const bare = makeSite({ 'index.html': 'the current folder', 'other/index.html': 'other', '.env': 'STATIC_DIR=other\n' });
    const fromEnvFile = await startIn(BIN, bare, []);
    try {
      expect((await get(fromEnvFile.port ?? 0, '/')).body.toString()).toBe('other');
    } finally {
      await fromEnvFile.stop();
    }
  });

  it('never serves / that way, nor the project folder of a ./static link that dangles, and checks as it would serve', async () => {
    const fromRoot = await startIn(BIN, '/', []);
    expect(fromRoot.port).toBeNull();
    expect(fromRoot.err).toBe('pws: STATIC_DIR="./static" is invalid: /static is not an existing folder\n');
    const project = makeSite({ 'notes.txt': 'private notes' });
    fs.symlinkSync('releases/42', path.join(project, 'static'));
    const dangling = await startIn(BIN, project, []);
    expect(dangling.port).toBeNull();
    expect(dangling.err).toContain('is not an existing folder');
    const check = await new Promise<string>((resolve) => {
      execFile(process.execPath, [BIN, '--check'], { cwd: makeSite({ 'index.html': 'x' }), env: childEnv({}) }, (_err, stdout) => resolve(stdout));
    });
    expect(check).toMatch(/^pws: configuration OK\n {2}serve \/.*\/www\n/);
  });

  it('keeps ./static and its error under `npm start` (dist/main.js), and for a STATIC_DIR that is set', async () => {
    const here = makeSite({ 'index.html': 'the current folder' });
    const npmStart = await startIn(MAIN, here, []);
    expect(npmStart.port).toBeNull();
    expect(npmStart.err).toBe(`pws: STATIC_DIR="./static" is invalid: ${path.join(here, 'static')} is not an existing folder\n`);
    const named = await startIn(BIN, here, [], { STATIC_DIR: 'missing' });
    expect(named.port).toBeNull();
    expect(named.err).toContain(`${path.join(here, 'missing')} is not an existing folder`);
  });

  it('runs as `npx pws` from the checkout', async () => {
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('npx', ['--no-install', 'pws', '--version'], { cwd: REPO, env: childEnv({}), timeout: 30_000 }, (err, stdout) =>
        resolve({ code: err === null ? 0 : 1, stdout }),
      );
    });
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n` });
  });
});
