// Preconditions (RFC 9110 §13): dates in all three formats, entity-tag lists, and the evaluation order.

import { describe, expect, it } from '@jest/globals';
import { evaluatePreconditions, ifRangeAllows, NOT_MODIFIED, parseEtagList, parseHttpDate, PRECONDITION_FAILED, PROCEED } from '../../../src/http/conditional';

const T = Date.UTC(1994, 10, 6, 8, 49, 37);
const V = { etag: '"abc"', lastModified: T + 400 };
const NOW = Date.UTC(2030, 0, 1);
const lookup =
  (fields: Record<string, string>) =>
  (name: string): string | undefined =>
    fields[name];
const evaluate = (fields: Record<string, string>): number => evaluatePreconditions(lookup(fields), V, NOW);

describe('parseHttpDate', () => {
  it('reads IMF-fixdate, RFC 850 and asctime to the same instant', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(T);
  });
  it.each([
    '',
    'yesterday',
    '06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 25:49:37 GMT',
  ])('refuses %j', (value) => expect(parseHttpDate(value)).toBeNaN());
});

describe('parseEtagList', () => {
  it('splits strong and weak tags, with odd spacing and empty members', () => {
    expect(parseEtagList('"a", W/"b" ,,"c,d"')).toEqual(['"a"', 'W/"b"', '"c,d"']);
  });
  it.each(['a', '"a', '"a" "b"', 'W/a'])('refuses %j', (value) => expect(parseEtagList(value)).toBeNull());
});

describe('evaluatePreconditions (§13.2.2 order)', () => {
  it.each<[string, Record<string, string>, number]>([
    ['no conditions', {}, PROCEED],
    ['If-None-Match matches', { 'if-none-match': '"abc"' }, NOT_MODIFIED],
    ['If-None-Match weak comparison', { 'if-none-match': 'W/"abc"' }, NOT_MODIFIED],
    ['If-None-Match in a list', { 'if-none-match': '"x", "abc"' }, NOT_MODIFIED],
    ['If-None-Match *', { 'if-none-match': '*' }, NOT_MODIFIED],
    ['If-None-Match differs', { 'if-none-match': '"x"' }, PROCEED],
    ['If-Modified-Since equal (same second)', { 'if-modified-since': 'Sun, 06 Nov 1994 08:49:37 GMT' }, NOT_MODIFIED],
    ['If-Modified-Since later', { 'if-modified-since': 'Mon, 07 Nov 1994 08:49:37 GMT' }, NOT_MODIFIED],
    ['If-Modified-Since earlier', { 'if-modified-since': 'Sat, 05 Nov 1994 08:49:37 GMT' }, PROCEED],
    ['If-Modified-Since unparseable', { 'if-modified-since': 'garbage' }, PROCEED],
    ['If-Modified-Since in the future is invalid', { 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' }, PROCEED],
    ['If-None-Match wins over If-Modified-Since', { 'if-none-match': '"x"', 'if-modified-since': 'Mon, 07 Nov 1994 08:49:37 GMT' }, PROCEED],
    ['If-Match matches', { 'if-match': '"abc"' }, PROCEED],
    ['If-Match *', { 'if-match': '*' }, PROCEED],
    ['If-Match differs', { 'if-match': '"x"' }, PRECONDITION_FAILED],
    ['If-Match is a strong comparison', { 'if-match': 'W/"abc"' }, PRECONDITION_FAILED],
    ['If-Unmodified-Since earlier', { 'if-unmodified-since': 'Sat, 05 Nov 1994 08:49:37 GMT' }, PRECONDITION_FAILED],
    ['If-Unmodified-Since equal', { 'if-unmodified-since': 'Sun, 06 Nov 1994 08:49:37 GMT' }, PROCEED],
    ['If-Unmodified-Since unparseable', { 'if-unmodified-since': 'nope' }, PROCEED],
    ['If-Match wins over If-Unmodified-Since', { 'if-match': '"abc"', 'if-unmodified-since': 'Sat, 05 Nov 1994 08:49:37 GMT' }, PROCEED],
    ['412 before 304', { 'if-match': '"x"', 'if-none-match': '"abc"' }, PRECONDITION_FAILED],
  ])('%s', (_name, fields, outcome) => {
    expect(evaluate(fields)).toBe(outcome);
  });
});

describe('evaluatePreconditions against a weak validator', () => {
  const weak = { etag: 'W/"abc"', lastModified: T };
  it('takes the same tag, sent back as given, as a match for If-None-Match (weak comparison)', () => {
    expect(evaluatePreconditions(lookup({ 'if-none-match': 'W/"abc"' }), weak)).toBe(NOT_MODIFIED);
    expect(evaluatePreconditions(lookup({ 'if-none-match': '"abc"' }), weak)).toBe(NOT_MODIFIED);
  });
  it('never takes it as a match for If-Match (strong comparison), even sent back as given', () => {
    expect(evaluatePreconditions(lookup({ 'if-match': 'W/"abc"' }), weak)).toBe(PRECONDITION_FAILED);
    expect(evaluatePreconditions(lookup({ 'if-match': '"abc"' }), weak)).toBe(PRECONDITION_FAILED);
  });
});

describe('ifRangeAllows', () => {
  it.each<[string, string | undefined, boolean]>([
    ['absent', undefined, true],
    ['the same strong tag', '"abc"', true],
    ['another tag', '"x"', false],
    ['a weak tag', 'W/"abc"', false],
    ['the exact Last-Modified', 'Sun, 06 Nov 1994 08:49:37 GMT', true],
    ['an earlier date', 'Sat, 05 Nov 1994 08:49:37 GMT', false],
    ['a bad date', 'soon', false],
  ])('%s', (_name, value, allowed) => {
    expect(ifRangeAllows(lookup(value === undefined ? {} : { 'if-range': value }), V)).toBe(allowed);
  });
});
