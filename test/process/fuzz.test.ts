// Fuzzing a running worker: fast-check generates mutated valid requests and random bytes; each
// goes on its own connection. The worker never crashes, every connection ends in well-formed
// responses and a close, and a valid request right after still gets 200.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { get, parseResponses } from '../helpers/raw';
import { makeSite, type Running, startServer, workerPid, workerPids } from '../helpers/server';

const VALID = [
  'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'HEAD /index.html HTTP/1.1\r\nHost: a\r\nRange: bytes=0-3\r\n\r\n',
  'GET /sub/ HTTP/1.0\r\n\r\n',
  'GET /a.txt HTTP/1.1\r\nHost: a\r\nIf-None-Match: "x"\r\nAccept-Encoding: br\r\n\r\n',
  'POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
  'GET /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
];
const BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x25, 0x2e, 0x2f, 0x3a, 0x5c, 0x7f, 0x80, 0xff];

const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(
      fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'repeat'), fc.nat(), fc.oneof(fc.constantFrom(...BYTES), fc.integer({ min: 0, max: 255 }))),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
  )
  .map(([base, edits]) => {
    let bytes = [...Buffer.from(base, 'latin1')];
    for (const [op, at, byte] of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'insert') bytes.splice(i, 0, byte);
      else if (op === 'delete') bytes.splice(i, 1);
      else if (op === 'replace') bytes[Math.min(i, bytes.length - 1)] = byte;
      else bytes = bytes.concat(bytes.slice(i));
    }
    return Buffer.from(bytes);
  });
const random = fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((a) => Buffer.from(a));

let server: Running;
beforeAll(async () => {
  server = await startServer({
    staticDir: makeSite({ 'index.html': 'home', 'a.txt': 'aaaa', 'sub/index.html': 'sub' }),
    workers: 1,
    env: { HEADERS_TIMEOUT_MS: '300', KEEP_ALIVE_TIMEOUT_MS: '300', ACCESS_LOG: 'off' },
  });
});
afterAll(async () => {
  await server.stop();
});

/** Sends `input` and resolves with what came back once the server closes (or 3 s pass). */
function feed(input: Buffer): Promise<{ raw: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(server.port, '127.0.0.1', () => s.write(input));
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ raw: Buffer.concat(chunks), closedByServer: false });
    }, 3000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks), closedByServer: true });
    });
  });
}

async function run(inputs: Buffer[]): Promise<string[]> {
  const problems: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let input = inputs[next++]; input !== undefined; input = inputs[next++]) {
      const { raw, closedByServer } = await feed(input);
      const label = JSON.stringify(input.toString('latin1').slice(0, 120));
      if (!closedByServer) problems.push(`not closed: ${label}`);
      try {
        const { responses, rest } = parseResponses(raw, 'guess');
        // A HEAD's head may be the last thing sent: its Content-Length announces no bytes here.
        const lastWasHead = rest.length > 0 && rest.toString('latin1').startsWith('HTTP/1.1 ') && rest.toString('latin1').endsWith('\r\n\r\n');
        if (rest.length > 0 && !lastWasHead) problems.push(`trailing bytes after responses: ${label}`);
        for (const r of responses) if (r.status < 200 || r.status > 599) problems.push(`status ${r.status}: ${label}`);
      } catch (err) {
        problems.push(`malformed response (${(err as Error).message}): ${label}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 40 }, lane));
  return problems;
}

describe('fuzzing a running worker', () => {
  it.each([
    ['mutated valid requests', mutated],
    ['random bytes', random],
  ])(
    '%s',
    async (_name, arbitrary) => {
      const pid = workerPid(server.proc.pid);
      const inputs = fc.sample(arbitrary, { numRuns: 400, seed: 20261127 });
      expect(await run(inputs)).toEqual([]);
      // The same worker is still there, and serves a valid request on a fresh connection.
      expect(workerPids(server.proc.pid ?? -1)).toEqual([pid]);
      expect((await get(server.port, '/a.txt')).status).toBe(200);
      expect(server.output().stderr).not.toMatch(/died|failed:/);
    },
    60_000,
  );
});
