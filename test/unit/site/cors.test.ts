// CORS policy parsing and the fields it adds.

import { describe, expect, it } from '@jest/globals';
import { corsFields, parseCors, preflightFields } from '../../../src/site/cors';

describe('CORS', () => {
  it('allows any origin with *', () => {
    const p = parseCors('*');
    expect(corsFields(p, 'https://a.example')).toContainEqual(['Access-Control-Allow-Origin', '*']);
    expect(corsFields(p, undefined)).toContainEqual(['Access-Control-Allow-Origin', '*']);
  });

  it('echoes a listed origin, never an unlisted one, and always varies on Origin', () => {
    const p = parseCors('https://a.example, http://localhost:3000');
    expect(corsFields(p, 'https://a.example')).toEqual(
      expect.arrayContaining([
        ['Vary', 'Origin'],
        ['Access-Control-Allow-Origin', 'https://a.example'],
      ]),
    );
    expect(corsFields(p, 'http://localhost:3000')).toContainEqual(['Access-Control-Allow-Origin', 'http://localhost:3000']);
    expect(corsFields(p, 'https://evil.example')).toEqual([['Vary', 'Origin']]);
    expect(corsFields(p, undefined)).toEqual([['Vary', 'Origin']]);
  });

  it('adds nothing when off', () => expect(corsFields(null, 'https://a.example')).toEqual([]));

  it.each(['ftp://a.example', 'https://a.example/path', 'a.example', ''])('refuses %j', (value) => {
    expect(() => parseCors(value)).toThrow();
  });

  it('answers a preflight with methods, max-age and the requested headers', () => {
    expect(preflightFields('range, if-none-match')).toEqual([
      ['Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS'],
      ['Access-Control-Max-Age', '86400'],
      ['Access-Control-Allow-Headers', 'range, if-none-match'],
    ]);
    expect(preflightFields('x\r\ny')).toHaveLength(2);
  });
});
