// Compression over raw sockets: precompressed siblings, q-values, on-the-fly brotli/gzip computed
// once per file version, distinct ETags per encoding, Vary, and ranges on identity only.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const js = Buffer.from('export const answer = 42;\n'.repeat(200));
const css = Buffer.from('body { color: red; }\n'.repeat(200));
const tiny = Buffer.from('tiny text');
const png = Buffer.alloc(5000, 9);
let root: string;
let server: InProcess;
let off: InProcess;
beforeAll(async () => {
  root = makeSite({
    'app.js': js,
    'app.js.br': zlib.brotliCompressSync(js),
    'app.js.gz': zlib.gzipSync(js),
    'only-gz.css': css,
    'only-gz.css.gz': zlib.gzipSync(css),
    'style.css': css,
    'tiny.txt': tiny,
    'logo.png': png,
  });
  // Workers: 1, so that "computed once" is observable in one process; the response cache off, so
  // that what is observed is the compression cache alone.
  server = await startInProcess({ staticDir: root, env: { CACHE_MAX_BYTES: '0' } });
  off = await startInProcess({ staticDir: root, env: { COMPRESSION: 'off' } });
});
afterAll(async () => {
  await server.stop();
  await off.stop();
});

const fetchWith = (port: number, p: string, ae: string | null, ...more: string[]) =>
  get(port, p, ['Host: t', ...(ae === null ? [] : [`Accept-Encoding: ${ae}`]), ...more]);

describe('precompressed siblings', () => {
  it('prefers app.js.br for a client that takes br and gzip', async () => {
    const r = await fetchWith(server.port, '/app.js', 'gzip, deflate, br');
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(Number(r.headers['content-length'])).toBe(fs.statSync(path.join(root, 'app.js.br')).size);
    expect(zlib.brotliDecompressSync(r.body).equals(js)).toBe(true);
  });

  it('honours q-values: gzip when br is less wanted', async () => {
    const r = await fetchWith(server.port, '/app.js', 'br;q=0.1, gzip');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(r.body).equals(js)).toBe(true);
  });

  it('sends identity without Accept-Encoding, still with Vary', async () => {
    const r = await fetchWith(server.port, '/app.js', null);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(r.body.equals(js)).toBe(true);
  });

  it('gives every encoding its own ETag, and a 304 only for the matching one', async () => {
    const br = await fetchWith(server.port, '/app.js', 'br');
    const gz = await fetchWith(server.port, '/app.js', 'gzip');
    const id = await fetchWith(server.port, '/app.js', 'identity');
    expect(new Set([br.headers.etag, gz.headers.etag, id.headers.etag]).size).toBe(3);
    expect((await fetchWith(server.port, '/app.js', 'br', `If-None-Match: ${br.headers.etag}`)).status).toBe(304);
    expect((await fetchWith(server.port, '/app.js', 'gzip', `If-None-Match: ${br.headers.etag}`)).status).toBe(200);
  });

  it('respects identity;q=0: the compressed form, or 406 when there is none the client takes', async () => {
    const r = await fetchWith(off.port, '/only-gz.css', 'gzip, identity;q=0');
    expect(r.headers['content-encoding']).toBe('gzip');
    const refused = await fetchWith(off.port, '/logo.png', 'br, identity;q=0');
    expect(refused.status).toBe(406);
    expect(refused.headers.vary).toBe('Accept-Encoding');
  });
});

describe('on-the-fly compression', () => {
  it('compresses a text file with brotli or gzip, and the bytes decode to the file', async () => {
    const br = await fetchWith(server.port, '/style.css', 'br, gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(css.length / 5);
    expect(zlib.brotliDecompressSync(br.body).equals(css)).toBe(true);
    expect(br.headers['accept-ranges']).toBeUndefined();
    const gz = await fetchWith(server.port, '/style.css', 'gzip');
    expect(zlib.gunzipSync(gz.body).equals(css)).toBe(true);
    expect(gz.headers.etag).not.toBe(br.headers.etag);
  });

  it('reuses the compressed bytes of a file version instead of compressing per request', async () => {
    const file = path.join(root, 'reuse.css');
    const version = 1_700_000_000; // whole seconds, so it can be set again exactly
    fs.writeFileSync(file, css);
    fs.utimesSync(file, version, version);
    const first = await fetchWith(server.port, '/reuse.css', 'br');
    // Same size and mtime, other content: a cache keyed by file version must still answer with
    // the bytes it computed the first time. (Real edits change the mtime, hence the version.)
    fs.writeFileSync(file, Buffer.alloc(css.length, 'z'));
    fs.utimesSync(file, version, version);
    const second = await fetchWith(server.port, '/reuse.css', 'br');
    expect(second.body.equals(first.body)).toBe(true);
    expect(zlib.brotliDecompressSync(second.body).equals(css)).toBe(true);
    // A new version (new mtime) is compressed afresh.
    fs.utimesSync(file, version, version + 5);
    const third = await fetchWith(server.port, '/reuse.css', 'br');
    expect(zlib.brotliDecompressSync(third.body).equals(Buffer.alloc(css.length, 'z'))).toBe(true);
  });

  it('leaves small files, binary types, and everything under COMPRESSION=off alone', async () => {
    expect((await fetchWith(server.port, '/tiny.txt', 'br')).headers['content-encoding']).toBeUndefined();
    const img = await fetchWith(server.port, '/logo.png', 'br, gzip');
    expect(img.headers['content-encoding']).toBeUndefined();
    expect(img.headers.vary).toBeUndefined();
    const plain = await fetchWith(off.port, '/style.css', 'br, gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(css)).toBe(true);
  });

  it('applies ranges to the identity representation only', async () => {
    const r = await fetchWith(server.port, '/style.css', 'br, gzip', 'Range: bytes=0-9');
    expect(r.status).toBe(206);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body.equals(css.subarray(0, 10))).toBe(true);
    const sib = await fetchWith(server.port, '/app.js', 'br', 'Range: bytes=5-9');
    expect(sib.headers['content-encoding']).toBeUndefined();
    expect(sib.body.equals(js.subarray(5, 10))).toBe(true);
  });
});
