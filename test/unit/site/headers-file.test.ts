// HEADERS_FILE parsing and matching.

import { describe, expect, it } from '@jest/globals';
import { headersFor, parseHeadersFile } from '../../../src/site/headers-file';

describe('parseHeadersFile', () => {
  const rules = parseHeadersFile(
    JSON.stringify({
      '/**': { 'Cross-Origin-Opener-Policy': 'same-origin', 'X-Frame-Options': 'DENY' },
      '*.html': { 'Content-Security-Policy': "default-src 'self'" },
      '/embed/**': { 'X-Frame-Options': 'SAMEORIGIN' },
      '/sw.js': { 'Service-Worker-Allowed': '/' },
    }),
  );

  it('applies every matching rule, later values winning', () => {
    expect(headersFor(rules, '/embed/index.html')).toEqual([
      ['Cross-Origin-Opener-Policy', 'same-origin'],
      ['X-Frame-Options', 'SAMEORIGIN'],
      ['Content-Security-Policy', "default-src 'self'"],
    ]);
    expect(headersFor(rules, '/sw.js')).toContainEqual(['Service-Worker-Allowed', '/']);
    expect(headersFor([], '/x')).toEqual([]);
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['an array', '[]', 'expected an object'],
    ['a bad header name', '{"/x": {"Bad Name": "v"}}', 'not a valid header name'],
    ['a reserved header', '{"/x": {"Content-Length": "1"}}', 'set by PWS itself'],
    ['a value with a newline', '{"/x": {"X-A": "a\\r\\nX-B: b"}}', 'without control characters'],
    ['a non-string value', '{"/x": {"X-A": 1}}', 'must be a string'],
  ])('refuses %s', (_name, json, message) => {
    expect(() => parseHeadersFile(json)).toThrow(message);
  });
});
