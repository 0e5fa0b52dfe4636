// The metrics against the real tools: promtool accepts the exposition of a server with 2
// worker processes, and a real Prometheus scraping it every second sees exactly the requests sent
// and never a counter going backwards, through a SIGHUP reload and a SIGKILLed worker. jest.config.js
// runs this file where Debian's prometheus package is installed; .ci/run installs it.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, sleep } from '../../scripts/measure';
import { get } from '../helpers/raw';
import { alive, makeSite, startServer, tempDir, waitFor, workerPids, type Running } from '../helpers/server';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

let server: Running;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  server = await startServer({
    staticDir: makeSite({ 'index.html': 'home' }),
    workers: 2,
    env: { ACCESS_LOG: 'off', METRICS_PATH: '/metrics', METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' },
  });
});
afterAll(async () => {
  await server.stop();
});

describe('promtool', () => {
  it('accepts the exposition (text format 0.0.4) after requests of every kind', async () => {
    for (const target of ['/', '/missing']) await get(server.port, target);
    await get(server.port, '/', ['Host: x'], 'DELETE');
    const body = (await get(metricsPort, '/metrics')).body;
    const checked = await new Promise<{ code: number; out: string }>((resolve) => {
      const p = execFile(PROMTOOL, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), out: stdout + stderr }));
      p.stdin?.end(body);
    });
    expect(checked).toEqual({ code: 0, out: '' });
  });
});

describe('a real Prometheus scraping every second', () => {
  let prometheus: ChildProcess;
  let api: string;

  beforeAll(async () => {
    const dir = tempDir('pws-prometheus-');
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: pws\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}/api/v1`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`],
      { stdio: 'ignore' },
    );
    await eventually(async () => (await query('up{job="pws"}')) === 1, 20_000);
  }, 30_000);

  afterAll(async () => {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus.once('exit', r));
  });

  /** The value of an instant query with one result (NaN when it has none). */
  async function query(q: string): Promise<number> {
    try {
      const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      return Number(r.data.result[0]?.value[1] ?? NaN);
    } catch {
      return NaN;
    }
  }

  /** Polls `check` every 200 ms until it holds; fails after `ms`. */
  async function eventually(check: () => Promise<boolean>, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > until) throw new Error('condition not reached in time');
      await sleep(200);
    }
  }

  /** The latest scraped sum of every request counter. */
  const requests = (): Promise<number> => query('sum(pws_http_requests_total)');

  it('sees exactly the N requests sent, within two scrape intervals', async () => {
    // Settled: two scrapes in a row agree.
    let before = NaN;
    await eventually(async () => {
      const a = await requests();
      await sleep(1100);
      before = await requests();
      return a === before;
    }, 20_000);
    const n = 137;
    for (let i = 0; i < n; i++) await get(server.port, '/');
    const sent = Date.now();
    await eventually(async () => (await requests()) === before + n, 5000);
    expect(Date.now() - sent).toBeLessThan(2000 + 1500); // two intervals, plus the 250 ms file write and query time
    await sleep(1500);
    expect(await requests()).toBe(before + n);
  });

  it('never sees a counter go backwards through a SIGHUP reload and a SIGKILLed worker', async () => {
    const settled = async (): Promise<number> => {
      await sleep(2500);
      return requests();
    };
    const start = await settled();
    process.kill(server.proc.pid ?? -1, 'SIGHUP');
    await waitFor('the reload', () => server.output().stdout.includes('rolling restart finished'), 20_000);
    for (let i = 0; i < 50; i++) await get(server.port, '/');
    await sleep(500);
    const [victim] = workerPids(server.proc.pid ?? -1);
    process.kill(victim ?? -1, 'SIGKILL');
    await waitFor('the replacement', () => !alive(victim ?? -1) && workerPids(server.proc.pid ?? -1).length === 2, 15_000);
    await sleep(500);
    for (let i = 0; i < 50; i++) await get(server.port, '/');
    const end = await settled();
    // Every request was counted once, the killed worker's included (it had written them all).
    expect(end).toBe(start + 100);
    // Over the whole run, no series of any PWS counter was ever lower than the sample before it
    // (the name copied into a label: resets() drops it, and the series would collide).
    const resets = await query(
      'sum(resets(label_replace({__name__=~"pws_.*_total|pws_http_request_duration_seconds_(bucket|count|sum)",__name__!~"pws_process_.*"}, "name", "$1", "__name__", "(.+)")[10m:1s]))',
    );
    expect(resets).toBe(0);
    expect(await query('pws_worker_crashes_total')).toBe(1);
    expect(await query('pws_reloads_total')).toBe(1);
    expect(await query('pws_workers_started_total')).toBe(2 + 2 + 1);
  }, 60_000);
});
