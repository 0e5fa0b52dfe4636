// RareWarning: every occurrence counted, at most one line a minute.

import { describe, expect, it, jest } from '@jest/globals';
import { log, RareWarning } from '../../src/log';

describe('RareWarning', () => {
  it('writes the first occurrence, then at most one line a minute, each with the count so far', () => {
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    const clock = jest.spyOn(Date, 'now');
    try {
      const w = new RareWarning();
      for (const t of [1000, 2000, 60_999, 61_000, 61_001]) {
        clock.mockReturnValue(t);
        w.note((n) => `seen ${n}`);
      }
      expect(w.count).toBe(5);
      expect(warn.mock.calls).toEqual([['seen 1'], ['seen 4']]);
    } finally {
      warn.mockRestore();
      clock.mockRestore();
    }
  });
});
