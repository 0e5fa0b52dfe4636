// The metrics of a real server (2 worker processes) from the outside: METRICS_PORT serves the
// sum of both workers on a port of its own. And the access log rotates: SIGUSR1 after each
// rename, five times under load, loses and doubles no line. (test/process/prometheus.test.ts has
// promtool and a real Prometheus.)

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LoadClient } from '../../scripts/load';
import { freePort, sleep } from '../../scripts/measure';
import { parseExposition as parse, requestTotal as total } from '../helpers/exposition';
import { get } from '../helpers/raw';
import { makeSite, startServer, tempDir, waitFor, type Running } from '../helpers/server';

let server: Running;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  server = await startServer({
    staticDir: makeSite({ 'index.html': 'home', 'a.txt': 'a'.repeat(100) }),
    workers: 2,
    env: { ACCESS_LOG: 'off', METRICS_PATH: '/metrics', METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' },
  });
});
afterAll(async () => {
  await server.stop();
});

describe('METRICS_PORT with 2 workers', () => {
  it('serves the metrics of both workers there, and not on the site’s port', async () => {
    // New connections, so that both workers answer some.
    for (let i = 0; i < 40; i++) expect((await get(server.port, '/a.txt')).status).toBe(200);
    await sleep(400); // the other worker's file is rewritten every 250 ms
    const m = parse((await get(metricsPort, '/metrics')).body.toString());
    expect(total(m)).toBe(40);
    expect(m.get('pws_workers')).toBe(2);
    expect([...m.keys()].filter((k) => k.startsWith('pws_process_resident_memory_bytes{')).sort()).toEqual([
      'pws_process_resident_memory_bytes{worker="0"}',
      'pws_process_resident_memory_bytes{worker="1"}',
    ]);
    expect((await get(server.port, '/metrics')).status).toBe(404);
  });
});

describe('scrapes answered by either worker under load', () => {
  it('never see a counter lower than the scrape before', async () => {
    const load = new LoadClient({ port: server.port, lanes: 4, kind: 'new-connection', expected: new Map([['/a.txt', Buffer.from('a'.repeat(100))]]) }).start();
    const seen: number[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        // A new connection each time: either worker may answer.
        seen.push(total(parse((await get(metricsPort, '/metrics')).body.toString())));
        await sleep(30);
      }
    } finally {
      expect((await load.stop()).failures).toEqual([]);
    }
    const drops = seen.filter((v, i) => i > 0 && v < (seen[i - 1] as number));
    expect(drops).toEqual([]);
    expect(seen[seen.length - 1]).toBeGreaterThan(seen[0] as number);
  });
});

describe('the run folder', () => {
  it('stops the start with one line when METRICS_PATH needs it and it cannot be made, and is not needed otherwise', async () => {
    const nowhere = path.join(tempDir('pws-tmp-'), 'missing');
    const failed = startServer({ staticDir: makeSite({ 'index.html': 'x' }), workers: 1, env: { METRICS_PATH: '/metrics', TMPDIR: nowhere } });
    await expect(failed).rejects.toThrow(
      /pws: METRICS_PATH="\/metrics" is invalid: the workers share their counts in a folder under .*missing, which cannot be made \(ENOENT\); set TMPDIR to a writable folder\n/,
    );
    const fine = await startServer({ staticDir: makeSite({ 'index.html': 'x' }), workers: 1, env: { TMPDIR: nowhere, ACCESS_LOG: 'off' } });
    try {
      expect((await get(fine.port, '/')).status).toBe(200);
    } finally {
      await fine.stop();
    }
  });
});

describe('SIGUSR1', () => {
  it('never opens Node’s inspector, even sent every 10 ms through a rolling restart', async () => {
    const s = await startServer({
      staticDir: makeSite({ 'index.html': 'home' }),
      workers: 2,
      env: { ACCESS_LOG: path.join(tempDir('pws-usr1-'), 'access.log') },
    });
    const pid = s.proc.pid ?? -1;
    const flood = setInterval(() => process.kill(pid, 'SIGUSR1'), 10);
    try {
      process.kill(pid, 'SIGHUP');
      await waitFor('the reload', () => s.output().stdout.includes('rolling restart finished'), 20_000);
    } finally {
      clearInterval(flood);
    }
    expect((await get(s.port, '/')).status).toBe(200);
    expect(s.output().stderr).not.toContain('Debugger listening');
    expect(s.output().stderr).not.toContain('failed to start');
    expect(await s.stop()).toBe(0);
  });

  it('reopens the access log: five rotations under load lose and double no line', async () => {
    const logDir = tempDir('pws-rotate-');
    const logFile = path.join(logDir, 'access.log');
    const s = await startServer({ staticDir: makeSite({ 'index.html': 'home' }), workers: 2, env: { ACCESS_LOG: logFile } });
    const sent: string[] = [];
    let running = true;
    const lane = async (name: string): Promise<void> => {
      for (let i = 0; running; i++) {
        const id = `${name}-${i}`;
        const r = await get(s.port, `/?id=${id}`);
        if (r.status !== 200) throw new Error(`request ${id}: ${r.status}`);
        sent.push(id);
      }
    };
    const lanes = ['a', 'b', 'c', 'd'].map(lane);
    try {
      for (let rotation = 1; rotation <= 5; rotation++) {
        // Longer than the access log's flush interval (1 s), so that each file gets lines.
        await sleep(1200);
        fs.renameSync(logFile, `${logFile}.${rotation}`);
        process.kill(s.proc.pid ?? -1, 'SIGUSR1');
      }
      await sleep(400);
    } finally {
      running = false;
      await Promise.all(lanes);
      expect(await s.stop()).toBe(0);
    }
    const files = [logFile, ...[1, 2, 3, 4, 5].map((n) => `${logFile}.${n}`)];
    const lines = files.flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    const ids = lines.map((l) => /"GET \/\?id=([a-d]-\d+) HTTP\/1\.1"/.exec(l)?.[1]);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(sent.length).toBeGreaterThan(200);
    expect(ids.length).toBe(sent.length);
    expect(new Set(ids).size).toBe(sent.length);
    expect(new Set(ids)).toEqual(new Set(sent));
    // Every rotated file got lines: the reopen took effect each time.
    for (const f of files.slice(1)) expect(fs.statSync(f).size).toBeGreaterThan(0);
    expect(s.output().stderr).not.toContain('Debugger listening');
  }, 60_000);
});
