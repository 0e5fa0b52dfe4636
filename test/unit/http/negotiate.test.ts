// Accept-Encoding negotiation with q-values, and "accepts HTML".

import { describe, expect, it } from '@jest/globals';
import { acceptsHtml, chooseEncoding, type Encoding } from '../../../src/http/negotiate';

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
