// Access logs from running workers: Combined lines on stdout by default, JSON lines to a file,
// flushed within a second and completely on a graceful shutdown.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { errorReply } from '../../src/contract/error-page';
import { loadConfig } from '../../src/config';
import { createHttpServer } from '../../src/net/server';
import { exchange, get } from '../helpers/raw';
import { makeSite, startServer, waitFor, tempDir } from '../helpers/server';

const site = makeSite({ 'index.html': 'home' });

describe('access log', () => {
  it('prints Combined Log Format lines on stdout by default, within a second', async () => {
    const s = await startServer({ staticDir: site, workers: 2 });
    try {
      await get(s.port, '/index.html', ['Host: t', 'User-Agent: test-agent', 'Referer: http://ref.example/']);
      await get(s.port, '/missing');
      await waitFor(
        'two access lines',
        () =>
          s
            .output()
            .stdout.split('\n')
            .filter((l) => l.includes('"GET ')).length === 2,
        3000,
      );
      const lines = s
        .output()
        .stdout.split('\n')
        .filter((l) => l.includes('"GET '));
      // Two workers flush on their own: find each line by its request.
      const index = lines.find((l) => l.includes('/index.html')) ?? '';
      const missing = lines.find((l) => l.includes('/missing')) ?? '';
      expect(index).toMatch(
        /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/index\.html HTTP\/1\.1" 200 4 "http:\/\/ref\.example\/" "test-agent" \d+\.\d{3} [12]$/,
      );
      expect(missing).toMatch(/"GET \/missing HTTP\/1\.1" 404 \d+ "-" "-" /);
    } finally {
      await s.stop();
    }
  });

  it('writes JSON lines to a file and loses none on SIGTERM', async () => {
    const file = path.join(tempDir('pws-log-'), 'access.log');
    const s = await startServer({ staticDir: site, workers: 2, env: { ACCESS_LOG: file, LOG_FORMAT: 'json' } });
    const batch = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(49) + 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
    const ex = await exchange(s.port, batch);
    expect(ex.responses).toHaveLength(50);
    expect(await s.stop()).toBe(0);
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toMatchObject({ method: 'GET', target: '/', protocol: 'HTTP/1.1', status: 200, bytes: 4, remote: '127.0.0.1' });
    expect([1, 2]).toContain(lines[0]!.worker);
    expect(typeof lines[0]!.ms).toBe('number');
  });

  it('does not log a request that failed to parse under the previous request line', async () => {
    const file = path.join(tempDir('pws-log-'), 'access.log');
    const s = await startServer({ staticDir: site, workers: 1, env: { ACCESS_LOG: file, LOG_FORMAT: 'json' } });
    const ex = await exchange(s.port, 'GET /index.html HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nBad Header: x\r\n\r\n');
    expect(ex.responses.map((r) => r.status)).toEqual([200, 400]);
    await s.stop();
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { method: string; target: string; status: number });
    expect(lines.map((l) => [l.status, l.method, l.target])).toEqual([
      [200, 'GET', '/index.html'],
      [400, '-', '-'],
    ]);
  });

  it('ACCESS_LOG=off writes nothing, anywhere', async () => {
    const cwd = tempDir('pws-cwd-');
    const s = await startServer({ staticDir: site, workers: 1, cwd, env: { ACCESS_LOG: 'off' } });
    await get(s.port, '/');
    await get(s.port, '/nope');
    // A worker flushes its access log before it exits: once stopped, every line would be out.
    expect(await s.stop()).toBe(0);
    const { stdout, stderr } = s.output();
    expect([...stdout.split('\n'), ...stderr.split('\n')].filter((l) => l.includes('"GET '))).toEqual([]);
    expect(fs.readdirSync(cwd)).toEqual([]);
    // And no log object at all: nothing is formatted or queued per request.
    const config = loadConfig({ STATIC_DIR: site, ACCESS_LOG: 'off' }, cwd);
    const http = createHttpServer(config, () => errorReply(404));
    expect(http.ctx.accessLog).toBeNull();
  });
});
