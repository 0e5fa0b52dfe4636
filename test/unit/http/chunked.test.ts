// The chunked-body skipper: where a body ends, at every split point, and what it refuses.

import { describe, expect, it } from '@jest/globals';
import { ChunkedDecoder, MAX_CHUNK_LINE_BYTES } from '../../../src/http/chunked';
import { E } from '../../../src/http/errors';

/** Feeds `raw` in two packets split at `split`; returns bytes used and done, or the error. */
function feed(raw: string, split: number, maxBody = 1 << 20): { used: number; done: boolean } | number {
  const buf = Buffer.from(raw, 'latin1');
  const d = new ChunkedDecoder(maxBody, 64);
  let used = 0;
  const packets: Array<[number, number]> = [
    [0, split],
    [split, buf.length],
  ];
  for (const [s, e] of packets) {
    if (d.done) break;
    const r = d.feed(buf, s, e);
    if (r < 0) return r;
    used += r;
  }
  return { used, done: d.done };
}

const valid: Array<[string, string, number]> = [
  ['one chunk', 'a\r\n0123456789\r\n0\r\n\r\n', 20],
  ['upper-case hex and two chunks', '5\r\nhello\r\nA\r\n0123456789\r\n000\r\n\r\n', 32],
  ['extensions, token and quoted', '5;a=b;c="d \\" e"\r\nhello\r\n0;z\r\n\r\n', 32],
  ['trailer fields', '1\r\nx\r\n0\r\nVary: *\r\nX-T: 1\r\n\r\n', 28],
  ['stops at the end of the body', '1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n', 11],
];

const invalid: Array<[string, string, number]> = [
  ['no size', '\r\nx\r\n0\r\n\r\n', E.CHUNK_INVALID],
  ['space after size', 'a \r\n0123456789\r\n0\r\n\r\n', E.CHUNK_INVALID],
  ['empty extension', '2;\r\naa\r\n0\r\n\r\n', E.CHUNK_INVALID],
  ['unterminated quoted extension', '5;a="b\r\nhello\r\n0\r\n\r\n', E.CHUNK_INVALID],
  ['bare LF after size', '1\nx\r\n0\r\n\r\n', E.CHUNK_INVALID],
  ['data longer than the size', '5\r\nABCDE0\r\n', E.CHUNK_INVALID],
  ['missing CRLF after data', '3\r\nfoo\r\n\r\n', E.CHUNK_INVALID],
  ['size overflow', '11111111111111111\r\n', E.CHUNK_INVALID],
  ['non-hex size', 'g\r\n', E.CHUNK_INVALID],
  ['bad trailer line', '0\r\n: x\r\n\r\n', E.CHUNK_INVALID],
];

describe('ChunkedDecoder', () => {
  it.each(valid)('%s: ends at the right byte for every split', (_name, raw, end) => {
    for (let split = 0; split <= raw.length; split++) expect(feed(raw, split)).toEqual({ used: end, done: true });
  });

  it.each(invalid)('%s: is refused for every split', (_name, raw, code) => {
    for (let split = 0; split <= raw.length; split++) expect(feed(raw, split)).toBe(code);
  });

  it('waits for more when the body is incomplete', () => {
    expect(feed('5\r\nhel', 2)).toEqual({ used: 6, done: false });
  });

  it('refuses a body larger than the limit', () => {
    expect(feed('10\r\n', 1, 15)).toBe(E.BODY_TOO_LARGE);
    expect(feed('8\r\n12345678\r\n8\r\n', 1, 15)).toBe(E.BODY_TOO_LARGE);
  });

  it('counts every byte of the body towards the limit: framing and extensions too', () => {
    const tiny = '1\r\nx\r\n'.repeat(10) + '0\r\n\r\n'; // 10 data bytes, 65 in all
    expect(feed(tiny, 3, 64)).toBe(E.BODY_TOO_LARGE);
    expect(feed(tiny, 3, 65)).toEqual({ used: 65, done: true });
    const extended = `1;${'e'.repeat(100)}\r\nx\r\n0\r\n\r\n`;
    expect(feed(extended, 50, 100)).toBe(E.BODY_TOO_LARGE);
  });

  it('refuses a chunk line over MAX_CHUNK_LINE_BYTES, at every split, without reading on', () => {
    const raw = `1;${'a'.repeat(MAX_CHUNK_LINE_BYTES)}\r\nx\r\n0\r\n\r\n`;
    for (let split = 0; split <= raw.length; split += 97) expect(feed(raw, split)).toBe(E.CHUNK_LINE_TOO_LONG);
    const d = new ChunkedDecoder(1 << 30, 64);
    const flood = Buffer.alloc(1 << 20, 'a');
    expect(d.feed(Buffer.from('1;'), 0, 2)).toBe(2);
    expect(d.feed(flood, 0, flood.length)).toBe(E.CHUNK_LINE_TOO_LONG);
    const ok = `1;${'a'.repeat(MAX_CHUNK_LINE_BYTES - 2)}\r\nx\r\n0\r\n\r\n`;
    expect(feed(ok, 7)).toEqual({ used: ok.length, done: true });
  });

  it('refuses a trailer section larger than the limit', () => {
    expect(feed(`0\r\nX: ${'v'.repeat(100)}\r\n\r\n`, 3)).toBe(E.HEADERS_TOO_LARGE);
  });
});
