// Slowloris: 1,000 connections each trickling one header byte per second. Normal clients are
// served throughout, and every slow connection gets 408 and a close at HEADERS_TIMEOUT_MS.
// (How fast normal clients are served meanwhile is measured by `npm run slowloris-check`, not
// asserted here: npm test checks behaviour, never speed.)

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { makeSite, startServer, type Running } from '../helpers/server';

const TIMEOUT_MS = 2500;
let server: Running;
beforeAll(async () => {
  server = await startServer({ staticDir: makeSite({ 'index.html': 'home' }), workers: 1, env: { HEADERS_TIMEOUT_MS: String(TIMEOUT_MS), ACCESS_LOG: 'off' } });
});
afterAll(async () => {
  await server.stop();
});

describe('slowloris', () => {
  it('1,000 trickling connections: others are served, each slow one gets 408 and a close on time', async () => {
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ' + 'a'.repeat(100));
    const slow: Array<{ socket: net.Socket; sent: number; got: string; closedAt: number }> = [];
    const opened = Date.now();
    for (let i = 0; i < 1000; i++) {
      const socket = net.connect(server.port, '127.0.0.1');
      const entry = { socket, sent: 0, got: '', closedAt: 0 };
      socket.on('data', (d: Buffer) => (entry.got += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => (entry.closedAt = Date.now()));
      slow.push(entry);
    }
    const trickle = setInterval(() => {
      for (const e of slow) {
        if (e.closedAt === 0 && e.sent < head.length && !e.socket.destroyed) e.socket.write(head.subarray(e.sent, ++e.sent));
      }
    }, 1000);
    for (const e of slow) e.socket.write(head.subarray(0, ++e.sent));
    try {
      // Normal clients, one after another, while the trickle goes on.
      let served = 0;
      while (Date.now() - opened < TIMEOUT_MS - 300) {
        const r = await get(server.port, '/');
        expect(r.status).toBe(200);
        served++;
      }
      expect(served).toBeGreaterThan(0);
      // A bound against hanging forever, not a measurement: on a loaded machine the sweep and the
      // 1,000 closes can take a while (npm run slowloris-check measures how long).
      const deadline = Date.now() + 30_000;
      while (slow.some((e) => e.closedAt === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const open = slow.filter((e) => e.closedAt === 0).length;
      expect(open).toBe(0);
      const answered408 = slow.filter((e) => e.got.startsWith('HTTP/1.1 408 Request Timeout\r\n')).length;
      expect(answered408).toBe(1000);
      const earliest = Math.min(...slow.map((e) => e.closedAt)) - opened;
      expect(earliest).toBeGreaterThanOrEqual(TIMEOUT_MS - 200);
      // Still serving afterwards.
      expect((await get(server.port, '/')).status).toBe(200);
    } finally {
      clearInterval(trickle);
      for (const e of slow) e.socket.destroy();
    }
  }, 60_000);
});
