// The hot cache: which requests and replies it takes, validation time, and its byte budget.

import { describe, expect, it } from '@jest/globals';
import type { Reply } from '../../../src/static/handler';
import { cacheKey, modeIndex, ReplyCache } from '../../../src/static/reply-cache';

const reply = (status: number, body: Buffer | null): Reply => ({ status, fields: [['Content-Type', 'text/plain']], body });

describe('cacheKey', () => {
  it('is the target plus the fields a reply can depend on, in order', () => {
    expect(cacheKey('/a', ['host', 'user-agent'], ['x', 'y'])).toBe('/a');
    expect(cacheKey('/a', ['accept-encoding', 'if-none-match'], ['br', '"e"'])).toBe('/a\n1br\n2"e"');
    expect(cacheKey('/a', ['origin', 'accept', 'if-modified-since'], ['o', 'text/html', 'd'])).toBe('/a\n4o\n5text/html\n3d');
  });
  it('refuses requests with ranges or failing preconditions', () => {
    for (const name of ['range', 'if-range', 'if-match', 'if-unmodified-since']) expect(cacheKey('/a', ['host', name], ['x', 'v'])).toBeNull();
  });
});

describe('modeIndex', () => {
  it('gives six distinct modes', () => {
    const modes = new Set<number>();
    for (const h of [false, true]) for (const k of [false, true]) for (const t of [false, true]) modes.add(modeIndex(h, k, t));
    expect(modes.size).toBe(6);
  });
});

describe('ReplyCache', () => {
  it('keeps 200, 301, 304 and 404 replies with buffer bodies, nothing else', () => {
    const c = new ReplyCache(1 << 20, 1 << 16, 1000);
    c.set('a', reply(200, Buffer.from('x')), 0);
    c.set('b', reply(304, null), 0);
    c.set('c', reply(500, Buffer.from('x')), 0);
    c.set('d', reply(206, Buffer.from('x')), 0);
    c.set('e', reply(200, Buffer.alloc(1 << 17)), 0); // over the file limit
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => c.get(k, 10) !== undefined)).toEqual([true, true, false, false, false]);
  });

  it('forgets an entry once it is older than the validation time', () => {
    const c = new ReplyCache(1 << 20, 1 << 16, 1000);
    c.set('a', reply(200, Buffer.from('x')), 5000);
    expect(c.get('a', 6000)).toBeDefined();
    expect(c.get('a', 6001)).toBeUndefined();
    expect(c.count).toBe(0);
  });

  it('evicts the least recently validated entries past its byte budget, wire bytes included', () => {
    const c = new ReplyCache(3000, 2000, 1000);
    c.set('a', reply(200, Buffer.alloc(1000)), 0);
    c.set('b', reply(200, Buffer.alloc(1000)), 0);
    c.set('a', reply(200, Buffer.alloc(1000)), 1); // revalidated: now the newest
    c.set('c', reply(200, Buffer.alloc(1000)), 2);
    expect(c.byteSize).toBe(3000);
    const c1 = c.get('c', 3);
    if (c1 === undefined) throw new Error('c missing');
    c.setWire(c1, 0, Buffer.alloc(500));
    expect(c.byteSize).toBe(3500);
    c.set('d', reply(200, Buffer.alloc(1000)), 4); // evicts b, then a
    expect(['a', 'b', 'c', 'd'].map((k) => c.get(k, 5) !== undefined)).toEqual([false, false, true, true]);
    expect(c.byteSize).toBe(2500);
    c.setWire(c1, null, null);
    expect(c.byteSize).toBe(2000);
  });

  it('revalidates a reply made from one file with one check of its version, for up to a minute', () => {
    const version = { path: '/r/a', dev: 1, ino: 2, size: 1, mtimeMs: 3 };
    let valid = true;
    const checked: string[] = [];
    const c = new ReplyCache(1 << 20, 1 << 16, 1000, (v) => {
      checked.push(v.path);
      return valid;
    });
    c.set('a', { ...reply(200, Buffer.from('x')), version }, 0);
    c.set('n', reply(404, Buffer.from('gone')), 0);
    expect(c.get('a', 500)).toBeDefined();
    expect(checked).toEqual([]); // fresh: no check at all
    expect(c.get('a', 1500)).toBeDefined();
    expect(checked).toEqual(['/r/a']);
    expect(c.get('a', 2000)).toBeDefined(); // revalidated at 1500: fresh again
    expect(checked).toHaveLength(1);
    expect(c.get('n', 1500)).toBeUndefined(); // no version: dropped when stale
    valid = false;
    expect(c.get('a', 2600)).toBeUndefined(); // the file changed
    c.set('a', { ...reply(200, Buffer.from('x')), version }, 3000);
    valid = true;
    expect(c.get('a', 3000 + 59_999)).toBeDefined();
    expect(c.get('a', 3000 + 60_001 + 1001)).toBeUndefined(); // past the maximum age
  });

  it('is off with a zero budget', () => {
    const c = new ReplyCache(0, 1 << 16, 1000);
    c.set('a', reply(200, Buffer.from('x')), 0);
    expect(c.get('a', 0)).toBeUndefined();
  });
});
