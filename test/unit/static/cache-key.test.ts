// The reply cache's keys: what they are made of, and the bounded memo behind them.

import { describe, expect, it } from '@jest/globals';
import { parseCors } from '../../../src/site/cors';
import { cacheKey, MEMO_ENTRIES, MEMO_VALUE_CHARS, memoSize, type KeyPolicy } from '../../../src/static/cache-key';

const plain: KeyPolicy = { cors: null, spa: false };

describe('cacheKey', () => {
  it('is the path alone for a request with no field a reply depends on', () => {
    expect(cacheKey('/a', ['host', 'user-agent', 'if-none-match', 'if-modified-since'], ['x', 'y', '"e"', 'd'], plain)).toBe('/a');
  });

  it('leaves the query out', () => {
    expect(cacheKey('/a?x=1', [], [], plain)).toBe('/a');
    expect(cacheKey(`/nope?${'a'.repeat(8000)}`, [], [], plain)).toBe('/nope');
  });

  it('normalises the path: escapes, dot-segments, empty segments and absolute form give one key', () => {
    for (const t of ['/a/b', '/a/%62', '/a/./b', '/a/x/../b', '//a//b', 'http://h/a/b', '/a/b#frag', '/%61/b?q']) {
      expect(cacheKey(t, [], [], plain)).toBe('/a/b');
    }
    expect(cacheKey('/a/', [], [], plain)).toBe('/a/');
    expect(cacheKey('/a%3Fb', [], [], plain)).toBe('/a?b'); // a file named "a?b", not "/a" with a query
    expect(cacheKey('/../x', [], [], plain)).toBeNull(); // 400 anyway
    expect(cacheKey('/a%00', [], [], plain)).toBeNull();
  });

  it('keys Accept-Encoding by what negotiation reads of it, not by its bytes', () => {
    const key = (ae: string): string | null => cacheKey('/a', ['accept-encoding'], [ae], plain);
    expect(key('gzip, br')).toBe(key('br,gzip'));
    expect(key('gzip, deflate, br, x-zstd')).toBe(key('br, gzip, x-unknown-1'));
    expect(key('gzip, br, zstd')).not.toBe(key('br, gzip'));
    expect(key(`gzip, x-${'e'.repeat(5000)}`)).toBe(key('gzip'));
    expect(key('gzip')).not.toBe(key('br'));
    expect(key('gzip;q=0.5, br')).not.toBe(key('gzip, br'));
    expect(key('identity;q=0')).not.toBe(key(''));
  });

  it('keys Origin only where CORS echoes it, and Accept only where SPA_FALLBACK reads it', () => {
    const list: KeyPolicy = { cors: parseCors('https://a.example'), spa: false };
    expect(cacheKey('/a', ['origin'], ['https://a.example'], list)).toBe('/a\nohttps://a.example');
    expect(cacheKey('/a', ['origin'], ['https://evil.example'], list)).toBe('/a');
    expect(cacheKey('/a', ['origin'], ['https://a.example'], { cors: parseCors('*'), spa: false })).toBe('/a');
    expect(cacheKey('/a', ['origin', 'accept'], ['https://a.example', 'text/html'], plain)).toBe('/a');
    const spa: KeyPolicy = { cors: null, spa: true };
    expect(cacheKey('/a', ['accept'], ['text/html,*/*;q=0.8'], spa)).toBe(cacheKey('/a', [], [], spa));
    expect(cacheKey('/a', ['accept'], ['image/png'], spa)).not.toBe(cacheKey('/a', [], [], spa));
  });

  it('memoises at most MEMO_ENTRIES values per field, and never a long one', () => {
    const spa: KeyPolicy = { cors: null, spa: true };
    for (let i = 0; i < 5000; i++) cacheKey('/a', ['accept-encoding', 'accept'], [`gzip, x-${i}`, `text/html, x/${i}`], spa);
    expect(memoSize()).toBeLessThanOrEqual(2 * MEMO_ENTRIES);
    const before = memoSize();
    for (let i = 0; i < 100; i++) cacheKey('/a', ['accept-encoding'], [`gzip, x-${'l'.repeat(MEMO_VALUE_CHARS)}-${i}`], plain);
    expect(memoSize()).toBeLessThanOrEqual(Math.max(before, 2 * MEMO_ENTRIES));
  });

  it('refuses requests with ranges or preconditions that can fail', () => {
    for (const name of ['range', 'if-range', 'if-match', 'if-unmodified-since']) expect(cacheKey('/a', ['host', name], ['x', 'v'], plain)).toBeNull();
  });
});
