// Our own primary as an operator's deploy meets it: a reload on a broken configuration is refused
// while the old workers keep serving; a swapped release is served after SIGHUP; with LAME_DUCK_MS a
// stop first takes the host out of a load balancer's rotation (health probe 503) while it keeps
// serving, and a rolling restart, which keeps it in rotation, does not wait for that.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import https from 'node:https';
import { makeSite, type Running, selfSignedCert, startServer, tempDir, waitFor, workerPids } from '../helpers/server';

const root = makeSite({ 'index.html': '<h1>home</h1>' });

let server: Running | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const countLines = (text: string, needle: string): number => text.split(needle).length - 1;

/** The status of GET / over TLS (self-signed) on 127.0.0.1:`port`. */
function httpsStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

/** The status of GET `target` on a new connection, or the error code when there is no answer. */
function statusOf(port: number, target: string): Promise<number | string> {
  return get(port, target).then(
    (r) => r.status,
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
}

describe('a reload on a broken configuration', () => {
  it('is refused with one line while the old workers keep serving, and goes ahead once fixed', async () => {
    const cwd = tempDir('pws-cwd-');
    fs.writeFileSync(path.join(cwd, '.env'), 'CACHE_CONTROL=no-cache\n');
    server = await startServer({ staticDir: root, workers: 2, cwd });
    const s = server;
    const before = workerPids(s.proc.pid ?? -1).sort();
    fs.writeFileSync(path.join(cwd, '.env'), 'CACHE_CONTROL=no-cache\nHEADERS_FILE=missing.json\n');
    s.proc.kill('SIGHUP');
    await waitFor('the refusal', () => s.output().stderr.includes('reload refused'), 10_000);
    const refusal = s
      .output()
      .stderr.split('\n')
      .filter((l) => l.includes('reload refused'));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/error \[\d+\] reload refused, the workers keep serving: HEADERS_FILE="missing.json" is invalid: .*missing\.json/);
    expect(s.output().stdout).not.toContain('rolling restart started');
    expect(workerPids(s.proc.pid ?? -1).sort()).toEqual(before);
    expect((await get(s.port, '/')).status).toBe(200);

    fs.writeFileSync(path.join(cwd, '.env'), 'CACHE_CONTROL=no-store\n');
    s.proc.kill('SIGHUP');
    await waitFor('the reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
    await waitFor('old workers gone', () => workerPids(s.proc.pid ?? -1).every((pid) => !before.includes(pid)), 15_000);
    expect((await get(s.port, '/')).headers['cache-control']).toBe('no-store');
  });
});

describe('a reload that cannot be carried out', () => {
  it('a replacement that cannot listen stops the reload; the old workers keep serving', async () => {
    const cwd = tempDir('pws-cwd-');
    const pem = selfSignedCert();
    // The replacements' redirect port is taken: they cannot listen.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      fs.writeFileSync(path.join(cwd, '.env'), '');
      server = await startServer({ staticDir: root, workers: 2, cwd, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key } });
      const s = server;
      const before = workerPids(s.proc.pid ?? -1).sort();
      fs.writeFileSync(path.join(cwd, '.env'), `HTTP_REDIRECT_PORT=${takenPort}\n`);
      s.proc.kill('SIGHUP');
      await waitFor('the failed reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
      expect(s.output().stderr).toMatch(/replacement worker cannot listen: HTTP_REDIRECT_PORT \d+ is already in use/);
      expect(s.output().stderr).toContain('rolling restart stopped, old workers keep serving');
      expect(s.proc.exitCode).toBeNull();
      expect(workerPids(s.proc.pid ?? -1).sort()).toEqual(before);
      expect((await httpsStatus(s.port)).toString()).toBe('200');
    } finally {
      taken.close();
    }
  });

  it('a worker that dies during a rolling restart does not wedge reloads, and WORKERS changes apply', async () => {
    const cwd = tempDir('pws-cwd-');
    fs.writeFileSync(path.join(cwd, '.env'), 'WORKERS=2\n');
    server = await startServer({ staticDir: root, workers: null, cwd });
    const s = server;
    const [first, second] = workerPids(s.proc.pid ?? -1).sort();
    s.proc.kill('SIGHUP');
    // Kill the worker the rolling restart has not reached yet.
    await waitFor('the restart to begin', () => s.output().stdout.includes('rolling restart started'), 10_000);
    process.kill(second ?? first ?? -1, 'SIGKILL');
    await waitFor('the reload to finish', () => s.output().stdout.includes('rolling restart finished'), 30_000);
    await waitFor('two workers', () => workerPids(s.proc.pid ?? -1).length === 2, 15_000);
    // A later reload still runs, and applies a larger WORKERS.
    fs.writeFileSync(path.join(cwd, '.env'), 'WORKERS=3\n');
    s.proc.kill('SIGHUP');
    await waitFor('the second reload', () => countLines(s.output().stdout, 'rolling restart finished') === 2, 30_000);
    await waitFor('three workers', () => workerPids(s.proc.pid ?? -1).length === 3, 15_000);
    expect((await get(s.port, '/')).status).toBe(200);
  });
});

describe('a release swapped under a symlinked STATIC_DIR', () => {
  it('is served after SIGHUP, however long CACHE_VALIDATE_MS is', async () => {
    const base = tempDir('pws-deploy-');
    for (const n of ['1', '2']) {
      fs.mkdirSync(path.join(base, 'releases', n), { recursive: true });
      fs.writeFileSync(path.join(base, 'releases', n, 'index.html'), `release ${n}`);
    }
    fs.symlinkSync(path.join('releases', '1'), path.join(base, 'current'));
    server = await startServer({ staticDir: path.join(base, 'current'), workers: 2, env: { CACHE_VALIDATE_MS: '600000' } });
    const s = server;
    expect((await get(s.port, '/')).body.toString()).toBe('release 1');
    fs.symlinkSync(path.join('releases', '2'), path.join(base, 'next'));
    fs.renameSync(path.join(base, 'next'), path.join(base, 'current'));
    s.proc.kill('SIGHUP');
    await waitFor('the reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
    for (let i = 0; i < 4; i++) expect((await get(s.port, '/')).body.toString()).toBe('release 2');
  });
});

describe('LAME_DUCK_MS', () => {
  it('on SIGTERM: the probe says 503 at once, pages are still served, then the workers drain and exit 0', async () => {
    server = await startServer({ staticDir: root, workers: 2, env: { HEALTH_PATH: '/healthz', LAME_DUCK_MS: '5000' } });
    const s = server;
    expect(await statusOf(s.port, '/healthz')).toBe(200);
    s.proc.kill('SIGTERM');
    await waitFor('both workers retiring', () => countLines(s.output().stdout, 'worker retiring (') === 2);
    // Whichever worker answers, the probe says 503 and a page is served.
    for (let i = 0; i < 4; i++) expect(await statusOf(s.port, '/healthz')).toBe(503);
    for (let i = 0; i < 4; i++) expect(await statusOf(s.port, '/')).toBe(200);
    expect(s.output().stdout).not.toContain('worker draining');
    expect(await s.stop()).toBe(0);
    server = null;
    const out = s.output().stdout;
    expect(out.indexOf('worker draining')).toBeGreaterThan(out.lastIndexOf('worker retiring'));
  });

  it('on SIGHUP: the old workers drain at once, with no lame duck', async () => {
    server = await startServer({ staticDir: root, workers: 2, env: { HEALTH_PATH: '/healthz', LAME_DUCK_MS: '60000' } });
    const s = server;
    s.proc.kill('SIGHUP');
    await waitFor('the reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
    expect(countLines(s.output().stdout, 'worker draining (rolling restart)')).toBe(2);
    expect(s.output().stdout).not.toContain('worker retiring');
    expect(await statusOf(s.port, '/healthz')).toBe(200);
  });
});

describe('a connection during a drain', () => {
  it('gets its first request answered when it was accepted but silent as the drain began', async () => {
    server = await startServer({ staticDir: root, workers: 1 });
    const s = server;
    const c = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const closed = new Promise((r) => c.once('close', r));
    // The connection waits in the worker (accepted, nothing sent) while the worker drains.
    await new Promise((r) => setTimeout(r, 100));
    s.proc.kill('SIGTERM');
    await waitFor('the worker draining', () => s.output().stdout.includes('worker draining'));
    c.end('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await closed;
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(got).toContain('\r\nConnection: close\r\n');
    expect(await s.stop()).toBe(0);
    server = null;
  });
});
