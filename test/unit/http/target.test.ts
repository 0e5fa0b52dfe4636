// Request-target decoding: forms, percent-decoding once, dot-segments, and every way out of the root.

import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { E } from '../../../src/http/errors';
import { decodeTarget, percentDecode, type DecodedTarget } from '../../../src/http/target';

const ok = (target: string): DecodedTarget => {
  const d = decodeTarget(target);
  if (typeof d === 'number') throw new Error(`${target} was refused with ${d}`);
  return d;
};

describe('decodeTarget', () => {
  it.each<[string, string[], boolean, string]>([
    ['/', [], true, ''],
    ['/index.html', ['index.html'], false, ''],
    ['/a/b/', ['a', 'b'], true, ''],
    ['/a//b', ['a', 'b'], false, ''],
    ['/a/./b', ['a', 'b'], false, ''],
    ['/a/b/../c', ['a', 'c'], false, ''],
    ['/a/b/..', ['a'], true, ''],
    ['/a/.', ['a'], true, ''],
    ['/dir?x=1&y', ['dir'], false, '?x=1&y'],
    ['/p#frag', ['p'], false, ''],
    ['/p?q#frag', ['p'], false, '?q'],
    ['/%E4%BD%A0%E5%A5%BD.txt', ['你好.txt'], false, ''],
    ['/with%20space.txt', ['with space.txt'], false, ''],
    ['/a/%2e%2e/', [], true, ''],
    ['/a/%2e%2e%2fb', ['b'], false, ''],
    ['/%252e%252e/x', ['%2e%2e', 'x'], false, ''],
    ['/a%2fb', ['a', 'b'], false, ''],
    ['http://example.com/a/b?c', ['a', 'b'], false, '?c'],
    ['HTTP://example.com', [], true, ''],
    ['https://example.com:8443?q', [], true, '?q'],
  ])('%s', (target, segments, trailingSlash, query) => {
    expect(ok(target)).toMatchObject({ segments, trailingSlash, query });
  });

  it.each<[string, number]>([
    ['*', E.TARGET_FORM],
    ['example.com:443', E.TARGET_FORM],
    ['ftp://example.com/x', E.TARGET_FORM],
    ['/..', E.PATH_INVALID],
    ['/../etc/passwd', E.PATH_INVALID],
    ['/a/../../etc/passwd', E.PATH_INVALID],
    ['/%2e%2e/etc/passwd', E.PATH_INVALID],
    ['/%2E%2E%2Fetc%2Fpasswd', E.PATH_INVALID],
    ['/..%2fetc', E.PATH_INVALID],
    ['/%c0%ae%c0%ae/etc', E.PATH_INVALID],
    ['/a%5c..%5c..%5cetc', E.PATH_INVALID],
    ['/a\\b', E.PATH_INVALID],
    ['/file%00.html', E.PATH_INVALID],
    ['/%0a', E.PATH_INVALID],
    ['/%', E.PATH_INVALID],
    ['/%4', E.PATH_INVALID],
    ['/%zz', E.PATH_INVALID],
    ['/%ff', E.PATH_INVALID],
    ['http://h/../x', E.PATH_INVALID],
  ])('refuses %s', (target, code) => {
    expect(decodeTarget(target)).toBe(code);
  });

  it('keeps the authority of an absolute-form target (and never the raw path)', () => {
    expect(ok('/a%20b?x').authority).toBeNull();
    expect(ok('http://h.example:8080?x').authority).toBe('h.example:8080');
    expect(ok('http://h?x').segments).toEqual([]);
    expect(Object.keys(ok('/a%20b?x')).sort()).toEqual(['authority', 'query', 'segments', 'trailingSlash']);
  });

  it('agrees with path.posix.normalize on paths that stay inside the root', () => {
    const segment = fc.constantFrom('a', 'b', 'c.txt', '.', '..', '');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const target = `/${parts.join('/')}`;
        const reference = path.posix.normalize(target);
        const d = decodeTarget(target);
        // normalize clamps `..` at the root where we refuse; otherwise the segments agree.
        let depth = 0;
        let escapes = false;
        for (const p of parts) {
          if (p === '..') depth--;
          else if (p !== '.' && p !== '') depth++;
          if (depth < 0) escapes = true;
        }
        if (escapes) return d === E.PATH_INVALID;
        const expected = reference === '/' ? '/' : reference.replace(/\/$/, '');
        return typeof d !== 'number' && `/${d.segments.join('/')}` === expected;
      }),
    );
  });
});

describe('percentDecode', () => {
  it('decodes once, as UTF-8', () => {
    expect(percentDecode('%41%62')).toBe('Ab');
    expect(percentDecode('%25')).toBe('%');
    expect(percentDecode('%e2%82%ac')).toBe('€');
  });
  it('refuses overlong UTF-8 and lone continuation bytes', () => {
    expect(percentDecode('%c0%af')).toBeNull();
    expect(percentDecode('%80')).toBeNull();
  });
});
