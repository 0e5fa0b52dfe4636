// Many clients at once: two worker processes share the port, a stalled client delays nobody, and a
// 1 GiB file streams with flat memory and releases its descriptor when the client goes away.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openIdle, sleep } from '../../scripts/measure';
import { get } from '../helpers/raw';
import { fdsOn, makeSite, socketCount, startServer, workerPids, type Running } from '../helpers/server';

const GIB = 1024 * 1024 * 1024;

function connectOpen(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

let root: string;
let big: string;
let two: Running;
beforeAll(async () => {
  root = makeSite({ 'index.html': 'home' });
  big = path.join(root, 'big.bin');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, GIB); // sparse: reads are fast and cost no disk
  two = await startServer({ staticDir: root, workers: 2 });
});
afterAll(async () => {
  await two.stop();
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

describe('two workers', () => {
  it('runs two worker processes that both take connections', async () => {
    const pids = workerPids(two.proc.pid ?? -1);
    expect(pids).toHaveLength(2);
    const before = pids.map(socketCount);
    const clients: net.Socket[] = [];
    const gained = (): number[] => pids.map((pid, i) => socketCount(pid) - (before[i] ?? 0));
    try {
      // Workers accept from the shared socket themselves (SCHED_NONE), so the kernel decides who
      // wins each accept and a single burst may land mostly on one worker. Open bursts of 20 and
      // keep every connection open until both workers hold some, or 200 are open.
      while (clients.length < 200 && Math.min(...gained()) < 1) {
        // Each completes one request, so the connection has surely reached a worker.
        clients.push(...(await openIdle(two.port, 20)));
      }
      const counts = gained();
      expect(counts.reduce((a, b) => a + b, 0)).toBe(clients.length);
      expect(counts).toHaveLength(2);
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    } finally {
      for (const s of clients) s.destroy();
    }
  });

  // What a streamed download holds at a time (one chunk) is checked on the connection itself in
  // backpressure.test.ts, and measured as RSS by `npm run abuse-check`, not here.
  it('starts workers with a fixed glibc mmap threshold, so freed large buffers leave RSS', () => {
    for (const pid of workerPids(two.proc.pid ?? -1)) {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    }
  });

  it('streams 1 GiB to a fast client, every byte', async () => {
    const received = await new Promise<number>((resolve, reject) => {
      let n = 0;
      const s = net.connect(two.port, '127.0.0.1', () => s.write('GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('close', () => resolve(n));
      s.on('error', reject);
    });
    expect(received).toBeGreaterThan(GIB);
    expect(received).toBeLessThan(GIB + 1024);
  });

  it('releases the file descriptor when a client disconnects mid-download', async () => {
    const pids = workerPids(two.proc.pid ?? -1);
    const s = await connectOpen(two.port);
    s.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    let got = 0;
    await new Promise<void>((resolve) =>
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 8 * 1024 * 1024) resolve();
      }),
    );
    expect(pids.reduce((n, pid) => n + fdsOn(pid, big), 0)).toBe(1);
    s.destroy();
    let open = 1;
    for (let i = 0; i < 100 && open > 0; i++) {
      await sleep(20);
      open = pids.reduce((n, pid) => n + fdsOn(pid, big), 0);
    }
    expect(open).toBe(0);
  });
});

describe('one worker', () => {
  it('serves others while clients hold half-sent requests', async () => {
    const one = await startServer({ staticDir: root, workers: 1 });
    const stalled: net.Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const s = await connectOpen(one.port);
        s.write('GET /index.html HTTP/1.1\r\nHost: t\r\nX-Half: ');
        stalled.push(s);
      }
      const r = await get(one.port, '/index.html');
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('home');
      expect(stalled.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of stalled) s.destroy();
      await one.stop();
    }
  });
});
