// Site options over raw sockets: Cache-Control and immutable assets, SPA fallback, directory
// listings, CORS with preflight, HEADERS_FILE, and the always-on nosniff and octet-stream rules.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange, get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, tempDir } from '../helpers/server';

const files = {
  'index.html': '<h1>app</h1>',
  'assets/app.3f9a1c.js': 'console.log(1)',
  'assets/logo.png': Buffer.alloc(10),
  'files/b.txt': 'bee',
  'files/a & <b>.txt': 'odd',
  'files/sub/x.txt': 'x',
  'files/.secret': 'hidden',
  'odd/line\nbreak\x1b[31m.txt': 'control characters in a name',
  'odd/evil\u202etxt.exe': 'a bidi override in a name',
  'blob.unknownext': 'x',
  'sw.js': 'self',
};
let plain: InProcess;
let custom: InProcess;
let listOrigins: InProcess;
beforeAll(async () => {
  const root = makeSite(files);
  const cwd = tempDir('pws-cwd-');
  fs.writeFileSync(
    path.join(cwd, 'headers.json'),
    JSON.stringify({
      '/**': { 'Cross-Origin-Opener-Policy': 'same-origin' },
      '*.html': { 'Content-Security-Policy': "default-src 'self'" },
      '/sw.js': { 'Service-Worker-Allowed': '/' },
    }),
  );
  plain = await startInProcess({ staticDir: root });
  custom = await startInProcess({
    staticDir: root,
    cwd,
    env: {
      CACHE_CONTROL: 'public, max-age=60',
      IMMUTABLE_PATTERN: '/assets/**',
      SPA_FALLBACK: 'index.html',
      DIRECTORY_LISTING: 'on',
      CORS: '*',
      HEADERS_FILE: 'headers.json',
    },
  });
  listOrigins = await startInProcess({ staticDir: root, env: { CORS: 'https://a.example,https://b.example' } });
});
afterAll(async () => {
  await Promise.all([plain.stop(), custom.stop(), listOrigins.stop()]);
});

describe('Cache-Control', () => {
  it('defaults to no-cache', async () => {
    expect((await get(plain.port, '/index.html')).headers['cache-control']).toBe('no-cache');
  });
  it('uses CACHE_CONTROL, and a year immutable for IMMUTABLE_PATTERN', async () => {
    expect((await get(custom.port, '/index.html')).headers['cache-control']).toBe('public, max-age=60');
    expect((await get(custom.port, '/assets/app.3f9a1c.js')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });
});

describe('SPA_FALLBACK', () => {
  const html = ['Host: t', 'Accept: text/html,application/xhtml+xml,*/*;q=0.8'];
  it('answers an unknown extension-less path that accepts HTML with the app page (200)', async () => {
    const r = await get(custom.port, '/users/42/settings', html);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('<h1>app</h1>');
  });
  it('still 404s a missing asset, a client that does not take HTML, and everything when off', async () => {
    expect((await get(custom.port, '/assets/missing.js', html)).status).toBe(404);
    expect((await get(custom.port, '/users/42', ['Host: t', 'Accept: application/json'])).status).toBe(404);
    expect((await get(plain.port, '/users/42', html)).status).toBe(404);
  });
  it('says Vary: Accept wherever Accept chose between the app page and a 404, and only there', async () => {
    const vary = (r: { headers: Record<string, string> }): string[] => (r.headers.vary ?? '').split(',').map((v) => v.trim());
    expect(vary(await get(custom.port, '/users/7', html))).toContain('Accept');
    expect(vary(await get(custom.port, '/users/7', ['Host: t', 'Accept: application/json']))).toContain('Accept');
    expect(vary(await get(custom.port, '/assets/missing.js', html))).not.toContain('Accept');
    expect(vary(await get(custom.port, '/index.html', html))).not.toContain('Accept');
  });
});

describe('DIRECTORY_LISTING', () => {
  it('lists a folder without index.html: dirs first, sorted, escaped, encoded, dotfiles hidden, parent link', async () => {
    const r = await get(custom.port, '/files/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = r.body.toString();
    const order = ['href="../"', 'href="sub/"', 'href="a%20%26%20%3Cb%3E.txt"', 'href="b.txt"'].map((h) => html.indexOf(h));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('a &amp; &lt;b&gt;.txt');
    expect(html).not.toContain('<b>.txt');
    expect(html).not.toContain('.secret');
  });
  it('answers ?format=json', async () => {
    const r = await get(custom.port, '/files/?format=json');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const entries = JSON.parse(r.body.toString()) as Array<{ name: string; type: string; size: number; modified: string }>;
    expect(entries.map((e) => `${e.type}:${e.name}`)).toEqual(['directory:sub', 'file:a & <b>.txt', 'file:b.txt']);
    expect(entries[2]!.size).toBe(3);
    expect(Date.parse(entries[2]!.modified)).toBeGreaterThan(0);
  });
  it('is 404 when off (not 403)', async () => {
    expect((await get(plain.port, '/files/')).status).toBe(404);
  });
  it('shows control and bidi-override characters of file names as U+FFFD, and links the real names encoded', async () => {
    const r = await get(custom.port, '/odd/');
    const html = r.body.toString('utf8');
    expect(html).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(html).toContain('>line\ufffdbreak\ufffd[31m.txt</a>');
    expect(html).toContain('>evil\ufffdtxt.exe</a>');
    expect(html).toContain('href="line%0Abreak%1B%5B31m.txt"');
    expect(html).toContain('href="evil%E2%80%AEtxt.exe"');
  });
});

describe('CORS', () => {
  it('CORS=* allows every origin on responses', async () => {
    const r = await get(custom.port, '/index.html', ['Host: t', 'Origin: https://x.example']);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-expose-headers']).toContain('Content-Range');
  });
  it('answers a preflight OPTIONS with 204 and the allowed methods', async () => {
    const ex = await exchange(
      custom.port,
      'OPTIONS /index.html HTTP/1.1\r\nHost: t\r\nOrigin: https://x.example\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\nConnection: close\r\n\r\n',
    );
    const [r] = ex.responses;
    expect(r!.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(r!.headers['access-control-allow-origin']).toBe('*');
    expect(r!.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(r!.headers['access-control-allow-headers']).toBe('range');
    expect(r!.headers['content-length']).toBeUndefined();
  });
  it('with an origin list, echoes a listed origin with Vary: Origin and omits others', async () => {
    const a = await get(listOrigins.port, '/index.html', ['Host: t', 'Origin: https://a.example', 'Accept-Encoding: br']);
    expect(a.headers['access-control-allow-origin']).toBe('https://a.example');
    expect(a.headers.vary).toBe('Accept-Encoding, Origin');
    const evil = await get(listOrigins.port, '/index.html', ['Host: t', 'Origin: https://evil.example']);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    expect(evil.headers.vary).toContain('Origin');
  });
  it('without CORS, OPTIONS stays 405', async () => {
    const r = await get(plain.port, '/index.html', ['Host: t'], 'OPTIONS');
    expect(r.status).toBe(405);
  });
});

describe('HEADERS_FILE', () => {
  it('adds the headers of every matching glob', async () => {
    const page = await get(custom.port, '/index.html');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['content-security-policy']).toBe("default-src 'self'");
    const sw = await get(custom.port, '/sw.js');
    expect(sw.headers['service-worker-allowed']).toBe('/');
    expect(sw.headers['content-security-policy']).toBeUndefined();
  });
});

describe('always', () => {
  it('sends nosniff and application/octet-stream for unknown types', async () => {
    const r = await get(plain.port, '/blob.unknownext');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-type']).toBe('application/octet-stream');
  });
});
