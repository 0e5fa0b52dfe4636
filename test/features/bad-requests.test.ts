// Malformed and refused requests over a real socket: the exact status, and a close where framing is in doubt.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({
    staticDir: makeSite({ 'index.html': 'home' }),
    env: { MAX_URI_BYTES: '200', MAX_HEADER_BYTES: '1024', MAX_HEADERS: '20', MAX_BODY_BYTES: '100' },
  });
});
afterAll(async () => {
  await server.stop();
});

const NEXT = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';

// [name, request, status line, connection closed afterwards]
const cases: Array<[string, string, string, boolean]> = [
  ['bad token in method', 'G(T / HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['bare CR in a field', 'GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['bare LF line ending', 'GET / HTTP/1.1\nHost: t\n\n', 'HTTP/1.1 400 Bad Request', true],
  ['NUL in a field value', 'GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['control byte in a field value', 'GET / HTTP/1.1\r\nHost: t\r\nX: a\x01b\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : t\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n  b\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['duplicate Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['invalid Content-Length', 'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['conflicting Content-Length', 'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'HTTP/1.1 400 Bad Request', true],
  [
    'Transfer-Encoding with Content-Length',
    'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'HTTP/1.1 400 Bad Request',
    true,
  ],
  ['obfuscated Transfer-Encoding', 'GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['Transfer-Encoding on HTTP/1.0', 'GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HTTP/1.1 400 Bad Request', true],
  [
    'a coding we do not understand before chunked',
    'GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
    'HTTP/1.1 501 Not Implemented',
    true,
  ],
  ['bad chunk size', 'GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HTTP/1.1 400 Bad Request', true],
  ['body over the limit', 'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n', 'HTTP/1.1 413 Content Too Large', true],
  // MAX_BODY_BYTES is 100 here: 10 data bytes in 1-byte chunks are 10 × 6 bytes of framing more.
  [
    'chunked body whose framing passes the limit',
    `GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\nx\r\n'.repeat(20)}0\r\n\r\n`,
    'HTTP/1.1 413 Content Too Large',
    true,
  ],
  [
    'chunk extensions that pass the limit',
    `GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(120)}\r\nx\r\n0\r\n\r\n`,
    'HTTP/1.1 413 Content Too Large',
    true,
  ],
  ['authority-form target on GET', 'GET example.com:80 HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 400 Bad Request', false],
  ['asterisk-form target on GET', 'GET * HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 400 Bad Request', false],
  ['bad percent-escape', 'GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 400 Bad Request', false],
  ['encoded NUL', 'GET /index.html%00 HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 400 Bad Request', false],
  ['request line over the limit', `GET /${'a'.repeat(300)} HTTP/1.1\r\nHost: t\r\n\r\n`, 'HTTP/1.1 414 URI Too Long', true],
  ['header section over the limit', `GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(1100)}\r\n\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large', true],
  ['too many header fields', `GET / HTTP/1.1\r\nHost: t\r\n${'X: 1\r\n'.repeat(25)}\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large', true],
  ['unknown method', 'FROB / HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 501 Not Implemented', false],
  ['known method we do not serve', 'DELETE / HTTP/1.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 405 Method Not Allowed', false],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', 'HTTP/1.1 505 HTTP Version Not Supported', true],
  ['HTTP/3.1', 'GET / HTTP/3.1\r\nHost: t\r\n\r\n', 'HTTP/1.1 505 HTTP Version Not Supported', true],
];

describe('bad input gets the right status', () => {
  it.each(cases)('%s', async (_name, request, statusLine, closes) => {
    // A valid request follows: it must be answered only when the connection stays usable.
    const ex = await exchange(server.port, request + NEXT, { idleMs: 1000 });
    expect(ex.responses[0]?.statusLine).toBe(statusLine);
    expect(ex.responses[0]!.headers['content-length']).toBeDefined();
    if (closes) {
      expect(ex.responses).toHaveLength(1);
      expect(ex.responses[0]!.headers.connection).toBe('close');
      expect(ex.closed).toBe(true);
    } else {
      expect(ex.responses.map((r) => r.status)).toEqual([ex.responses[0]!.status, 200]);
    }
  });

  it('refuses a chunk line over 4 KiB with 400 and a close, without reading the rest of it', async () => {
    const roomy = await startInProcess({ staticDir: makeSite({ 'index.html': 'home' }), env: { ACCESS_LOG: 'off', MAX_BODY_BYTES: String(1 << 30) } });
    try {
      const s = net.connect(roomy.port, '127.0.0.1');
      s.on('error', () => undefined);
      const answer = new Promise<string>((resolve) => {
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString('latin1')));
        s.on('close', () => resolve(got));
      });
      s.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;');
      // 8 MiB of extension bytes, 64 KiB at a time, until the server closes.
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      while (sent < 8 * 1024 * 1024 && !s.destroyed && s.writable) {
        if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
        sent += chunk.length;
      }
      const got = await answer;
      expect(got.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(got).toContain('Connection: close');
    } finally {
      await roomy.stop();
    }
  });

  it('refuses a repeated or overflowing Content-Length at its line, before the head ends', async () => {
    for (const field of ['Content-Length: 1\r\nContent-Length: 1', `Content-Length: ${'9'.repeat(20)}`, 'Content-Length: 1, 2']) {
      // No blank line: the head is incomplete and would wait HEADERS_TIMEOUT_MS (10 s) for its end.
      const ex = await exchange(server.port, `POST / HTTP/1.1\r\nHost: t\r\n${field}\r\n`, { idleMs: 1500 });
      expect({ field, status: ex.responses[0]?.statusLine, closed: ex.closed }).toEqual({ field, status: 'HTTP/1.1 400 Bad Request', closed: true });
    }
  });

  it('never answers a smuggled request hidden in a conflicting body', async () => {
    const smuggle =
      'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nZ\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: t\r\n\r\n';
    const ex = await exchange(server.port, smuggle, { idleMs: 1000 });
    expect(ex.responses.map((r) => r.status)).toEqual([400]);
    expect(ex.closed).toBe(true);
  });
});
