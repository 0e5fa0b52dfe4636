// Accept-Encoding negotiation with q-values, and "accepts HTML".

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { acceptsHtml, chooseEncoding, encodingProfile, mentions, parseQ, type Encoding } from '../../../src/http/negotiate';

const BOTH: Encoding[] = ['br', 'gzip'];

describe('chooseEncoding', () => {
  it.each<[string | undefined, Encoding[], Encoding | null]>([
    [undefined, BOTH, 'identity'],
    ['', BOTH, 'identity'],
    ['gzip, deflate, br', BOTH, 'br'],
    ['gzip', BOTH, 'gzip'],
    ['br;q=0.5, gzip', BOTH, 'gzip'],
    ['br;q=0, gzip;q=0', BOTH, 'identity'],
    ['*', BOTH, 'br'],
    ['*;q=0.5, identity', BOTH, 'identity'],
    ['gzip, identity;q=0', ['br'], null],
    ['identity;q=0, *;q=0', BOTH, null],
    ['gzip;q=0.8, identity;q=0', ['gzip'], 'gzip'],
    ['br', [], 'identity'],
    ['x-gzip', BOTH, 'gzip'],
    ['BR', BOTH, 'br'],
    ['br;q=1.5', BOTH, 'identity'],
    // zstd: preferred to gzip on a tie, after br; chosen by q-value like the others.
    ['gzip, zstd', ['zstd', 'gzip'], 'zstd'],
    ['gzip, zstd, br', ['br', 'zstd', 'gzip'], 'br'],
    ['zstd;q=0.9, gzip', ['zstd', 'gzip'], 'gzip'],
    ['zstd', ['br', 'gzip'], 'identity'],
    ['*', ['zstd', 'gzip'], 'zstd'],
    ['ZSTD', ['zstd'], 'zstd'],
  ])('%j with %j → %s', (header, available, expected) => {
    expect(chooseEncoding(header, available)).toBe(expected);
  });
});

describe('acceptsHtml', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, true],
    ['text/html,application/xhtml+xml,*/*;q=0.8', true],
    ['*/*', true],
    ['text/*', true],
    ['application/json', false],
    ['image/avif,image/webp', false],
    ['text/html;q=0', false],
  ])('%j → %s', (accept, expected) => expect(acceptsHtml(accept)).toBe(expected));
});

describe('parseQ', () => {
  it.each<[string, number]>([
    ['1', 1],
    ['1.000', 1],
    ['0', 0],
    ['0.5', 0.5],
    ['0.001', 0.001],
    [' 0.8 ', 0.8],
    ['1.', 1], // "1" [ "." 0*3("0") ]: the dot alone is allowed
  ])('reads %j as %d', (v, q) => expect(parseQ(v)).toBe(q));
  it.each(['0x1', '1e0', '.5', '2', '1.5', '0.0001', '', '-0', 'NaN', 'Infinity'])('refuses %j', (v) => {
    expect(parseQ(v)).toBeNaN();
  });
  it('takes a malformed q as 0 in both headers it reads', () => {
    expect(chooseEncoding('gzip;q=0x1', ['gzip'])).toBe('identity');
    expect(acceptsHtml('text/html;q=0x1')).toBe(false);
    expect(acceptsHtml('text/html;q=0.1')).toBe(true);
  });
});

describe('encodingProfile', () => {
  const coding = fc.constantFrom('br', 'gzip', 'x-gzip', 'identity', '*', 'deflate', 'zstd', 'x-br', 'gzipfoo', 'BR', 'Gzip');
  const q = fc.option(fc.constantFrom('0', '0.5', '1', '0.001', 'x', ''), { nil: undefined });
  const header = fc.array(fc.tuple(coding, q), { maxLength: 5 }).map((parts) => parts.map(([c, v]) => (v === undefined ? c : `${c};q=${v}`)).join(', '));
  const all: Encoding[] = ['br', 'zstd', 'gzip'];
  const subsets: Encoding[][] = Array.from({ length: 8 }, (_, bits) => all.filter((_c, i) => (bits >> i) & 1));

  it('keys headers that negotiation treats alike to one profile, and apart those it does not', () => {
    fc.assert(
      fc.property(header, header, (a, b) => {
        const same = subsets.every((avail) => chooseEncoding(a, avail) === chooseEncoding(b, avail));
        const mentionsAlike = (['br', 'zstd', 'gzip'] as const).every((c) => mentions(a, c) === mentions(b, c));
        if (encodingProfile(a) === encodingProfile(b)) expect(same && mentionsAlike).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('has few values whatever the q-values: a client cannot make one file into many keys', () => {
    const profiles = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      profiles.add(encodingProfile(`gzip;q=0.${String(i).padStart(3, '0')}`));
      profiles.add(encodingProfile(`br;q=0.${i}, gzip;q=0.${999 - i}, identity;q=0.5, x-${i}`));
    }
    expect(profiles.size).toBeLessThanOrEqual(8);
  });

  it('reads names, not substrings', () => {
    expect(mentions('x-br, gzipfoo', 'br')).toBe(false);
    expect(mentions('x-br, gzipfoo', 'gzip')).toBe(false);
    expect(mentions('x-gzip', 'gzip')).toBe(true);
    expect(mentions('*;q=0', 'br')).toBe(true);
    expect(encodingProfile('gzip, deflate, br, x-zstd')).toBe(encodingProfile('br;q=1, gzip'));
    expect(encodingProfile('gzip, br, zstd')).not.toBe(encodingProfile('br, gzip'));
  });
});
