// `npm run abuse-check`: runs each memory attack against a real PWS worker (a fresh one per
// attack) and prints how much the worker grew beyond its configured cache budgets, whether a
// second run of the same attack grew it further, and the latency of a fresh client meanwhile.
// Exit code 1 if an attack grew a worker by 64 MiB or more beyond the budgets, a repeat grew it
// by 16 MiB or more, or a fresh client failed.
//
//   npm run abuse-check                 every attack, twice each
//   ABUSE_ONLY=pipeline-1mib npm run abuse-check
//
// The worker runs with small cache budgets (CACHE_MAX_BYTES and COMPRESSION_CACHE_BYTES of
// 8 MiB each), so that what the caches may legitimately hold does not hide a leak.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { children, memory, percentile, sleep, startPws, timedGet } from './measure';

const MIB = 1024 * 1024;
const CACHE_BUDGETS = 16 * MIB;
const LIMIT = 64 * MIB;
const REPEAT_LIMIT = 16 * MIB;

interface Attack {
  name: string;
  what: string;
  /** Runs the attack; resolves once its connections are closed. */
  run(port: number): Promise<void>;
}

/** A site with the files the attacks ask for. */
function makeSite(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-abuse-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>abuse</title>');
  fs.writeFileSync(path.join(dir, 'one.bin'), Buffer.alloc(MIB, 1));
  fs.writeFileSync(path.join(dir, 'big.bin'), '');
  fs.truncateSync(path.join(dir, 'big.bin'), 256 * MIB);
  fs.writeFileSync(path.join(dir, 'text.txt'), 'compressible text, repeated. '.repeat(20_000)); // ~580 KB
  fs.mkdirSync(path.join(dir, 'many'));
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, 'many', `entry-with-a-long-name-${i}.txt`), '');
  // Text that compresses only to about three quarters (base64 of random bytes): large results.
  fs.mkdirSync(path.join(dir, 'texts'));
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, 'texts', `t${i}.txt`), crypto.randomBytes(1536 * 1024).toString('base64'));
  // 1,200 files of 200 KB: cached whole, 240 MB in all against an 8 MiB reply cache.
  fs.mkdirSync(path.join(dir, 'bins'));
  const bin = crypto.randomBytes(200 * 1024);
  for (let i = 0; i < 1200; i++) fs.writeFileSync(path.join(dir, 'bins', `b${i}.bin`), bin);
  return dir;
}

/** Opens `count` connections, writes `payload(i)` on each, never reads, holds them for `holdMs`. */
async function stalled(port: number, count: number, payload: (i: number) => Buffer | string, holdMs = 3000): Promise<void> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.pause();
    s.write(payload(i));
    sockets.push(s);
  }
  await sleep(holdMs);
  sockets.forEach((s) => s.destroy());
}

/** `n` pipelined requests in one write, built by `line(i)`. */
const pipelined = (n: number, line: (i: number) => string): string => Array.from({ length: n }, (_, i) => line(i)).join('');

/** Sends `total` requests over `lanes` keep-alive connections, reading every answer. */
async function readingFlood(port: number, lanes: number, total: number, request: (i: number) => string): Promise<void> {
  let next = 0;
  const lane = (): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let waiting = 0;
      let received = '';
      const send = (): void => {
        if (next >= total) {
          s.destroy();
          resolve();
          return;
        }
        waiting = 1;
        s.write(request(next++));
      };
      s.on('connect', send);
      s.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        // Every answer of these attacks is small and carries Content-Length; one at a time.
        const end = received.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
        if (received.length < end + 4 + length) return;
        received = received.slice(end + 4 + length);
        if (waiting === 1) send();
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
  await Promise.all(Array.from({ length: lanes }, lane));
}

const ATTACKS: Attack[] = [
  {
    name: 'pipeline-1mib',
    what: '4 connections × 600 pipelined GET /one.bin?N (1 MiB file), never read',
    run: (port) => stalled(port, 4, (c) => pipelined(600, (i) => `GET /one.bin?${c}-${i} HTTP/1.1\r\nHost: a\r\n\r\n`)),
  },
  {
    name: 'pipeline-range',
    what: '4 connections × 600 pipelined GET /one.bin with Range: bytes=0-, never read',
    run: (port) => stalled(port, 4, () => pipelined(600, () => 'GET /one.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-\r\n\r\n')),
  },
  {
    name: 'pipeline-multipart',
    what: '4 connections × 600 pipelined multipart ranges of /one.bin, never read',
    run: (port) => stalled(port, 4, () => pipelined(600, () => 'GET /one.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-299999,400000-\r\n\r\n')),
  },
  {
    name: 'pipeline-gzip',
    what: '4 connections × 600 pipelined GET /text.txt?N with Accept-Encoding: gzip, never read',
    run: (port) => stalled(port, 4, (c) => pipelined(600, (i) => `GET /text.txt?${c}-${i} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n`)),
  },
  {
    name: 'pipeline-listing',
    what: '4 connections × 300 pipelined listings of a 3,000-entry folder, never read',
    run: (port) => stalled(port, 4, (c) => pipelined(300, (i) => `GET /many/?${c}-${i} HTTP/1.1\r\nHost: a\r\n\r\n`)),
  },
  {
    name: 'pipeline-404',
    what: '4 connections × 2,000 pipelined 404s with 2 KB targets, never read',
    run: (port) => stalled(port, 4, (c) => pipelined(2000, (i) => `GET /nope/${c}-${i}-${'x'.repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`)),
  },
  {
    name: 'slow-readers',
    // Each holds one 256 KiB stream chunk by design (see docs/memory.md): 100 of them fit the limit.
    what: '100 connections each downloading a 256 MiB file, never read',
    run: (port) => stalled(port, 100, () => 'GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n'),
  },
  {
    name: 'compress-many',
    what: '40 connections each asking gzip of a different 2 MiB text file (1.5 MiB compressed), never read',
    run: (port) => stalled(port, 40, (i) => `GET /texts/t${i}.txt HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n`, 6000),
  },
  {
    name: 'evict-while-sent',
    what: '24 connections × 12 pipelined GETs of distinct 200 KB cached files, q-values all different, never read',
    run: (port) =>
      stalled(port, 24, (c) =>
        pipelined(12, (i) => `GET /bins/b${c * 12 + i}.bin HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0.${String(c * 12 + i).padStart(4, '0')}\r\n\r\n`),
      ),
  },
  {
    name: 'cache-keys',
    what: '30,000 GET /nope?<n><8,000 × a> with a 15,000-byte If-None-Match, answers read',
    run: (port) => {
      const inm = `"${'b'.repeat(14_998)}"`;
      return readingFlood(port, 8, 30_000, (i) => `GET /nope?${i}${'a'.repeat(8000)} HTTP/1.1\r\nHost: a\r\nIf-None-Match: ${inm}\r\n\r\n`);
    },
  },
  {
    name: 'cache-key-slices',
    what: '40,000 GET /nonexistent-path-<n>?<8,000 × a> (keys cut from long targets), answers read',
    run: (port) => readingFlood(port, 8, 40_000, (i) => `GET /nonexistent-path-${i}?${'a'.repeat(8000)} HTTP/1.1\r\nHost: a\r\n\r\n`),
  },
  {
    name: 'cache-variants',
    what: '30,000 GET /index.html, each with a unique Accept-Encoding and Origin, answers read',
    run: (port) =>
      readingFlood(
        port,
        8,
        30_000,
        (i) => `GET /index.html HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, x-${i}-${'e'.repeat(200)}\r\nOrigin: https://o${i}.example\r\n\r\n`,
      ),
  },
  {
    name: 'chunk-extension',
    what: '8 connections each sending a chunk line of 1; and 8 MiB of extension bytes',
    run: async (port) => {
      const ext = Buffer.alloc(MIB, 'a');
      await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            new Promise<void>((resolve) => {
              const pour = async (): Promise<void> => {
                s.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;');
                for (let i = 0; i < 8 && !s.destroyed; i++) {
                  if (!s.write(ext)) await new Promise((r) => s.once('drain', r));
                }
                s.end();
              };
              const s = net.connect(port, '127.0.0.1', () => void pour());
              s.on('data', () => undefined);
              s.on('error', () => resolve());
              s.on('close', () => resolve());
            }),
        ),
      );
    },
  },
];

interface Measured {
  before: number;
  peak: number;
  after: number;
  latencies: number[];
}

/** Runs `attack` once while sampling the worker's RSS and timing fresh GETs of /index.html. */
async function measure(attack: Attack, port: number, pid: number): Promise<Measured> {
  await sleep(500);
  const before = memory(pid).rss;
  let peak = before;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, memory(pid).rss);
      await sleep(50);
    }
  })();
  const latencies: number[] = [];
  const prober = (async () => {
    while (running) {
      latencies.push(await timedGet(port, '/index.html'));
      await sleep(20);
    }
  })();
  await attack.run(port);
  running = false;
  await Promise.all([sampler, prober]);
  await sleep(1000);
  return { before, peak, after: memory(pid).rss, latencies };
}

const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const only = process.env.ABUSE_ONLY?.split(',');
  const dir = makeSite();
  let failed = false;
  try {
    process.stdout.write(`a fresh one-worker PWS per attack, cache budgets ${mib(CACHE_BUDGETS)} in all; limit ${mib(LIMIT)} beyond them per attack\n\n`);
    for (const attack of ATTACKS) {
      if (only && !only.includes(attack.name)) continue;
      const pws = await startPws({
        WORKERS: '1',
        STATIC_DIR: dir,
        DIRECTORY_LISTING: 'on',
        CACHE_MAX_BYTES: String(8 * MIB),
        COMPRESSION_CACHE_BYTES: String(8 * MIB),
        SEND_TIMEOUT_MS: '60000',
      });
      const [pid = -1] = children(pws.proc.pid ?? -1);
      await timedGet(pws.port, '/index.html');
      const first = await measure(attack, pws.port, pid);
      const second = await measure(attack, pws.port, pid);
      await pws.stop();
      const beyond = Math.max(0, Math.max(first.peak, second.peak) - first.before - CACHE_BUDGETS);
      const further = second.after - first.after;
      const lat = [...first.latencies, ...second.latencies];
      const ok = lat.filter((v) => !Number.isNaN(v));
      const lost = lat.length - ok.length;
      const pass = beyond < LIMIT && further < REPEAT_LIMIT && lost === 0;
      failed ||= !pass;
      process.stdout.write(
        `${pass ? 'ok  ' : 'FAIL'} ${attack.name}: ${attack.what}\n` +
          `     RSS ${mib(first.before)} → peak ${mib(Math.max(first.peak, second.peak))}; beyond cache budgets ${mib(beyond)}; ` +
          `after run 1 ${mib(first.after)}, after run 2 ${mib(second.after)} (${further >= 0 ? '+' : ''}${mib(further)})\n` +
          `     fresh GET meanwhile: ${ok.length} ok, ${lost} failed, p50 ${percentile(ok, 50)?.toFixed(2)} ms, p99 ${percentile(ok, 99)?.toFixed(2)} ms, max ${Math.max(...ok).toFixed(2)} ms\n`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`abuse-check: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
