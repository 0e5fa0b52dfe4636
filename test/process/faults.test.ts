// Faults that must not lose data or leak: a file deleted, truncated, replaced or rewritten while
// it is being sent (the client gets the complete old version or a cut connection, never bytes that
// do not match), descriptors released, and an exception in a handler answered 500 and logged.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import type { Reply } from '../../src/contract/reply';
import type { Request } from '../../src/contract/request';
import { createHttpServer } from '../../src/net/server';
import { exchange, get } from '../helpers/raw';
import { fdsOn, makeSite, type Running, startServer, tempDir, waitFor, workerPid } from '../helpers/server';

const SIZE = 32 * 1024 * 1024;
let root: string;
let server: Running;
beforeAll(async () => {
  root = makeSite({ 'index.html': 'home' });
  server = await startServer({ staticDir: root, workers: 1, env: { ACCESS_LOG: 'off' } });
});
afterAll(async () => {
  await server.stop();
});

/**
 * Downloads `name` slowly; after 1 MiB has arrived, runs `change`. Resolves with the declared
 * Content-Length and the body bytes received before the server closed.
 */
function downloadWhile(name: string, change: () => void): Promise<{ declared: number; body: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let changed = false;
    const s = net.connect(server.port, '127.0.0.1', () => s.write(`GET /${name} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (!changed && total > 1024 * 1024) {
        changed = true;
        change();
      }
      s.pause();
      setTimeout(() => s.resume(), 2); // a slow client: the server is mid-file for a while
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const declared = Number(/content-length: (\d+)/i.exec(all.toString('latin1', 0, end))?.[1]);
      resolve({ declared, body: all.subarray(end + 4) });
    });
  });
}

describe('a file changing while it is sent', () => {
  const cases: Array<[string, (file: string) => void]> = [
    ['deleted', (file) => fs.unlinkSync(file)],
    [
      'replaced by rename',
      (file) => {
        fs.writeFileSync(`${file}.new`, crypto.randomBytes(SIZE));
        fs.renameSync(`${file}.new`, file);
      },
    ],
    ['truncated', (file) => fs.truncateSync(file, 1024)],
    [
      'rewritten in place, same size',
      (file) => {
        const fd = fs.openSync(file, 'r+');
        fs.writeSync(fd, Buffer.alloc(SIZE, 0x5a), 0, SIZE, 0);
        fs.closeSync(fd);
      },
    ],
  ];

  it.each(cases)(
    '%s: the complete old version or a cut connection, and no descriptor left open',
    async (name, change) => {
      const fileName = `big-${name.replace(/\W+/g, '-')}.bin`;
      const file = path.join(root, fileName);
      const original = crypto.randomBytes(SIZE);
      fs.writeFileSync(file, original);
      const pid = workerPid(server.proc.pid);
      const { declared, body } = await downloadWhile(fileName, () => change(file));
      expect(declared).toBe(SIZE);
      if (body.length === declared) {
        expect(body.equals(original)).toBe(true); // complete: it must be the old version, whole
      } else {
        expect(body.length).toBeLessThan(declared); // cut short: the client can tell
        expect(body.equals(original.subarray(0, body.length))).toBe(true); // and it got no foreign bytes
      }
      await waitFor('descriptors released', () => fdsOn(pid, file) === 0, 3000);
      fs.rmSync(file, { force: true });
    },
    60_000,
  );

  it('deletion and rename leave the old version complete (the open descriptor keeps it)', async () => {
    const file = path.join(root, 'kept.bin');
    const original = crypto.randomBytes(SIZE);
    fs.writeFileSync(file, original);
    const { body } = await downloadWhile('kept.bin', () => fs.unlinkSync(file));
    expect(body.equals(original)).toBe(true);
  }, 60_000);
});

describe('an exception inside a request handler', () => {
  it('ends that request with a 500, logs it with a request id, and keeps serving', async () => {
    const cwd = tempDir('pws-cwd-');
    const config = loadConfig({ STATIC_DIR: root, PORT: '0', HOST: '127.0.0.1', ACCESS_LOG: 'off' }, cwd);
    let calls = 0;
    // /boom rejects (an async handler's failure); /sync throws before any promise exists.
    const pws = createHttpServer(config, (req: Request): Reply | Promise<Reply> => {
      calls++;
      if (req.target === '/boom') return Promise.reject(new Error('kaboom in handler'));
      if (req.target === '/sync') throw new TypeError('synchronous kaboom');
      return { status: 200, headers: { contentType: 'text/plain' }, body: Buffer.from('fine') };
    });
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    };
    try {
      await new Promise<void>((r) => pws.server.listen(0, '127.0.0.1', () => r()));
      const port = (pws.server.address() as net.AddressInfo).port;
      const ex = await exchange(port, 'GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n');
      expect(ex.responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 500 Internal Server Error']);
      expect(ex.responses[0]!.headers.connection).toBe('close');
      expect(ex.closed).toBe(true);
      expect((await get(port, '/sync')).status).toBe(500);
      const ok = await get(port, '/fine');
      expect(ok.body.toString()).toBe('fine');
      expect(calls).toBe(3);
      const logged = errors.join('');
      expect(logged).toMatch(/error \[\d+\] request \d+-\d+ \(GET \/boom\) failed: Error: kaboom in handler/);
      expect(logged).toMatch(/request \d+-\d+ \(GET \/sync\) failed: TypeError: synchronous kaboom/);
    } finally {
      process.stderr.write = write;
      pws.destroyAll();
      pws.server.close();
    }
  });
});
