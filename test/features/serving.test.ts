// What a GET or HEAD gets back: exact status lines, the fields every response carries, and bytes intact.

import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange, get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const binary = crypto.randomBytes(1024 * 1024);
const files = {
  'index.html': '<h1>home</h1>',
  'error.html': '<h1>custom 404</h1>',
  'style.css': 'body{}',
  'docs/index.html': '<h1>docs</h1>',
  'empty/.keep': '',
  'data.bin': binary,
  'with space.txt': 'spaced',
  '你好.txt': 'nihao',
  README: 'no extension',
  'zero.txt': '',
};

let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite(files) });
});
afterAll(async () => {
  await server.stop();
});

describe('serving files', () => {
  it('answers / with index.html and the fields every response carries', async () => {
    const ex = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', { responses: 1 });
    const [r] = ex.responses;
    expect(r!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r!.rawHeaders.map((h) => h.split(':')[0])).toEqual([
      'Server',
      'Date',
      'Content-Type',
      'Last-Modified',
      'ETag',
      'Cache-Control',
      'Accept-Ranges',
      'Vary',
      'Content-Length',
      'X-Content-Type-Options',
    ]);
    expect(r!.headers.server).toMatch(/^PWS\/\d+\.\d+\.\d+$/);
    expect(r!.headers.date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Math.abs(Date.parse(r!.headers.date ?? '') - Date.now())).toBeLessThan(5000);
    expect(r!.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r!.headers['content-length']).toBe('13');
    expect(r!.headers['x-content-type-options']).toBe('nosniff');
    expect(r!.body.toString()).toBe('<h1>home</h1>');
    expect(ex.rest.length).toBe(0);
  });

  it('serves a 1 MiB binary file byte for byte', async () => {
    const r = await get(server.port, '/data.bin');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['content-length']).toBe(String(binary.length));
    expect(r.body.equals(binary)).toBe(true);
  });

  it('answers HEAD with the same fields as GET and no body', async () => {
    const g = await get(server.port, '/data.bin');
    const ex = await exchange(server.port, 'HEAD /data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { headOnly: [0] });
    expect(ex.responses).toHaveLength(1);
    const h = ex.responses[0];
    const strip = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('Date:') && !l.startsWith('Connection:'));
    expect(strip(h!.rawHeaders)).toEqual(strip(g.rawHeaders));
    expect(ex.rest.length).toBe(0);
    expect(ex.closed).toBe(true);
  });

  it('serves a directory index and a CSS type with charset', async () => {
    expect((await get(server.port, '/docs/')).body.toString()).toBe('<h1>docs</h1>');
    expect((await get(server.port, '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('redirects a directory without its slash, keeping the query', async () => {
    const r = await get(server.port, '/docs?a=1&b=2');
    expect(r.statusLine).toBe('HTTP/1.1 301 Moved Permanently');
    expect(r.headers.location).toBe('/docs/?a=1&b=2');
  });

  it('answers a missing file with 404 and the site error.html', async () => {
    const r = await get(server.port, '/nope.html');
    expect(r.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body.toString()).toBe('<h1>custom 404</h1>');
  });

  it('answers 404 for a directory without index.html and for a file used as a folder', async () => {
    expect((await get(server.port, '/empty/')).status).toBe(404);
    expect((await get(server.port, '/index.html/x')).status).toBe(404);
    expect((await get(server.port, '/style.css/')).status).toBe(404);
  });

  it('serves names with spaces and non-ASCII characters', async () => {
    expect((await get(server.port, '/with%20space.txt')).body.toString()).toBe('spaced');
    expect((await get(server.port, `/${encodeURIComponent('你好.txt')}`)).body.toString()).toBe('nihao');
  });

  it('sends application/octet-stream for unknown types and handles empty files', async () => {
    expect((await get(server.port, '/README')).headers['content-type']).toBe('application/octet-stream');
    const empty = await get(server.port, '/zero.txt');
    expect(empty.status).toBe(200);
    expect(empty.headers['content-length']).toBe('0');
  });

  it('accepts an absolute-form target', async () => {
    const r = await get(server.port, 'http://localhost/style.css');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('body{}');
  });
});

describe('a site without error.html', () => {
  it('answers 404 with a built-in page', async () => {
    const bare = await startInProcess({ staticDir: makeSite({ 'index.html': 'x' }) });
    try {
      const r = await get(bare.port, '/missing');
      expect(r.status).toBe(404);
      expect(r.body.toString()).toContain('404');
    } finally {
      await bare.stop();
    }
  });
});

describe('the demo site (static/)', () => {
  it('has a favicon, so that a browser asking for /favicon.ico gets an icon, not the 404 page', async () => {
    const demo = await startInProcess({ staticDir: path.join(__dirname, '..', '..', 'static') });
    try {
      const r = await get(demo.port, '/favicon.ico');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)$/);
      // An ICO file: reserved 0, type 1 (icon), at least one image.
      expect([r.body.readUInt16LE(0), r.body.readUInt16LE(2), r.body.readUInt16LE(4) > 0]).toEqual([0, 1, true]);
    } finally {
      await demo.stop();
    }
  });
});
