// Response heads and the Date value.

import { describe, expect, it } from '@jest/globals';
import { httpDate } from '../../../src/http/date';
import { responseHead } from '../../../src/http/head';
import { reason } from '../../../src/http/status';

describe('responseHead', () => {
  it('writes the status line, the fields in order and the blank line', () => {
    expect(
      responseHead(404, [
        ['Content-Type', 'text/plain'],
        ['Content-Length', 0],
      ]).toString('latin1'),
    ).toBe('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n');
  });
  it('keeps an empty reason phrase for a status without one', () => {
    expect(responseHead(299, []).toString('latin1')).toBe('HTTP/1.1 299 \r\n\r\n');
  });
  it('knows the reason phrases PWS sends', () => {
    for (const s of [200, 301, 400, 404, 405, 408, 413, 414, 431, 500, 501, 505]) expect(reason(s)).not.toBe('');
  });
});

describe('httpDate', () => {
  it('formats IMF-fixdate (RFC 9110 §5.6.7)', () => {
    expect(httpDate(Date.UTC(1994, 10, 6, 8, 49, 37, 500))).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });
  it('changes only when the second changes', () => {
    const t = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(httpDate(t + 10)).toBe(httpDate(t + 990));
    expect(httpDate(t + 1000)).not.toBe(httpDate(t));
  });
});
