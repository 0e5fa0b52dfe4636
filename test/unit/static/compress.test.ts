// Compressible types and the compression cache: computed once, shared while pending, bounded.

import zlib from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { sending, sent } from '../../../src/in-flight';
import { COMPRESSED_ENTRY_OVERHEAD_BYTES, CompressionCache, MAX_CONCURRENT_COMPRESSIONS, isCompressible } from '../../../src/static/compress';

describe('isCompressible', () => {
  it.each([
    ['text/html; charset=utf-8', true],
    ['text/javascript; charset=utf-8', true],
    ['application/json; charset=utf-8', true],
    ['image/svg+xml', true],
    ['application/wasm', true],
    ['application/manifest+json; charset=utf-8', true],
    ['image/png', false],
    ['video/mp4', false],
    ['font/woff2', false],
    ['application/octet-stream', false],
  ])('%s → %s', (type, expected) => expect(isCompressible(type)).toBe(expected));
});

/** A result the cache kept (get answers null only when it could not keep one). */
function must(b: Buffer | null): Buffer {
  if (b === null) throw new Error('the cache did not keep the result');
  return b;
}

describe('CompressionCache', () => {
  const text = Buffer.from('hello hello hello hello hello hello '.repeat(100));

  it('compresses once per key and coding, and the bytes decompress to the input', async () => {
    const cache = new CompressionCache(1 << 20);
    let reads = 0;
    const read = (): Promise<Buffer> => {
      reads++;
      return Promise.resolve(text);
    };
    const [a, b] = await Promise.all([cache.get('k', 'br', read), cache.get('k', 'br', read)]);
    const c = await cache.get('k', 'br', read);
    expect(reads).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(zlib.brotliDecompressSync(must(a)).equals(text)).toBe(true);
    const g = await cache.get('k', 'gzip', read);
    expect(reads).toBe(2);
    expect(zlib.gunzipSync(must(g)).equals(text)).toBe(true);
  });

  it('evicts the least recently used entries past its byte budget', async () => {
    const one = must(await new CompressionCache(1 << 20).get('x', 'gzip', () => Promise.resolve(text))).length;
    // Each entry is charged its result, its key ("gzip:a") twice over and a fixed overhead.
    const per = one + 2 * 'gzip:a'.length + COMPRESSED_ENTRY_OVERHEAD_BYTES;
    const cache = new CompressionCache(per * 2);
    let reads = 0;
    const read = (): Promise<Buffer> => {
      reads++;
      return Promise.resolve(text);
    };
    await cache.get('a', 'gzip', read);
    await cache.get('b', 'gzip', read);
    await cache.get('a', 'gzip', read); // a is now the most recent
    await cache.get('c', 'gzip', read); // evicts b
    expect(reads).toBe(3);
    expect(cache.size).toBe(per * 2);
    await cache.get('a', 'gzip', read);
    expect(reads).toBe(3);
    await cache.get('b', 'gzip', read);
    expect(reads).toBe(4);
  });

  it('counts keys in its budget and caps its entries, so long keys cannot outgrow it', async () => {
    const small = Buffer.from('x');
    const budget = 64 * 1024;
    const cache = new CompressionCache(budget, 50);
    for (let i = 0; i < 200; i++) await cache.get(`${i}/${'k'.repeat(4000)}`, 'gzip', () => Promise.resolve(small));
    expect(cache.size).toBeLessThanOrEqual(budget);
    expect(cache.count).toBeLessThanOrEqual(7); // 4 KiB keys count twice: at most 7 fit in 64 KiB
    const capped = new CompressionCache(1 << 30, 50);
    for (let i = 0; i < 200; i++) await capped.get(`k${i}`, 'gzip', () => Promise.resolve(small));
    expect(capped.count).toBe(50);
  });

  it('runs at most MAX_CONCURRENT_COMPRESSIONS at once; the rest wait their turn and all finish', async () => {
    const cache = new CompressionCache(1 << 20);
    let started = 0;
    const gates: Array<() => void> = [];
    const read = (): Promise<Buffer> => {
      started++;
      return new Promise((resolve) => gates.push(() => resolve(text)));
    };
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => cache.get(`f${i}`, 'gzip', read)));
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(MAX_CONCURRENT_COMPRESSIONS);
    expect(cache.active).toBe(MAX_CONCURRENT_COMPRESSIONS);
    while (gates.length > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 20));
      expect(cache.active).toBeLessThanOrEqual(MAX_CONCURRENT_COMPRESSIONS);
    }
    const results = await all;
    expect(started).toBe(6);
    expect(results.every((r) => zlib.gunzipSync(must(r)).equals(text))).toBe(true);
    expect(cache.active).toBe(0);
  });

  it('goes on charging an evicted result while a socket sends it, and keeps no result it cannot charge', async () => {
    const one = must(await new CompressionCache(1 << 20).get('x', 'gzip', () => Promise.resolve(text))).length;
    const per = one + 2 * 'gzip:a'.length + COMPRESSED_ENTRY_OVERHEAD_BYTES;
    const cache = new CompressionCache(per * 2);
    const a = must(await cache.get('a', 'gzip', () => Promise.resolve(text)));
    must(await cache.get('b', 'gzip', () => Promise.resolve(text)));
    sending(a); // a slow client has `a` queued
    // c evicts a (still charged: it is being sent) and then b (freed).
    const c = must(await cache.get('c', 'gzip', () => Promise.resolve(text)));
    expect(cache.size).toBe(per * 2);
    expect(cache.inFlight).toBe(per);
    sending(c);
    // d would need c evicted too, and both a and c are being sent: d is not kept.
    expect(await cache.get('d', 'gzip', () => Promise.resolve(text))).toBeNull();
    expect(cache.size).toBe(per * 2);
    expect(cache.inFlight).toBe(per * 2);
    expect(cache.count).toBe(0);
    sent(a);
    sent(c);
    expect(cache.inFlight).toBe(0);
    expect(cache.size).toBe(0);
    expect(must(await cache.get('e', 'gzip', () => Promise.resolve(text))).length).toBe(one);
    expect(cache.size).toBe(per);
  });
});
