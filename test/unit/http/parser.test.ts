// The request-head parser from a table of named cases, each fed whole, split at every byte, and byte by byte.

import { describe, expect, it } from '@jest/globals';
import { E } from '../../../src/http/errors';
import { emptyHead, NEED_MORE, parseRequestHead, type ParseLimits, type RequestHead } from '../../../src/http/parser';

const LIMITS: ParseLimits = { maxUriBytes: 64, maxHeaderBytes: 256, maxHeaders: 8 };

interface Parsed {
  method: string;
  target: string;
  minor: number;
  fields: Array<[string, string]>;
  /** Bytes consumed, when less than the whole input (pipelined data follows). */
  consumed?: number;
}

type Expect = Parsed | number;

const cases: Array<[string, string, Expect]> = [
  ['simple GET', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { method: 'GET', target: '/', minor: 1, fields: [['host', 'a']] }],
  ['HTTP/1.0 without fields', 'GET /x HTTP/1.0\r\n\r\n', { method: 'GET', target: '/x', minor: 0, fields: [] }],
  ['higher minor version is accepted as such', 'GET / HTTP/1.7\r\n\r\n', { method: 'GET', target: '/', minor: 7, fields: [] }],
  [
    'names lower-cased, values trimmed of OWS',
    'HEAD /a?b=c HTTP/1.1\r\nHoSt:\t  ex.com \t\r\nX-Y:z\r\n\r\n',
    {
      method: 'HEAD',
      target: '/a?b=c',
      minor: 1,
      fields: [
        ['host', 'ex.com'],
        ['x-y', 'z'],
      ],
    },
  ],
  [
    'empty value',
    'GET / HTTP/1.1\r\nX-Empty:\r\nHost: a\r\n\r\n',
    {
      method: 'GET',
      target: '/',
      minor: 1,
      fields: [
        ['x-empty', ''],
        ['host', 'a'],
      ],
    },
  ],
  ['inner whitespace kept', 'GET / HTTP/1.1\r\nUser-Agent: a  b\tc\r\n\r\n', { method: 'GET', target: '/', minor: 1, fields: [['user-agent', 'a  b\tc']] }],
  ['obs-text in a value', 'GET / HTTP/1.1\r\nX: D\xfcsseldorf\r\n\r\n', { method: 'GET', target: '/', minor: 1, fields: [['x', 'D\xfcsseldorf']] }],
  ['one leading empty line is skipped', '\r\nGET / HTTP/1.1\r\n\r\n', { method: 'GET', target: '/', minor: 1, fields: [] }],
  ['absolute-form target', 'GET http://h.example/p HTTP/1.1\r\n\r\n', { method: 'GET', target: 'http://h.example/p', minor: 1, fields: [] }],
  ['asterisk-form target', 'OPTIONS * HTTP/1.1\r\n\r\n', { method: 'OPTIONS', target: '*', minor: 1, fields: [] }],
  ['unknown but valid method token', 'M-SEARCH * HTTP/1.1\r\n\r\n', { method: 'M-SEARCH', target: '*', minor: 1, fields: [] }],
  [
    'pipelined: consumes only the first head',
    'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n',
    { method: 'GET', target: '/1', minor: 1, fields: [], consumed: 19 },
  ],
  [
    'body bytes are not consumed',
    'POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc',
    { method: 'POST', target: '/', minor: 1, fields: [['content-length', '3']], consumed: 38 },
  ],
  ['quotes and pipes in target', 'GET /a"b|c HTTP/1.1\r\n\r\n', { method: 'GET', target: '/a"b|c', minor: 1, fields: [] }],

  ['lower-case version name', 'GET / http/1.1\r\n\r\n', E.VERSION],
  ['missing version', 'GET /\r\n\r\n', E.TARGET],
  ['two spaces after method', 'GET  / HTTP/1.1\r\n\r\n', E.TARGET],
  ['space inside target', 'GET /a b HTTP/1.1\r\n\r\n', E.VERSION],
  ['tab as separator', 'GET\t/ HTTP/1.1\r\n\r\n', E.METHOD],
  ['method with a bad byte', 'G@T / HTTP/1.1\r\n\r\n', E.METHOD],
  ['empty method', ' / HTTP/1.1\r\n\r\n', E.METHOD],
  ['method too long', `${'A'.repeat(40)} / HTTP/1.1\r\n\r\n`, E.METHOD],
  ['NUL in target', 'GET /\x00 HTTP/1.1\r\n\r\n', E.TARGET],
  ['raw non-ASCII in target', 'GET /\xce\xb4 HTTP/1.1\r\n\r\n', E.TARGET],
  ['target over the limit', `GET /${'a'.repeat(64)} HTTP/1.1\r\n\r\n`, E.URI_TOO_LONG],
  ['target at the limit', `GET /${'a'.repeat(63)} HTTP/1.1\r\n\r\n`, { method: 'GET', target: `/${'a'.repeat(63)}`, minor: 1, fields: [] }],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', E.VERSION_UNSUPPORTED],
  ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', E.VERSION_UNSUPPORTED],
  ['two-digit minor', 'GET / HTTP/1.10\r\n\r\n', E.VERSION],
  ['trailing space after version', 'GET / HTTP/1.1 \r\n\r\n', E.VERSION],
  ['bare LF after request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', E.LINE_ENDING],
  ['bare CR after request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n', E.LINE_ENDING],
  ['bare LF ending a field', 'GET / HTTP/1.1\r\nHost: a\n\r\n', E.LINE_ENDING],
  ['bare CR inside a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', E.LINE_ENDING],
  ['bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n', E.LINE_ENDING],
  ['CR not followed by LF at head end', 'GET / HTTP/1.1\r\nHost: a\r\n\rX', E.LINE_ENDING],
  ['NUL in a value', 'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n', E.HEADER_VALUE],
  ['form feed in a value', 'GET / HTTP/1.1\r\nX: a\x0cb\r\n\r\n', E.HEADER_VALUE],
  ['DEL in a value', 'GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n', E.HEADER_VALUE],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', E.HEADER_NAME],
  ['empty field name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', E.HEADER_NAME],
  ['field without colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', E.HEADER_NAME],
  ['bad byte in field name', 'GET / HTTP/1.1\r\nFo@: a\r\n\r\n', E.HEADER_NAME],
  ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n', E.OBS_FOLD],
  ['whitespace before the first field', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', E.OBS_FOLD],
  ['too many fields', `GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(9)}\r\n`, E.TOO_MANY_HEADERS],
  [
    'exactly the most fields',
    `GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(8)}\r\n`,
    { method: 'GET', target: '/', minor: 1, fields: Array.from({ length: 8 }, (): [string, string] => ['x', '1']) },
  ],
  ['header section over the limit', `GET / HTTP/1.1\r\nX: ${'v'.repeat(260)}\r\n\r\n`, E.HEADERS_TOO_LARGE],
  ['many leading empty lines', `${'\r\n'.repeat(6)}GET / HTTP/1.1\r\n\r\n`, E.LEADING_EMPTY_LINES],
  ['bare LF as a leading empty line', '\nGET / HTTP/1.1\r\n\r\n', E.LINE_ENDING],
  [
    'Content-Length of 15 digits',
    'POST / HTTP/1.1\r\ncontent-LENGTH: 000000000000001\r\n\r\n',
    { method: 'POST', target: '/', minor: 1, fields: [['content-length', '000000000000001']] },
  ],
  [
    'Content-Length lookalike name',
    'GET / HTTP/1.1\r\nContent-Lengths: x\r\n\r\n',
    { method: 'GET', target: '/', minor: 1, fields: [['content-lengths', 'x']] },
  ],
];

/**
 * Framing errors found at the Content-Length line itself: the head is not complete (no final
 * CRLF, more fields could follow), yet the answer is already the error, as llhttp gives it.
 */
const earlyLength: Array<[string, string, number]> = [
  ['repeated Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n', E.CONTENT_LENGTH_DUPLICATE],
  ['Content-Length that overflows', `POST / HTTP/1.1\r\nContent-Length: ${'9'.repeat(16)}\r\n`, E.CONTENT_LENGTH_INVALID],
  ['Content-Length with a sign', 'POST / HTTP/1.1\r\nContent-Length: +1\r\n', E.CONTENT_LENGTH_INVALID],
  ['Content-Length list', 'POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n', E.CONTENT_LENGTH_INVALID],
  ['empty Content-Length', 'POST / HTTP/1.1\r\ncontent-length:\r\n', E.CONTENT_LENGTH_INVALID],
  ['hex Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 0x1\r\n', E.CONTENT_LENGTH_INVALID],
];
cases.push(...earlyLength.map(([name, raw, code]): [string, string, Expect] => [`${name}, head complete`, `${raw}Host: a\r\n\r\n`, code]));

function run(bytes: Buffer, limits = LIMITS): { r: number; head: RequestHead } {
  const head = emptyHead();
  return { r: parseRequestHead(bytes, 0, bytes.length, limits, head), head };
}

function check(expected: Expect, r: number, head: RequestHead, total: number): void {
  if (typeof expected === 'number') {
    expect(r).toBe(expected);
    return;
  }
  expect(r).toBe(expected.consumed ?? total);
  expect({ method: head.method, target: head.target, minor: head.versionMinor }).toEqual({
    method: expected.method,
    target: expected.target,
    minor: expected.minor,
  });
  expect(head.names.map((n, i) => [n, head.values[i]])).toEqual(expected.fields);
}

describe('parseRequestHead', () => {
  describe.each(cases)('%s', (_name, raw, expected) => {
    const bytes = Buffer.from(raw, 'latin1');

    it('parses the whole input', () => {
      const { r, head } = run(bytes);
      check(expected, r, head, bytes.length);
    });

    it('gives the same answer when split at every byte, as a connection re-offers it', () => {
      for (let split = 0; split < bytes.length; split++) {
        // Two packets, as the connection holds them: the first in a buffer of its own, then both
        // joined into a new buffer after bytes already consumed (so `start` is not 0).
        const first = Buffer.from(bytes.subarray(0, split));
        const prefixHead = emptyHead();
        const prefix = parseRequestHead(first, 0, first.length, LIMITS, prefixHead);
        // A prefix is either a valid beginning (NEED_MORE) or already the same error.
        if (typeof expected === 'number') expect([NEED_MORE, expected]).toContain(prefix);
        else if (split < (expected.consumed ?? bytes.length)) expect(prefix).toBe(NEED_MORE);
        const consumed = Buffer.from('GET /before HTTP/1.1\r\n\r\n', 'latin1');
        const joined = Buffer.concat([consumed, first, bytes.subarray(split)]);
        const r = parseRequestHead(joined, consumed.length, joined.length, LIMITS, prefixHead);
        check(expected, r, prefixHead, bytes.length);
      }
    });

    it('reaches the answer when fed one byte at a time', () => {
      let first = NEED_MORE;
      let at = 1;
      const head = emptyHead();
      for (; at <= bytes.length && first === NEED_MORE; at++) {
        first = parseRequestHead(bytes, 0, at, LIMITS, head);
      }
      expect(first).not.toBe(NEED_MORE);
      check(expected, first, head, at - 1);
    });
  });

  it.each(earlyLength)('refuses a %s as soon as its line ends, before the head does', (_name, raw, code) => {
    const bytes = Buffer.from(raw, 'latin1');
    expect(run(bytes).r).toBe(code);
    expect(run(bytes.subarray(0, bytes.length - 1)).r).toBe(NEED_MORE);
  });

  it('returns NEED_MORE for an empty buffer and for a lone CR', () => {
    expect(run(Buffer.alloc(0)).r).toBe(NEED_MORE);
    expect(run(Buffer.from('\r')).r).toBe(NEED_MORE);
  });

  it('parses at an offset inside a larger buffer', () => {
    const buf = Buffer.from('xxxxGET /o HTTP/1.1\r\n\r\nyy', 'latin1');
    const head = emptyHead();
    expect(parseRequestHead(buf, 4, buf.length - 2, LIMITS, head)).toBe(19);
    expect(head.target).toBe('/o');
  });

  it('handles more fields than its initial offset table holds', () => {
    const many = Buffer.from(`GET / HTTP/1.1\r\n${'A: b\r\n'.repeat(300)}\r\n`, 'latin1');
    const { r, head } = run(many, { maxUriBytes: 64, maxHeaderBytes: 4096, maxHeaders: 500 });
    expect(r).toBe(many.length);
    expect(head.names).toHaveLength(300);
  });

  it('reuses the head object without keeping fields of an earlier request', () => {
    const head = emptyHead();
    const a = Buffer.from('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n');
    const b = Buffer.from('GET /b HTTP/1.1\r\nC: 3\r\n\r\n');
    parseRequestHead(a, 0, a.length, LIMITS, head);
    parseRequestHead(b, 0, b.length, LIMITS, head);
    expect(head.names).toEqual(['c']);
    expect(head.values).toEqual(['3']);
  });
});
