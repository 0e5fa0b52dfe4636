// The access log: line formats, and a destination that cannot keep up costs dropped lines, not
// blocked responses or unbounded memory.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/server';
import { describe, expect, it } from '@jest/globals';
import { AccessLog, clfTime, formatEntry, type AccessEntry } from '../../src/access-log';

const entry: AccessEntry = {
  remote: '127.0.0.1',
  method: 'GET',
  target: '/a b"c',
  protocol: 'HTTP/1.1',
  status: 200,
  bytes: 1234,
  referer: 'https://example.com/',
  userAgent: 'curl/8.0 "quoted"',
  start: Date.UTC(2026, 10, 27, 13, 5, 9),
  ms: 1.23456,
  worker: 2,
};

describe('formatEntry', () => {
  it('writes Combined Log Format with request time and worker id', () => {
    expect(formatEntry(entry, 'combined')).toBe(
      '127.0.0.1 - - [27/Nov/2026:13:05:09 +0000] "GET /a b\\x22c HTTP/1.1" 200 1234 "https://example.com/" "curl/8.0 \\x22quoted\\x22" 1.235 2\n',
    );
  });
  it('writes - for missing referer and user agent', () => {
    expect(formatEntry({ ...entry, referer: undefined, userAgent: undefined }, 'combined')).toContain('1234 "-" "-"');
  });
  it('writes one JSON object per line', () => {
    const line = formatEntry(entry, 'json');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      time: '2026-11-27T13:05:09.000Z',
      remote: '127.0.0.1',
      method: 'GET',
      target: '/a b"c',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 1234,
      referer: 'https://example.com/',
      userAgent: 'curl/8.0 "quoted"',
      ms: 1.235,
      worker: 2,
    });
  });
  it('formats nginx time_local in UTC', () => {
    expect(clfTime(Date.UTC(2000, 9, 10, 13, 55, 36))).toBe('10/Oct/2000:13:55:36 +0000');
  });
});

describe('AccessLog', () => {
  it('writes queued lines to its file on flushSync', () => {
    const file = path.join(tempDir('pws-log-'), 'access.log');
    const log = AccessLog.open(file, 'combined', 1 << 20);
    for (let i = 0; i < 3; i++) log.write({ ...entry, status: 200 + i });
    log.flushSync();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => /" (\d{3}) /.exec(l)?.[1])).toEqual(['200', '201', '202']);
  });

  it('drops and counts lines when the destination is stuck, never blocking and never growing past its bound', () => {
    // A FIFO nobody reads: writes fill the pipe, then the one write in flight waits forever.
    const dir = tempDir('pws-fifo-');
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const log = new AccessLog(fd, 'combined', 64 * 1024);
    // 20,000 lines (~2.5 MB) against a 64 KiB pipe and a 64 KiB queue: most must be dropped.
    // (Were write() blocking, this loop would never return and the test would time out.)
    for (let i = 0; i < 20_000; i++) log.write(entry);
    expect(log.droppedLines).toBeGreaterThan(10_000);
    expect(log.droppedLines).toBeLessThan(20_000);
    log.discard();
    fs.closeSync(fd);
  });
});
