// Validators of a file version: the ETag and Last-Modified every file reply carries.

import { describe, expect, it } from '@jest/globals';
import { etagFor, lastModifiedFor } from '../../../src/static/validators';

describe('lastModifiedFor', () => {
  it('gives the IMF-fixdate of the whole second, whatever came before', () => {
    // Files of one second, then of others, then the first again: the kept value never leaks.
    const a = Date.UTC(2026, 10, 29, 3, 49, 35, 120);
    const b = Date.UTC(1999, 0, 1, 0, 0, 0, 999);
    expect(lastModifiedFor(a)).toBe('Sun, 29 Nov 2026 03:49:35 GMT');
    expect(lastModifiedFor(a + 870)).toBe('Sun, 29 Nov 2026 03:49:35 GMT');
    expect(lastModifiedFor(a + 880)).toBe('Sun, 29 Nov 2026 03:49:36 GMT');
    expect(lastModifiedFor(b)).toBe('Fri, 01 Jan 1999 00:00:00 GMT');
    expect(lastModifiedFor(a)).toBe('Sun, 29 Nov 2026 03:49:35 GMT');
    expect(lastModifiedFor(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });
});

describe('etagFor', () => {
  it('is size and mtime in µs, in hex, with the suffix of another encoding', () => {
    expect(etagFor(1024, 1_700_000_000_123.456)).toBe(`"400-${(1_700_000_000_123_456).toString(16)}"`);
    expect(etagFor(1024, 1_700_000_000_123.456, '-br')).toBe(`"400-${(1_700_000_000_123_456).toString(16)}-br"`);
  });
});
