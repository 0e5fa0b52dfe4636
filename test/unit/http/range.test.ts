// Range parsing (RFC 9110 §14.1.1): spans, suffixes, coalescing, and the two sentinels.

import { describe, expect, it } from '@jest/globals';
import { parseRange, RANGE_MALFORMED, RANGE_UNSATISFIABLE } from '../../../src/http/range';

describe('parseRange (size 1000, at most 5 ranges)', () => {
  it.each<[string, Array<[number, number]> | number]>([
    ['bytes=0-99', [[0, 99]]],
    ['bytes=900-', [[900, 999]]],
    ['bytes=-100', [[900, 999]]],
    ['bytes=-5000', [[0, 999]]],
    ['bytes=990-5000', [[990, 999]]],
    ['Bytes = 0-0', [[0, 0]]],
    [
      'bytes=0-1, 5-6',
      [
        [0, 1],
        [5, 6],
      ],
    ],
    [
      'bytes=5-6,0-1',
      [
        [0, 1],
        [5, 6],
      ],
    ],
    ['bytes=0-10,5-20', [[0, 20]]],
    ['bytes=0-10,11-20', [[0, 20]]],
    [
      'bytes=0-1,,3-4',
      [
        [0, 1],
        [3, 4],
      ],
    ],
    ['bytes=0-1,2000-3000', [[0, 1]]],
    ['bytes=1000-', RANGE_UNSATISFIABLE],
    ['bytes=1000-2000', RANGE_UNSATISFIABLE],
    ['bytes=-0', RANGE_UNSATISFIABLE],
    ['bytes=5-1', RANGE_MALFORMED],
    ['bytes=a-b', RANGE_MALFORMED],
    ['bytes=1', RANGE_MALFORMED],
    ['bytes=-', RANGE_MALFORMED],
    ['bytes=', RANGE_MALFORMED],
    ['bytes=+1-2', RANGE_MALFORMED],
    ['items=0-1', RANGE_MALFORMED],
    ['0-1', RANGE_MALFORMED],
    ['bytes=0-1,2-3,4-5,6-7,8-9,10-11', RANGE_MALFORMED],
  ])('%s', (header, expected) => {
    expect(parseRange(header, 1000, 5)).toEqual(expected);
  });

  it('finds nothing satisfiable in an empty file', () => {
    expect(parseRange('bytes=0-', 0, 5)).toBe(RANGE_UNSATISFIABLE);
    expect(parseRange('bytes=-10', 0, 5)).toBe(RANGE_UNSATISFIABLE);
  });
});
