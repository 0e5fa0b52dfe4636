// Location values built from decoded paths: one leading slash, only URI bytes, queries kept only
// when valid, and hosts a redirect may name.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodePath, encodeSegment, redirectHost, safeQuery } from '../../../src/http/location';
import { decodeTarget, type DecodedTarget } from '../../../src/http/target';

/** Bytes a Location built by PWS may contain: RFC 3986 unreserved, sub-delims, ":", "@", "/", "?", and "%" escapes. */
const URI_BYTES = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})*$/;

describe('encodeSegment', () => {
  it.each([
    ['plain-name_1.txt', 'plain-name_1.txt'],
    ["sub-delims!$&'()*+,;=:@", "sub-delims!$&'()*+,;=:@"],
    ['a b', 'a%20b'],
    ['<b>', '%3Cb%3E'],
    ['"q"', '%22q%22'],
    ['100%', '100%25'],
    ['a?b#c', 'a%3Fb%23c'],
    ['back\\slash', 'back%5Cslash'],
    ['ünï', '%C3%BCn%C3%AF'],
    ['\u{1F600}', '%F0%9F%98%80'],
  ])('%s → %s', (segment, encoded) => {
    expect(encodeSegment(segment)).toBe(encoded);
  });
});

describe('encodePath', () => {
  it('starts with exactly one slash and re-encodes every segment', () => {
    expect(encodePath([], true)).toBe('/');
    expect(encodePath(['sub'], true)).toBe('/sub/');
    expect(encodePath(['evil.example', 'x'], false)).toBe('/evil.example/x');
    expect(encodePath(['', 'x'].filter(Boolean), true)).toBe('/x/');
  });

  it('round-trips through decodeTarget for any segments, and never leaves a byte that needs encoding', () => {
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => s !== '.' && s !== '..' && !/[\u0000-\u001f\u007f\\]/.test(s));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.boolean(), (segments, slash) => {
        const path = encodePath(segments, slash);
        expect(path).toMatch(URI_BYTES);
        expect(path.startsWith('//')).toBe(false);
        const back = decodeTarget(path) as DecodedTarget;
        // A "/" inside a segment is encoded, but decodes as a separator: compare the joined path.
        expect(back.segments.join('/')).toBe(segments.join('/').split('/').filter(Boolean).join('/'));
      }),
    );
  });
});

describe('safeQuery', () => {
  it.each([
    ['', ''],
    ['?', ''],
    ['?a=1&b=2', '?a=1&b=2'],
    ['?path=/x/y?z', '?path=/x/y?z'],
    ['?q=%20%7E', '?q=%20%7E'],
    ['?<script>', ''],
    ['?a="b"', ''],
    ['?a=%zz', ''],
    ['?a=%2', ''],
    ['?a|b', ''],
    ['?a{b}', ''],
    ['?a^b', ''],
    ['?a`b', ''],
    ['?a\\b', ''],
    ['?caf\u00e9', ''],
  ])('%j → %j', (query, kept) => {
    expect(safeQuery(query)).toBe(kept);
  });
});

describe('redirectHost', () => {
  it.each([
    ['pws.test', 'pws.test'],
    ['pws.test:8443', 'pws.test'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]:9000', '[::1]'],
    ['[2001:db8::1]', '[2001:db8::1]'],
    ['localhost', 'localhost'],
    ['', null],
    ['user@evil.example', null],
    ['evil.example%2f', null],
    ['a..b', null],
    ['-a', null],
    ['a:b', null],
    ['a:123456', null],
    ['[::1', null],
    ['[evil.example]', null],
    ['ex ample', null],
    ['a/b', null],
    ['a\\b', null],
    ["a'b", null],
  ])('%j → %j', (authority, host) => {
    expect(redirectHost(authority)).toBe(host);
  });
});
