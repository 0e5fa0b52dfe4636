// `npm run metrics-cost`: what METRICS_PATH costs on the hottest path, 1 KB keep-alive responses
// from the reply cache. The same site served by two one-worker servers, metrics off and on,
// measured in alternating rounds (scripts/alternate.ts): median req/s of each, their ratio, and
// the worker's CPU time per request, the figure that drifts least with the machine.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HTTP1, Meter } from '../src/metrics/meter';
import { percentile } from './measure';
import { alternate, report } from './alternate';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.SECONDS ?? 4);

/** Nanoseconds one Meter.request() takes: what every response adds with metrics on. */
function countNs(): number {
  const meter = new Meter();
  const n = 2_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) meter.request(HTTP1, i % 7 === 0 ? 'HEAD' : 'GET', i % 11 === 0 ? 304 : 200, 1024, 0.05 + (i % 50) / 100);
  return Number(process.hrtime.bigint() - start) / n;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-metrics-cost-'));
  fs.writeFileSync(path.join(root, 'index.html'), 'x'.repeat(1024));
  try {
    const [off, on] = await alternate(
      [
        { label: 'metrics off', env: { STATIC_DIR: root } },
        { label: 'METRICS_PATH=/metrics', env: { STATIC_DIR: root, METRICS_PATH: '/metrics' } },
      ],
      { name: '1 KB keep-alive', target: '', path: '/index.html', connections: 50 },
      ROUNDS,
      SECONDS,
    );
    const rps = percentile(on.rps, 50) / percentile(off.rps, 50);
    const cpu = percentile(on.cpuUs, 50) / percentile(off.cpuUs, 50);
    process.stdout.write(
      `1 KB keep-alive, 50 connections, one worker, ${ROUNDS} alternating rounds of ${SECONDS} s:\n${report([off, on])}\n` +
        `  metrics on / off: ${rps.toFixed(3)}× the req/s, ${cpu.toFixed(3)}× the CPU per request\n` +
        `  counting one request in-process: ${countNs().toFixed(1)} ns\n`,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
