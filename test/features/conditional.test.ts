// Validators and conditional requests over raw sockets (RFC 9110 §8.8, §13).

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange, get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

let server: InProcess;
let etag: string;
let lastModified: string;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite({ 'page.html': '<p>page</p>', 'img.png': Buffer.alloc(300, 1) }) });
  const r = await get(server.port, '/page.html');
  etag = r.headers.etag ?? '';
  lastModified = r.headers['last-modified'] ?? '';
});
afterAll(async () => {
  await server.stop();
});

const ask = (path: string, ...fields: string[]) => get(server.port, path, ['Host: t', ...fields]);

describe('validators', () => {
  it('sends a strong ETag and Last-Modified on every file response', async () => {
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Date.parse(lastModified)).toBeGreaterThan(Date.now() - 60_000);
    const png = await ask('/img.png');
    expect(png.headers.etag).toMatch(/^"12c-[0-9a-f]+"$/); // 0x12c = 300 bytes
    expect(png.headers['last-modified']).toBeDefined();
  });
});

describe('conditional GET', () => {
  it('answers a matching If-None-Match with 304, the validators and no body', async () => {
    const ex = await exchange(
      server.port,
      `GET /page.html HTTP/1.1\r\nHost: t\r\nIf-None-Match: ${etag}\r\n\r\nGET /page.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
    );
    const [r, next] = ex.responses;
    expect(r!.statusLine).toBe('HTTP/1.1 304 Not Modified');
    expect(r!.headers.etag).toBe(etag);
    expect(r!.headers['last-modified']).toBe(lastModified);
    expect(r!.headers['cache-control']).toBe('no-cache');
    expect(r!.headers['content-length']).toBeUndefined();
    expect(r!.headers['content-type']).toBeUndefined();
    expect(r!.body.length).toBe(0);
    // The next response follows at once: the 304 really had no body.
    expect(next!.status).toBe(200);
    expect(next!.body.toString()).toBe('<p>page</p>');
  });

  it.each([
    ['a list', () => `"nope", ${etag}`],
    ['*', () => '*'],
    ['the weak form', () => `W/${etag}`],
  ])('If-None-Match with %s → 304', async (_name, value) => {
    expect((await ask('/page.html', `If-None-Match: ${value()}`)).status).toBe(304);
  });

  it('If-None-Match that differs → 200', async () => {
    expect((await ask('/page.html', 'If-None-Match: "other"')).status).toBe(200);
  });

  it('If-Modified-Since at or after Last-Modified → 304; before → 200; garbage ignored', async () => {
    expect((await ask('/page.html', `If-Modified-Since: ${lastModified}`)).status).toBe(304);
    expect((await ask('/page.html', 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT')).status).toBe(200);
    expect((await ask('/page.html', 'If-Modified-Since: not a date')).status).toBe(200);
  });

  it('If-None-Match takes precedence over If-Modified-Since', async () => {
    expect((await ask('/page.html', 'If-None-Match: "other"', `If-Modified-Since: ${lastModified}`)).status).toBe(200);
  });

  it('If-Match that differs → 412; matching → 200', async () => {
    const r = await ask('/page.html', 'If-Match: "other"');
    expect(r.statusLine).toBe('HTTP/1.1 412 Precondition Failed');
    expect((await ask('/page.html', `If-Match: ${etag}`)).status).toBe(200);
  });

  it('If-Unmodified-Since before Last-Modified → 412', async () => {
    expect((await ask('/page.html', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT')).status).toBe(412);
    expect((await ask('/page.html', `If-Unmodified-Since: ${lastModified}`)).status).toBe(200);
  });

  it('HEAD gets the same 304 as GET', async () => {
    const g = await ask('/page.html', `If-None-Match: ${etag}`);
    const h = await get(server.port, '/page.html', ['Host: t', `If-None-Match: ${etag}`], 'HEAD');
    const strip = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('Date:'));
    expect(h.status).toBe(304);
    expect(strip(h.rawHeaders)).toEqual(strip(g.rawHeaders));
  });
});
