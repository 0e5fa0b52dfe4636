// `npm run slowloris-check`: latency of normal clients while 1,000 connections each trickle one
// header byte per second into a one-worker PWS. Prints p50/p99/max of the normal requests and
// whether every slow connection was closed at HEADERS_TIMEOUT_MS.

import net from 'node:net';
import { percentile, sleep, startPws, timedGet } from './measure';

const SLOW = 1000;
const HEADERS_TIMEOUT_MS = 5000;

async function main(): Promise<void> {
  const pws = await startPws({ WORKERS: '1', HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
  const head = Buffer.from(`GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ${'a'.repeat(200)}`);
  const slow: Array<{ s: net.Socket; sent: number; closed: boolean }> = [];
  try {
    // Baseline: normal clients alone.
    const alone: number[] = [];
    for (let i = 0; i < 500; i++) alone.push(await timedGet(pws.port));

    for (let i = 0; i < SLOW; i++) {
      const s = net.connect(pws.port, '127.0.0.1');
      const e = { s, sent: 0, closed: false };
      s.on('error', () => undefined);
      s.on('close', () => (e.closed = true));
      slow.push(e);
    }
    const trickle = setInterval(() => {
      for (const e of slow) if (!e.closed && e.sent < head.length) e.s.write(head.subarray(e.sent, ++e.sent));
    }, 1000);
    const started = Date.now();
    const during: number[] = [];
    while (Date.now() - started < HEADERS_TIMEOUT_MS - 500) during.push(await timedGet(pws.port));
    // First byte at the first tick, 408 once the head is HEADERS_TIMEOUT_MS old, at the next sweep.
    for (let i = 0; i < 100 && !slow.every((e) => e.closed); i++) await sleep(100);
    clearInterval(trickle);
    const failed = during.filter(Number.isNaN).length;
    const ok = during.filter((v) => !Number.isNaN(v));
    const fmt = (v: number[]): string => `p50 ${percentile(v, 50).toFixed(2)} ms, p99 ${percentile(v, 99).toFixed(2)} ms, max ${Math.max(...v).toFixed(2)} ms`;
    process.stdout.write(`normal clients alone:           ${alone.length} requests, ${fmt(alone)}\n`);
    process.stdout.write(`with ${SLOW} slowloris clients: ${during.length} requests (${failed} failed), ${fmt(ok)}\n`);
    process.stdout.write(`slow connections closed by the server at HEADERS_TIMEOUT_MS: ${slow.filter((e) => e.closed).length} of ${SLOW}\n`);
    process.exitCode = failed === 0 && slow.every((e) => e.closed) ? 0 : 1;
  } finally {
    slow.forEach((e) => e.s.destroy());
    await pws.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`slowloris-check: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
