// Property tests: random bytes and mutated valid requests never make the parser throw or hang,
// every input ends in a head or an error (never "need more" once the limits are passed), and
// the answer never depends on how the bytes were split.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { errorInfo } from '../../../src/http/errors';
import { emptyHead, NEED_MORE, parseRequestHead, type ParseLimits } from '../../../src/http/parser';
import { emptyFraming, interpretHead } from '../../../src/http/request';

const LIMITS: ParseLimits = { maxUriBytes: 128, maxHeaderBytes: 512, maxHeaders: 16 };
const VALID = [
  'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'HEAD /a/b.css?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nConnection: close\r\n\r\n',
  'GET /index.html HTTP/1.0\r\nUser-Agent: t\r\n\r\n',
  'POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
  'GET /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
];
const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xff, 0x2f, 0x25, 0x2e];

/** One valid request with a few bytes inserted, deleted or replaced. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }))), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([base, edits]) => {
    const bytes = [...Buffer.from(base, 'latin1')];
    for (const [op, at, byte] of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'insert') bytes.splice(i, 0, byte);
      else if (op === 'delete') bytes.splice(i, 1);
      else bytes[Math.min(i, bytes.length - 1)] = byte;
    }
    return Buffer.from(bytes);
  });

const randomBytes = fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a));

function outcome(buf: Buffer): number {
  const head = emptyHead();
  const r = parseRequestHead(buf, 0, buf.length, LIMITS, head);
  if (r <= 0) return r;
  const framing = emptyFraming();
  return interpretHead(head, framing) || r;
}

describe('parser properties', () => {
  it.each([
    ['mutated valid requests', mutated],
    ['random bytes', randomBytes],
  ])('%s: never throw, stay within the input, and do not depend on the split', (_name, input) => {
    fc.assert(
      fc.property(input, fc.nat(), (buf, splitSeed) => {
        const whole = outcome(buf);
        expect(whole).toBeLessThanOrEqual(buf.length);
        if (whole < 0) expect([400, 414, 431, 501, 505]).toContain(errorInfo(whole).status);
        // Fed in two packets, the first answer that is not NEED_MORE is the same.
        const split = buf.length === 0 ? 0 : splitSeed % buf.length;
        const first = outcome(buf.subarray(0, split));
        if (first !== NEED_MORE && first < 0) expect(first).toBe(whole);
      }),
      { numRuns: 3000 },
    );
  });

  it('any input longer than the limits allow ends in a verdict, never NEED_MORE', () => {
    const longest = LIMITS.maxUriBytes + LIMITS.maxHeaderBytes + 64;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: longest, maxLength: longest + 200 }), (a) => {
        expect(outcome(Buffer.from(a))).not.toBe(NEED_MORE);
      }),
      { numRuns: 1000 },
    );
  });

  it('an unmutated valid request always parses', () => {
    for (const v of VALID) expect(outcome(Buffer.from(v, 'latin1'))).toBeGreaterThan(0);
  });
});
