// Message semantics of a parsed head: Host rules, body framing, persistence (with the parser's own
// Content-Length checks in front, as in the server).

import { describe, expect, it } from '@jest/globals';
import { E } from '../../../src/http/errors';
import { emptyHead, parseRequestHead } from '../../../src/http/parser';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, emptyFraming, interpretHead, parseLength, type Framing } from '../../../src/http/request';

function interpret(raw: string): Framing | number {
  const buf = Buffer.from(raw, 'latin1');
  const head = emptyHead();
  const r = parseRequestHead(buf, 0, buf.length, { maxUriBytes: 1024, maxHeaderBytes: 4096, maxHeaders: 50 }, head);
  if (r === 0) throw new Error('test input is incomplete');
  // The parser refuses a bad Content-Length at its line already; the answer is the same code.
  if (r < 0) return r;
  const framing = emptyFraming();
  const e = interpretHead(head, framing);
  return e === 0 ? { ...framing } : e;
}

const req = (version: string, ...fields: string[]): string => `GET / HTTP/${version}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;

describe('interpretHead', () => {
  it.each<[string, string, Partial<Framing> | number]>([
    ['HTTP/1.1 defaults to keep-alive', req('1.1', 'Host: a'), { body: BODY_NONE, keepAlive: true }],
    ['HTTP/1.1 with close', req('1.1', 'Host: a', 'Connection: close'), { keepAlive: false }],
    ['close among other options', req('1.1', 'Host: a', 'Connection: foo, Close'), { keepAlive: false }],
    ['HTTP/1.0 defaults to close', req('1.0'), { keepAlive: false }],
    ['HTTP/1.0 with keep-alive', req('1.0', 'Connection: Keep-Alive'), { keepAlive: true }],
    ['HTTP/1.0 needs no Host', req('1.0'), { body: BODY_NONE }],
    ['Content-Length body', req('1.1', 'Host: a', 'Content-Length: 12'), { body: BODY_LENGTH, length: 12 }],
    ['Content-Length with leading zeros', req('1.1', 'Host: a', 'Content-Length: 003'), { body: BODY_LENGTH, length: 3 }],
    ['Content-Length: 0 is no body', req('1.1', 'Host: a', 'Content-Length: 0'), { body: BODY_NONE }],
    ['chunked body', req('1.1', 'Host: a', 'Transfer-Encoding: chunked'), { body: BODY_CHUNKED }],
    ['100-continue with a body', req('1.1', 'Host: a', 'Content-Length: 1', 'Expect: 100-continue'), { expectContinue: true }],
    ['100-continue without a body', req('1.1', 'Host: a', 'Expect: 100-continue'), { expectContinue: false }],
    ['empty Host is allowed', req('1.1', 'Host:'), { body: BODY_NONE }],
    ['Host with port and IPv6 literal', req('1.1', 'Host: [::1]:9000'), { body: BODY_NONE }],
    ['missing Host in 1.1', req('1.1'), E.HOST_MISSING],
    ['duplicate Host', req('1.1', 'Host: a', 'Host: a'), E.HOST_DUPLICATE],
    ['duplicate Host in 1.0', req('1.0', 'Host: a', 'Host: b'), E.HOST_DUPLICATE],
    ['Host with a slash', req('1.1', 'Host: a/b'), E.HOST_INVALID],
    ['Host with userinfo', req('1.1', 'Host: u@a'), E.HOST_INVALID],
    ['Content-Length not a number', req('1.1', 'Host: a', 'Content-Length: abc'), E.CONTENT_LENGTH_INVALID],
    ['negative Content-Length', req('1.1', 'Host: a', 'Content-Length: -1'), E.CONTENT_LENGTH_INVALID],
    ['Content-Length with a plus sign', req('1.1', 'Host: a', 'Content-Length: +1'), E.CONTENT_LENGTH_INVALID],
    ['Content-Length with inner space', req('1.1', 'Host: a', 'Content-Length: 4 2'), E.CONTENT_LENGTH_INVALID],
    ['Content-Length as a list', req('1.1', 'Host: a', 'Content-Length: 5, 5'), E.CONTENT_LENGTH_INVALID],
    ['empty Content-Length', req('1.1', 'Host: a', 'Content-Length:'), E.CONTENT_LENGTH_INVALID],
    ['Content-Length overflow', req('1.1', 'Host: a', 'Content-Length: 1000000000000000000000'), E.CONTENT_LENGTH_INVALID],
    ['duplicate Content-Length, same value', req('1.1', 'Host: a', 'Content-Length: 1', 'Content-Length: 1'), E.CONTENT_LENGTH_DUPLICATE],
    ['conflicting Content-Length', req('1.1', 'Host: a', 'Content-Length: 1', 'Content-Length: 2'), E.CONTENT_LENGTH_DUPLICATE],
    ['TE with CL', req('1.1', 'Host: a', 'Content-Length: 1', 'Transfer-Encoding: chunked'), E.TE_WITH_CONTENT_LENGTH],
    ['CL after TE', req('1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 1'), E.TE_WITH_CONTENT_LENGTH],
    ['TE on HTTP/1.0', req('1.0', 'Transfer-Encoding: chunked'), E.TE_INVALID],
    ['TE xchunked', req('1.1', 'Host: a', 'Transfer-Encoding: xchunked'), E.TE_INVALID],
    ['TE chunked, identity', req('1.1', 'Host: a', 'Transfer-Encoding: chunked, identity'), E.TE_INVALID],
    ['TE in odd case', req('1.1', 'Host: a', 'Transfer-Encoding: Chunked'), E.TE_INVALID],
    ['TE identity', req('1.1', 'Host: a', 'Transfer-Encoding: identity'), E.TE_INVALID],
    ['TE split over two fields, chunked first', req('1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'), E.TE_INVALID],
    ['TE gzip then chunked is not understood', req('1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'), E.TE_UNSUPPORTED],
  ])('%s', (_name, raw, expected) => {
    const got = interpret(raw);
    if (typeof expected === 'number') expect(got).toBe(expected);
    else expect(got).toMatchObject(expected);
  });
});

describe('parseLength', () => {
  it('accepts digits up to 2^53 and rejects everything else', () => {
    expect(parseLength('0')).toBe(0);
    expect(parseLength('9007199254740991')).toBe(-1); // 16 digits: over our 15-digit cap
    expect(parseLength('999999999999999')).toBe(999999999999999);
    for (const bad of ['', ' 1', '1 ', '0x10', '1e3', '١']) expect(parseLength(bad)).toBe(-1);
  });
});
