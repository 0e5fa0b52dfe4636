// One table of feature cases, run over both protocols of the TLS port: HTTP/1.1 (PWS's own
// parser) and HTTP/2 (node:http2). Each case checks what it is about on both, and the two answers
// must agree on status, body and every field a client acts on — the same handler, caches and
// policies behind both transports.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, selfSignedCert, tempDir } from '../helpers/server';
import { closeH2Sessions, tlsRequest, type Protocol, type TlsRequest, type TlsResponse } from '../helpers/tls-clients';

const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
const css = Buffer.from('body { color: #333; margin: 0 auto; }\n'.repeat(200));
const index = '<!doctype html><title>home</title><p>home</p>\n';
const files: Record<string, string | Buffer> = {
  'index.html': index,
  'style.css': css,
  'big.bin': big,
  'sub/index.html': '<p>sub</p>\n',
  'docs/a.txt': 'a\n',
  'docs/b.txt': 'b\n',
  'assets/app.3f9a1c.js': 'console.log(1);\n',
  'error.html': '<p>not here</p>\n',
};

/** Fields whose value must be the same over both protocols (Date and Server aside). */
const COMPARED = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'etag',
  'last-modified',
  'cache-control',
  'accept-ranges',
  'location',
  'allow',
  'vary',
  'x-content-type-options',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'cross-origin-opener-policy',
  'content-security-policy',
];

interface Case {
  name: string;
  req: TlsRequest | ((etag: string) => TlsRequest);
  check(r: TlsResponse): void;
}

const multipartBody = (r: TlsResponse): string => r.body.toString('latin1');

const cases: Case[] = [
  {
    name: 'GET / serves index.html',
    req: { path: '/' },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(index);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    },
  },
  {
    name: 'HEAD has the GET head and no body',
    req: { path: '/', method: 'HEAD' },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(Buffer.byteLength(index)));
      expect(r.body.length).toBe(0);
    },
  },
  {
    name: 'gzip by negotiation',
    req: { path: '/style.css', headers: { 'accept-encoding': 'gzip' } },
    check: (r) => {
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(r.body).equals(css)).toBe(true);
      expect(r.headers.vary).toBe('Accept-Encoding');
    },
  },
  {
    name: 'brotli preferred by q-value',
    req: { path: '/style.css', headers: { 'accept-encoding': 'gzip;q=0.5, br' } },
    check: (r) => {
      expect(r.headers['content-encoding']).toBe('br');
      expect(zlib.brotliDecompressSync(r.body).equals(css)).toBe(true);
    },
  },
  {
    name: 'a 3 MiB file streams whole',
    req: { path: '/big.bin' },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(big.length));
      expect(r.body.equals(big)).toBe(true);
    },
  },
  {
    name: 'a single range',
    req: { path: '/big.bin', headers: { range: 'bytes=1000000-1000099' } },
    check: (r) => {
      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes 1000000-1000099/${big.length}`);
      expect(r.body.equals(big.subarray(1000000, 1000100))).toBe(true);
    },
  },
  {
    name: 'multipart ranges',
    req: { path: '/big.bin', headers: { range: 'bytes=0-9,2000000-2000009' } },
    check: (r) => {
      expect(r.status).toBe(206);
      expect(r.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
      const text = multipartBody(r);
      expect(text).toContain(`Content-Range: bytes 0-9/${big.length}`);
      expect(text).toContain(big.subarray(2000000, 2000010).toString('latin1'));
      expect(r.headers['content-length']).toBe(String(r.body.length));
    },
  },
  {
    name: 'If-None-Match with the current ETag is 304',
    req: (etag) => ({ path: '/index.html', headers: { 'if-none-match': etag } }),
    check: (r) => {
      expect(r.status).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.headers.etag).toBeDefined();
    },
  },
  {
    name: 'a missing file is 404 with error.html',
    req: { path: '/nope.html' },
    check: (r) => {
      expect(r.status).toBe(404);
      expect(r.body.toString()).toBe('<p>not here</p>\n');
    },
  },
  {
    name: 'a folder without its slash redirects',
    req: { path: '/sub?x=1' },
    check: (r) => {
      expect(r.status).toBe(301);
      expect(r.headers.location).toBe('/sub/?x=1');
    },
  },
  {
    name: 'a folder without index.html is listed',
    req: { path: '/docs/' },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toContain('a.txt');
      expect(r.body.toString()).toContain('b.txt');
    },
  },
  {
    name: 'SPA fallback for a page route',
    req: { path: '/app/settings', headers: { accept: 'text/html' } },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(index);
      expect(r.headers.vary).toContain('Accept');
    },
  },
  {
    name: 'CORS on a response',
    req: { path: '/index.html', headers: { origin: 'https://a.example' } },
    check: (r) => expect(r.headers['access-control-allow-origin']).toBe('*'),
  },
  {
    name: 'CORS preflight',
    req: { path: '/index.html', method: 'OPTIONS', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } },
    check: (r) => {
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-methods']).toContain('GET');
    },
  },
  {
    name: 'HEADERS_FILE fields and IMMUTABLE_PATTERN',
    req: { path: '/assets/app.3f9a1c.js' },
    check: (r) => {
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    },
  },
  {
    name: 'the health path',
    req: { path: '/healthz' },
    check: (r) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('ok\n');
    },
  },
  {
    name: 'POST is 405 with Allow',
    req: { path: '/', method: 'POST' },
    check: (r) => {
      expect(r.status).toBe(405);
      expect(r.headers.allow).toContain('GET');
    },
  },
  {
    name: 'a target over MAX_URI_BYTES is 414',
    req: { path: `/${'a'.repeat(9000)}` },
    check: (r) => expect(r.status).toBe(414),
  },
  {
    name: 'a field section over MAX_HEADER_BYTES is 431',
    req: { path: '/', headers: { 'x-big': 'b'.repeat(17_000) } },
    check: (r) => expect(r.status).toBe(431),
  },
  {
    name: 'more fields than MAX_HEADERS is 431',
    req: { path: '/', headers: Object.fromEntries(Array.from({ length: 103 }, (_, i) => [`x-f${i}`, 'v'])) },
    check: (r) => expect(r.status).toBe(431),
  },
  {
    name: 'an encoded dot-dot cannot leave the root',
    req: { path: '/%2e%2e/%2e%2e/etc/passwd' },
    check: (r) => {
      expect([400, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain('root:');
    },
  },
];

let server: InProcess;
let logFile: string;
let etag = '';
beforeAll(async () => {
  const pem = selfSignedCert();
  const cwd = tempDir('pws-cwd-');
  // HTTP2-Settings is an HTTP/1.1 upgrade field node:http2 refuses to send: it must be left out, not crash the worker.
  fs.writeFileSync(path.join(cwd, 'headers.json'), JSON.stringify({ '/assets/**': { 'Cross-Origin-Opener-Policy': 'same-origin', 'HTTP2-Settings': 'x' } }));
  logFile = path.join(cwd, 'access.log');
  server = await startInProcess({
    staticDir: makeSite(files),
    cwd,
    env: {
      TLS_CERT: pem.cert,
      TLS_KEY: pem.key,
      HEALTH_PATH: '/healthz',
      DIRECTORY_LISTING: 'on',
      SPA_FALLBACK: 'index.html',
      CORS: '*',
      HEADERS_FILE: 'headers.json',
      IMMUTABLE_PATTERN: '/assets/**',
      ACCESS_LOG: logFile,
    },
  });
  etag = (await tlsRequest('h2', server.port, { path: '/index.html' })).headers.etag ?? '';
});
afterAll(async () => {
  closeH2Sessions();
  await server.stop();
});

const PROTOCOLS: Protocol[] = ['http/1.1', 'h2'];

describe.each(cases)('$name', (c) => {
  it('is answered alike over HTTP/1.1 and HTTP/2', async () => {
    const req = typeof c.req === 'function' ? c.req(etag) : c.req;
    const [a, b] = await Promise.all(PROTOCOLS.map((p) => tlsRequest(p, server.port, req)));
    for (const r of [a!, b!]) c.check(r);
    expect(b!.status).toBe(a!.status);
    expect(COMPARED.map((f) => [f, b!.headers[f]])).toEqual(COMPARED.map((f) => [f, a!.headers[f]]));
    // Multipart boundaries differ per response; every other body is the same bytes.
    if (!String(a!.headers['content-type']).startsWith('multipart/')) expect(b!.body.equals(a!.body)).toBe(true);
  });
});

describe('HTTP/2 framing', () => {
  it('sends no connection-specific field (RFC 9113 §8.2.2)', async () => {
    const r = await tlsRequest('h2', server.port, { path: '/' });
    for (const f of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade']) expect(r.headers[f]).toBeUndefined();
    // A site rule naming one is dropped over HTTP/2 (and the request served), kept over HTTP/1.1.
    const asset = await tlsRequest('h2', server.port, { path: '/assets/app.3f9a1c.js' });
    expect(asset.status).toBe(200);
    expect(asset.headers['http2-settings']).toBeUndefined();
    expect((await tlsRequest('http/1.1', server.port, { path: '/assets/app.3f9a1c.js' })).headers['http2-settings']).toBe('x');
  });
  it('sends a cached reply again with the same fields, and with the Date of each new second', async () => {
    const first = await tlsRequest('h2', server.port, { path: '/docs/b.txt' });
    const again = await tlsRequest('h2', server.port, { path: '/docs/b.txt' });
    const asked = Date.now();
    for (const f of COMPARED) expect([f, again.headers[f]]).toEqual([f, first.headers[f]]);
    // Past the next second boundary, the fields mapped for the last second are not sent again.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (asked % 1000) + 20));
    const later = await tlsRequest('h2', server.port, { path: '/docs/b.txt' });
    expect(Date.parse(String(later.headers.date))).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000 + 1000);
    expect(later.body.toString()).toBe('b\n');
  });
  it("maps a cached reply's fields for HTTP/2 once per second, charged to its cache entry", async () => {
    const replies = server.pws.site.replies;
    // Within one second of Date (tried again if the requests straddle one).
    for (let attempt = 0; ; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
      const second = Math.floor(Date.now() / 1000);
      await tlsRequest('http/1.1', server.port, { path: '/docs/a.txt' });
      const before = replies.byteSize;
      await tlsRequest('h2', server.port, { path: '/docs/a.txt' });
      const mapped = replies.byteSize;
      await tlsRequest('h2', server.port, { path: '/docs/a.txt' });
      await tlsRequest('h2', server.port, { path: '/docs/a.txt', method: 'HEAD' });
      const after = replies.byteSize;
      if (Math.floor(Date.now() / 1000) !== second && attempt < 5) continue;
      expect(mapped).toBeGreaterThan(before);
      expect(after).toBe(mapped);
      break;
    }
  });
  it('logs each protocol in the access log line', async () => {
    await tlsRequest('h2', server.port, { path: '/sub/?logged=h2' });
    await tlsRequest('http/1.1', server.port, { path: '/sub/?logged=h1' });
    server.pws.ctx.accessLog?.flushSync();
    const log = fs.readFileSync(logFile, 'utf8');
    expect(log).toMatch(/"GET \/sub\/\?logged=h2 HTTP\/2\.0" 200 /);
    expect(log).toMatch(/"GET \/sub\/\?logged=h1 HTTP\/1\.1" 200 /);
  });
});
