// Range requests over raw sockets (RFC 9110 §14): single, suffix, open, multipart, If-Range, 416.

import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const small = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
const large = crypto.randomBytes(300 * 1024); // over the small-file threshold: streamed spans
let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite({ 'small.txt': small, 'large.bin': large }), env: { MAX_RANGES: '4' } });
});
afterAll(async () => {
  await server.stop();
});

const range = (path: string, value: string, ...more: string[]) => get(server.port, path, ['Host: t', `Range: ${value}`, ...more]);

/** Splits a multipart/byteranges body into its parts' fields and bytes. */
function parts(body: Buffer, boundary: string): Array<{ range: string; type: string; data: Buffer }> {
  const out: Array<{ range: string; type: string; data: Buffer }> = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let p = body.indexOf(delimiter);
  while (p !== -1) {
    const afterDelimiter = p + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    const head = body.toString('latin1', afterDelimiter + 2, headEnd);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd);
    const fields = Object.fromEntries(head.split('\r\n').map((l) => [l.split(':')[0]!.toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    out.push({ range: fields['content-range'] ?? '', type: fields['content-type'] ?? '', data: body.subarray(headEnd + 4, next) });
    p = next + 2;
  }
  return out;
}

describe('ranges', () => {
  it('advertises Accept-Ranges: bytes', async () => {
    expect((await get(server.port, '/small.txt')).headers['accept-ranges']).toBe('bytes');
  });

  const N = large.length;
  it.each<[string, string, number, number]>([
    ['/small.txt', 'bytes=2-5', 2, 5],
    ['/small.txt', 'bytes=30-', 30, 35],
    ['/small.txt', 'bytes=-4', 32, 35],
    ['/small.txt', 'bytes=34-1000', 34, 35],
    ['/large.bin', 'bytes=2-5', 2, 5],
    ['/large.bin', `bytes=${N - 10}-`, N - 10, N - 1],
    ['/large.bin', 'bytes=-4', N - 4, N - 1],
    ['/large.bin', `bytes=${N - 2}-${N + 1000}`, N - 2, N - 1],
  ])('%s %s → 206 with Content-Range and exactly those bytes', async (path, value, first, last) => {
    const data = path === '/small.txt' ? small : large;
    const r = await range(path, value);
    expect(r.statusLine).toBe('HTTP/1.1 206 Partial Content');
    expect(r.headers['content-range']).toBe(`bytes ${first}-${last}/${data.length}`);
    expect(r.headers['content-length']).toBe(String(last - first + 1));
    expect(r.body.equals(data.subarray(first, last + 1))).toBe(true);
  });

  it('serves a range deep inside a streamed file', async () => {
    const r = await range('/large.bin', 'bytes=100000-250000');
    expect(r.status).toBe(206);
    expect(r.body.equals(large.subarray(100000, 250001))).toBe(true);
  });

  it('answers an unsatisfiable range with 416 and bytes */size', async () => {
    const r = await range('/small.txt', 'bytes=100-200');
    expect(r.statusLine).toBe('HTTP/1.1 416 Range Not Satisfiable');
    expect(r.headers['content-range']).toBe(`bytes */${small.length}`);
  });

  it.each(['bytes=5-2', 'bytes=x-y', 'pages=1-2', 'bytes=1-2,3-4,5-6,7-8,9-10'])(
    'ignores malformed or excessive %s: 200 with the whole file',
    async (value) => {
      const r = await range('/small.txt', value);
      expect(r.status).toBe(200);
      expect(r.body.equals(small)).toBe(true);
    },
  );

  it('sends several ranges as multipart/byteranges, overlapping ones coalesced', async () => {
    for (const [path, data] of [
      ['/small.txt', small],
      ['/large.bin', large],
    ] as const) {
      const r = await range(path, 'bytes=20-25, 0-3, 2-5, -2');
      expect(r.status).toBe(206);
      const m = /^multipart\/byteranges; boundary=(\S+)$/.exec(r.headers['content-type'] ?? '');
      expect(m).not.toBeNull();
      expect(r.headers['content-range']).toBeUndefined();
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      const got = parts(r.body, m?.[1] ?? '');
      const n = data.length;
      expect(got.map((p) => p.range)).toEqual([`bytes 0-5/${n}`, `bytes 20-25/${n}`, `bytes ${n - 2}-${n - 1}/${n}`]);
      expect(got[0]!.data.equals(data.subarray(0, 6))).toBe(true);
      expect(got[1]!.data.equals(data.subarray(20, 26))).toBe(true);
      expect(got[2]!.data.equals(data.subarray(n - 2))).toBe(true);
      expect(got[0]!.type).toBe(path === '/small.txt' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    }
  });

  it('honours If-Range with the current ETag or date, and sends everything when stale', async () => {
    const full = await get(server.port, '/small.txt');
    expect((await range('/small.txt', 'bytes=0-1', `If-Range: ${full.headers.etag}`)).status).toBe(206);
    expect((await range('/small.txt', 'bytes=0-1', `If-Range: ${full.headers['last-modified']}`)).status).toBe(206);
    const stale = await range('/small.txt', 'bytes=0-1', 'If-Range: "old"');
    expect(stale.status).toBe(200);
    expect(stale.body.equals(small)).toBe(true);
    expect((await range('/small.txt', 'bytes=0-1', 'If-Range: Thu, 01 Jan 1970 00:00:00 GMT')).status).toBe(200);
  });

  it('answers HEAD with a range exactly as GET would, without the body', async () => {
    const g = await range('/large.bin', 'bytes=10-19');
    const h = await get(server.port, '/large.bin', ['Host: t', 'Range: bytes=10-19'], 'HEAD');
    const strip = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('Date:'));
    expect(h.status).toBe(206);
    expect(strip(h.rawHeaders)).toEqual(strip(g.rawHeaders));
    expect(h.body.length).toBe(0);
  });
});
