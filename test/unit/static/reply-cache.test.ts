// The hot cache: which replies it takes, validation time, the wire slots it lends writers, and a
// budget that counts keys, fields and overhead as well as bodies.

import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import type { Reply } from '../../../src/contract/reply';
import { ENTRY_OVERHEAD_BYTES, ReplyCache } from '../../../src/static/reply-cache';

const reply = (status: number, body: Buffer | null): Reply => ({ status, headers: { contentType: 'text/plain' }, body });
/** Bytes the cache charges for the fields of `reply` above: one string of 10 characters. */
const FIELDS = 2 * 'text/plain'.length + 32;
const cache = (maxBytes: number, maxFileBytes = 1 << 16, extra: Partial<ConstructorParameters<typeof ReplyCache>[0]> = {}): ReplyCache =>
  new ReplyCache({ maxBytes, maxFileBytes, validateMs: 1000, ...extra });

describe('ReplyCache', () => {
  it('keeps 200, 301 and 404 replies with buffer bodies, nothing else', () => {
    const c = cache(1 << 20);
    c.set('a', reply(200, Buffer.from('x')), {}, 0);
    c.set('b', reply(304, null), {}, 0);
    c.set('c', reply(500, Buffer.from('x')), {}, 0);
    c.set('d', reply(206, Buffer.from('x')), {}, 0);
    c.set('e', reply(200, Buffer.alloc(1 << 17)), {}, 0); // over the file limit
    c.set('f', reply(404, Buffer.from('x')), {}, 0);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => c.get(k, 10) !== undefined)).toEqual([true, false, false, false, false, true]);
  });

  it('keeps a reply that depends on the query only for requests without one, and gives it only to those', () => {
    const c = cache(1 << 20);
    const redirect = reply(301, null);
    c.set('/d', redirect, { dependsOnQuery: true }, 0, true);
    expect(c.get('/d', 1)).toBeUndefined();
    c.set('/d', redirect, { dependsOnQuery: true }, 0, false);
    expect(c.get('/d', 1)).toBeDefined();
    expect(c.get('/d', 1, true)).toBeUndefined();
    expect(c.count).toBe(1);
  });

  it('forgets an entry once it is older than the validation time', () => {
    const c = cache(1 << 20);
    c.set('a', reply(200, Buffer.from('x')), {}, 5000);
    expect(c.get('a', 6000)).toBeDefined();
    expect(c.get('a', 6001)).toBeUndefined();
    expect(c.count).toBe(0);
  });

  it('charges each entry its body, key, fields and a fixed overhead, and the wire bytes a writer keeps in it', () => {
    const c = cache(1 << 20);
    const key = 'k'.repeat(1000);
    const r = reply(200, Buffer.alloc(100));
    c.set(key, r, {}, 0);
    expect(c.byteSize).toBe(100 + 2 * key.length + FIELDS + ENTRY_OVERHEAD_BYTES);
    const wire = r.wire;
    if (wire === undefined) throw new Error('a cached reply has a wire slot');
    wire.set(0, 7, Buffer.alloc(300));
    wire.set(3, 7, Buffer.alloc(200));
    expect(wire.get(0, 7)?.length).toBe(300);
    expect(c.byteSize).toBe(100 + 2000 + FIELDS + ENTRY_OVERHEAD_BYTES + 500);
    // A new second: the heads of the last one are dropped (their Date is stale) and uncharged.
    expect(wire.get(0, 8)).toBeUndefined();
    wire.set(0, 8, Buffer.alloc(250));
    expect(c.byteSize).toBe(100 + 2000 + FIELDS + ENTRY_OVERHEAD_BYTES + 250);
  });

  it('charges the HTTP/2 fields a writer keeps for a second, and lets them go with the second', () => {
    const c = cache(1 << 20);
    const r = reply(200, Buffer.alloc(100));
    c.set('k', r, {}, 0);
    const base = c.byteSize;
    const wire = r.wire;
    if (wire === undefined) throw new Error('a cached reply has a wire slot');
    const fields = { ':status': 200 };
    wire.setFields(7, fields, 400);
    wire.set(0, 7, Buffer.alloc(300));
    expect(wire.getFields(7)).toBe(fields);
    expect(c.byteSize).toBe(base + 700);
    wire.setFields(7, fields, 350); // made again within the second: charged once, at its new size
    expect(c.byteSize).toBe(base + 650);
    expect(wire.getFields(8)).toBeUndefined();
    wire.set(0, 8, Buffer.alloc(250)); // a new second drops the fields as well as the heads
    expect(wire.getFields(8)).toBeUndefined();
    expect(c.byteSize).toBe(base + 250);
  });

  it('evicts the least recently validated entries past its byte budget', () => {
    const per = 1000 + 2 + FIELDS + ENTRY_OVERHEAD_BYTES; // body, one-letter key, fields, overhead
    const c = cache(3 * per, 2000);
    c.set('a', reply(200, Buffer.alloc(1000)), {}, 0);
    c.set('b', reply(200, Buffer.alloc(1000)), {}, 0);
    c.set('a', reply(200, Buffer.alloc(1000)), {}, 1); // set again: now the newest
    c.set('c', reply(200, Buffer.alloc(1000)), {}, 2);
    expect(c.byteSize).toBe(3 * per);
    c.set('d', reply(200, Buffer.alloc(1000)), {}, 4); // evicts b
    expect(['a', 'b', 'c', 'd'].map((k) => c.get(k, 5) !== undefined)).toEqual([true, false, true, true]);
    expect(c.byteSize).toBe(3 * per);
  });

  it('holds no more than its budget however long the keys, and no more than its entry cap', () => {
    const budget = 1 << 20;
    const c = cache(budget);
    for (let i = 0; i < 2000; i++) c.set(`/nope/${i}/${'a'.repeat(8000)}`, reply(404, Buffer.from('gone')), {}, i);
    expect(c.byteSize).toBeLessThanOrEqual(budget);
    expect(c.count).toBeLessThan(2000);
    expect(c.count).toBeGreaterThan(0);
    const capped = cache(1 << 30, 1 << 16, { maxEntries: 100 });
    for (let i = 0; i < 1000; i++) capped.set(`/k${i}`, reply(404, null), {}, i);
    expect(capped.count).toBe(100);
  });

  it('keeps only its keys, not the longer request-targets they were cut from', () => {
    // A full collection on demand: V8's gc, exposed for this test only.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const c = cache(1 << 30);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2000; i++) {
      // As the parser makes a target: a fresh latin1 string, here with an 8 KB query.
      const target = Buffer.from(`/nonexistent-path-${i}?${'a'.repeat(8000)}`, 'latin1').toString('latin1');
      c.set(c.keyOf(target, [], []) as string, reply(404, null), {}, 0);
    }
    gc();
    const perEntry = (process.memoryUsage().heapUsed - before) / 2000;
    // Each entry's real cost stays near what it is charged (~1 KB), far from the 8 KB target.
    expect(perEntry).toBeLessThan(2 * (c.byteSize / 2000));
    expect(perEntry).toBeLessThan(4000);
  });

  it('refuses an entry larger than the whole budget instead of emptying the cache for it', () => {
    const c = cache(4096);
    c.set('small', reply(200, Buffer.alloc(10)), {}, 0);
    c.set('k'.repeat(3000), reply(404, null), {}, 0);
    expect(c.get('small', 1)).toBeDefined();
    expect(c.count).toBe(1);
  });

  it('revalidates a reply made from one file with one check of its version, for up to a minute', () => {
    const version = { path: '/r/a', dev: 1, ino: 2, size: 1, mtimeMs: 3 };
    let valid = true;
    const checked: string[] = [];
    const c = cache(1 << 20, 1 << 16, {
      stillValid: (v) => {
        checked.push(v.path);
        return valid;
      },
    });
    c.set('a', reply(200, Buffer.from('x')), { version }, 0);
    c.set('n', reply(404, Buffer.from('gone')), {}, 0);
    expect(c.get('a', 500)).toBeDefined();
    expect(checked).toEqual([]); // fresh: no check at all
    expect(c.get('a', 1500)).toBeDefined();
    expect(checked).toEqual(['/r/a']);
    expect(c.get('a', 2000)).toBeDefined(); // revalidated at 1500: fresh again
    expect(checked).toHaveLength(1);
    expect(c.get('n', 1500)).toBeUndefined(); // no version: dropped when stale
    valid = false;
    expect(c.get('a', 2600)).toBeUndefined(); // the file changed
    c.set('a', reply(200, Buffer.from('x')), { version }, 3000);
    valid = true;
    expect(c.get('a', 3000 + 59_999)).toBeDefined();
    expect(c.get('a', 3000 + 60_001 + 1001)).toBeUndefined(); // past the maximum age
  });

  it('is off with a zero budget', () => {
    const c = cache(0);
    expect(c.enabled).toBe(false);
    c.set('a', reply(200, Buffer.from('x')), {}, 0);
    expect(c.get('a', 0)).toBeUndefined();
  });
});
