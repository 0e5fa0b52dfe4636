// Timeouts and limits: 408 on a slow head, idle keep-alive closed, slow readers dropped with flat
// memory, MAX_CONNECTIONS answered 503, MAX_REQUESTS_PER_CONNECTION, and file-system refusals.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange, get } from '../helpers/raw';
import { makeSite, type Running, socketCount, startServer, waitFor, workerPid } from '../helpers/server';

let root: string;
let server: Running;
beforeAll(async () => {
  root = makeSite({ 'index.html': 'home' });
  // Larger than the socket buffers of both ends on loopback, so a client that stops reading stalls it.
  fs.writeFileSync(path.join(root, 'big.bin'), '');
  fs.truncateSync(path.join(root, 'big.bin'), 64 * 1024 * 1024);
  server = await startServer({
    staticDir: root,
    workers: 1,
    env: { HEADERS_TIMEOUT_MS: '600', KEEP_ALIVE_TIMEOUT_MS: '600', SEND_TIMEOUT_MS: '1000', MAX_REQUESTS_PER_CONNECTION: '3', ACCESS_LOG: 'off' },
  });
});
afterAll(async () => {
  await server.stop();
});

describe('timeouts', () => {
  it('answers a head not complete within HEADERS_TIMEOUT_MS with 408 and closes', async () => {
    const started = Date.now();
    const ex = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ', { idleMs: 5000 });
    expect(ex.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 408 Request Timeout']);
    expect(ex.closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS without a response', async () => {
    const ex = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n', { idleMs: 5000 });
    expect(ex.responses).toHaveLength(1);
    expect(ex.closed).toBe(true);
    expect(ex.rest.length).toBe(0);
  });

  // What each stalled download holds is bounded structurally in backpressure.test.ts (one stream
  // chunk), and measured by `npm run abuse-check`; here: the server lets go of them all.
  it('drops clients that stop reading after SEND_TIMEOUT_MS', async () => {
    const pid = workerPid(server.proc.pid);
    const baseline = socketCount(pid);
    const clients: net.Socket[] = [];
    for (let i = 0; i < 40; i++) {
      const s = net.connect(server.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
      s.pause(); // never reads
      clients.push(s);
    }
    try {
      await waitFor('all 40 downloads under way', () => socketCount(pid) >= baseline + 40, 5000);
      // The server drops every one of them (a paused client cannot see it, the worker's fds can).
      await waitFor('the worker to drop the stalled clients', () => socketCount(pid) <= baseline, 6000);
      expect((await get(server.port, '/')).status).toBe(200);
    } finally {
      clients.forEach((c) => c.destroy());
    }
  });
});

describe('limits', () => {
  it('closes a connection after MAX_REQUESTS_PER_CONNECTION responses', async () => {
    const req = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';
    const ex = await exchange(server.port, req.repeat(5), { idleMs: 1000 });
    expect(ex.responses).toHaveLength(3);
    expect(ex.responses[2]!.headers.connection).toBe('close');
    expect(ex.responses[1]!.headers.connection).toBeUndefined();
    expect(ex.closed).toBe(true);
  });

  it('answers connections past MAX_CONNECTIONS with 503 and logs it once', async () => {
    const capped = await startServer({ staticDir: root, workers: 1, env: { MAX_CONNECTIONS: '5', ACCESS_LOG: 'off' } });
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const s = net.connect(capped.port, '127.0.0.1');
        s.on('error', () => undefined);
        held.push(s);
        // Answered: the worker holds this connection now.
        await new Promise((r) => s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n')).once('data', r));
      }
      for (let i = 0; i < 3; i++) {
        const ex = await exchange(capped.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        expect(ex.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 503 Service Unavailable']);
        expect(ex.responses[0]!.headers['retry-after']).toBe('1');
        expect(ex.closed).toBe(true);
      }
      expect(capped.output().stderr.match(/MAX_CONNECTIONS \(5\) reached/g)).toHaveLength(1);
      held.pop()?.destroy();
      // Once the worker has seen that close, there is room again.
      let status = (await get(capped.port, '/')).status;
      for (let i = 0; i < 200 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await get(capped.port, '/')).status;
      }
      expect(status).toBe(200);
    } finally {
      held.forEach((s) => s.destroy());
      await capped.stop();
    }
  });
});

describe('file-system refusals are never a 500', () => {
  it('answers a name too long for the file system with 404', async () => {
    const r = await get(server.port, `/${'a'.repeat(4000)}.html`);
    expect(r.status).toBe(404);
  });

  it('answers an unreadable file with 403', async () => {
    const site = makeSite({ 'index.html': 'ok', 'locked.txt': 'secret' });
    fs.chmodSync(path.join(site, 'locked.txt'), 0o000);
    // Root reads anything: run the server as nobody, with the site readable to it.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // The site and the temporary folder around it; never anything above (not /tmp itself).
      fs.chmodSync(site, 0o755);
      fs.chmodSync(path.dirname(site), 0o755);
      fs.chmodSync(path.join(site, 'index.html'), 0o644);
    }
    const cwd = fs.mkdtempSync(path.join(path.dirname(site), 'cwd-'));
    fs.chmodSync(cwd, 0o755);
    const s = await startServer({ staticDir: site, workers: 1, cwd, env: { ACCESS_LOG: 'off' }, uid: asRoot ? 65534 : undefined });
    try {
      expect((await get(s.port, '/index.html')).status).toBe(200);
      const r = await get(s.port, '/locked.txt');
      expect(r.statusLine).toBe('HTTP/1.1 403 Forbidden');
      expect(r.body.toString()).not.toContain('secret');
    } finally {
      await s.stop();
    }
  });
});

describe('the sweep', () => {
  it('closes many idle connections after KEEP_ALIVE_TIMEOUT_MS, serving others meanwhile', async () => {
    const openedAt = Date.now();
    const sockets = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    const closedAt: number[] = [];
    const closed = sockets.map((s) => new Promise<void>((r) => s.on('close', () => (closedAt.push(Date.now()), r()))));
    // Requests on fresh connections while the sweep works through the idle ones: all answered.
    let served = 0;
    while (closedAt.length < sockets.length) {
      expect((await get(server.port, '/')).status).toBe(200);
      served++;
      if (Date.now() - openedAt > 30_000) break;
    }
    await Promise.all(closed);
    expect(served).toBeGreaterThan(0);
    // Not before their time (600 ms idle, less one sweep period of 150 ms at most).
    expect(Math.min(...closedAt) - openedAt).toBeGreaterThanOrEqual(600 - 150);
  });
});
