// Our own primary under load: rolling restarts on SIGHUP, crash replacement with backoff, graceful
// drain on SIGTERM, and workers that never outlive a killed primary.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { LoadClient } from '../../scripts/load';
import { sleep } from '../../scripts/measure';
import { get } from '../helpers/raw';
import { alive, makeSite, type Running, startServer, tempDir, waitFor, workerPid, workerPids } from '../helpers/server';

const small = Buffer.from('<h1>home</h1>');
const medium = Buffer.alloc(200 * 1024, 'm');
const root = makeSite({ 'index.html': small, 'medium.bin': medium });
const expected = new Map([
  ['/', small],
  ['/index.html', small],
  ['/medium.bin', medium],
]);

let server: Running | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const countLines = (text: string, needle: string): number => text.split(needle).length - 1;

describe('rolling restart (SIGHUP)', () => {
  it('replaces every worker three times under load with zero failed requests, for either kind of client', async () => {
    server = await startServer({ staticDir: root, workers: 2 });
    const s = server;
    const primary = s.proc.pid ?? -1;
    const load = new LoadClient({ port: s.port, lanes: 4, expected }).start();
    // A client that opens a new connection per request and never retries, as a browser does not
    // retry a request whose brand-new connection is reset.
    const fresh = new LoadClient({ port: s.port, lanes: 4, kind: 'new-connection', expected }).start();
    let most = 0;
    const counter = setInterval(() => (most = Math.max(most, workerPids(primary).length)), 10);
    const seen = new Set(workerPids(primary));
    try {
      for (let round = 1; round <= 3; round++) {
        const before = load.stats.ok;
        await waitFor('requests served before the reload', () => load.stats.ok > before + 20, 20_000);
        s.proc.kill('SIGHUP');
        await waitFor(`reload ${round}`, () => countLines(s.output().stdout, 'rolling restart finished') === round, 20_000);
        await waitFor('old workers gone', () => workerPids(primary).length === 2, 15_000);
        const now = workerPids(primary);
        expect(now.some((pid) => seen.has(pid))).toBe(false);
        now.forEach((pid) => seen.add(pid));
      }
      const after = load.stats.ok;
      await waitFor('requests served by the last workers', () => load.stats.ok > after + 20, 20_000);
    } finally {
      clearInterval(counter);
    }
    const [stats, freshStats] = await Promise.all([load.stop(), fresh.stop()]);
    expect(stats.failures).toEqual([]);
    expect(stats.failed).toBe(0);
    expect(stats.ok).toBeGreaterThan(100);
    expect(freshStats.failures).toEqual([]);
    expect(freshStats.ok).toBeGreaterThan(100);
    // One replacement at a time: never more than N + 1 workers.
    expect(most).toBeLessThanOrEqual(3);
  });

  it('queues a second SIGHUP sent during a reload instead of doubling the workers', async () => {
    server = await startServer({ staticDir: root, workers: 2 });
    const s = server;
    const primary = s.proc.pid ?? -1;
    let most = 0;
    const counter = setInterval(() => (most = Math.max(most, workerPids(primary).length)), 5);
    s.proc.kill('SIGHUP');
    await sleep(5);
    s.proc.kill('SIGHUP');
    s.proc.kill('SIGHUP');
    await waitFor('both reloads', () => countLines(s.output().stdout, 'rolling restart finished') === 2, 30_000);
    await waitFor('two workers', () => workerPids(primary).length === 2, 15_000);
    clearInterval(counter);
    expect(countLines(s.output().stdout, 'rolling restart started')).toBe(2);
    expect(most).toBeLessThanOrEqual(3);
    expect(workerPids(primary)).toHaveLength(2);
    expect((await get(s.port, '/')).status).toBe(200);
  });

  it('picks up new code on disk', async () => {
    // A private copy of the build whose package.json version we can change.
    const app = tempDir('pws-app-');
    fs.cpSync(path.join(__dirname, '..', '..', 'dist'), path.join(app, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(__dirname, '..', '..', 'node_modules'), path.join(app, 'node_modules'));
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ version: '1.0.0' }));
    server = await startServer({ staticDir: root, workers: 2, main: path.join(app, 'dist', 'main.js') });
    const s = server;
    expect((await get(s.port, '/')).headers.server).toBe('PWS/1.0.0');
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ version: '2.0.0' }));
    s.proc.kill('SIGHUP');
    await waitFor('reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
    await waitFor('old workers gone', () => workerPids(s.proc.pid ?? -1).length === 2, 15_000);
    for (let i = 0; i < 4; i++) expect((await get(s.port, '/')).headers.server).toBe('PWS/2.0.0');
  });
});

describe('crash recovery', () => {
  // How fast the replacement comes is measured by `npm run reload-check`, not asserted here.
  it('replaces a SIGKILLed worker while the other keeps serving', async () => {
    server = await startServer({ staticDir: root, workers: 2 });
    const s = server;
    const primary = s.proc.pid ?? -1;
    const load = new LoadClient({ port: s.port, lanes: 6, expected }).start();
    await waitFor('load under way', () => load.stats.ok > 20, 20_000);
    const victim = workerPid(primary);
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'replacement',
      () => {
        const pids = workerPids(primary);
        return pids.length === 2 && !pids.includes(victim);
      },
      15_000,
    );
    await waitFor('the crash logged', () => s.output().stderr.includes(`worker ${victim} died (signal SIGKILL)`), 15_000);
    const replacedAt = Date.now();
    const after = load.stats.ok;
    await waitFor('requests served after the replacement', () => load.stats.ok > after + 50, 20_000);
    const stats = await load.stop();
    // Only requests in flight on the killed worker may fail, and none once its replacement is up.
    expect(stats.failed).toBeLessThanOrEqual(6);
    for (const t of stats.failureTimes) expect(t).toBeLessThanOrEqual(replacedAt);
  });

  it('logs each crash once with its cause and backs off on repeated crashes', async () => {
    server = await startServer({ staticDir: root, workers: 1 });
    const s = server;
    const primary = s.proc.pid ?? -1;
    for (let i = 0; i < 4; i++) {
      const pid = workerPid(primary);
      process.kill(pid, 'SIGKILL');
      await waitFor('replacement', () => workerPids(primary).some((p) => p !== pid), 5000);
    }
    const delays = [...s.output().stderr.matchAll(/died \(signal SIGKILL\); replacing it in (\d+) ms/g)].map((m) => Number(m[1]));
    expect(delays).toEqual([0, 100, 200, 400]);
  });
});

describe('graceful shutdown (SIGTERM)', () => {
  it('finishes a throttled 50 MiB download, refuses or answers new connections, and exits 0', async () => {
    const big = path.join(root, 'big50.bin');
    fs.writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 7));
    server = await startServer({ staticDir: root, workers: 2 });
    const s = server;
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write('GET /big50.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    let received = 0;
    const finished = new Promise<number>((resolve) => {
      sock.on('data', (d: Buffer) => {
        received += d.length;
        // Throttle to roughly 25 MiB/s: the download spans the shutdown.
        sock.pause();
        setTimeout(() => sock.resume(), Math.ceil(d.length / 25_000));
      });
      sock.on('close', () => resolve(received));
    });
    await waitFor('download under way', () => received > 1024 * 1024);
    s.proc.kill('SIGTERM');
    await waitFor('the workers draining', () => s.output().stdout.includes('worker draining'), 15_000);
    // A new connection now is refused or answered, never left hanging.
    const verdict = await new Promise<string>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1');
      const t = setTimeout(() => resolve('hung'), 3000);
      c.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        resolve(e.code ?? 'error');
      });
      c.on('connect', () => c.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
      c.on('data', () => {
        clearTimeout(t);
        c.destroy();
        resolve('answered');
      });
      c.on('close', () => {
        clearTimeout(t);
        resolve('closed');
      });
    });
    expect(['ECONNREFUSED', 'answered', 'closed', 'ECONNRESET']).toContain(verdict);
    const total = await finished;
    expect(total).toBeGreaterThan(50 * 1024 * 1024);
    expect(total).toBeLessThan(50 * 1024 * 1024 + 1024);
    expect(await s.stop()).toBe(0);
    server = null;
    fs.rmSync(big);
  });

  it('leaves no worker behind when the primary is SIGKILLed', async () => {
    server = await startServer({ staticDir: root, workers: 2 });
    const s = server;
    const pids = workerPids(s.proc.pid ?? -1);
    expect(pids).toHaveLength(2);
    s.proc.kill('SIGKILL');
    // They drain for at most ORPHAN_DRAIN_MS (1 s); the rest is slack for a loaded machine.
    await waitFor('workers to exit', () => pids.every((pid) => !alive(pid)), 5000);
  });
});
