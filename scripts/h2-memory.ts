// `npm run h2-memory`: what an HTTP/2 session holds, idle and with every stream it may open
// stalled (a client that opens streams and reads nothing). Twenty sessions of each kind against
// one in-process server; the figures are JS heap + external memory after full collections, per
// session and per stream. They back H2_SESSION_STATE_BYTES and H2_STREAM_STATE_BYTES in
// src/net/h2.ts.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createPwsServer } from '../src/app';
import { loadConfig } from '../src/config';
import { H2_CHUNK_BYTES, H2_CHUNKS_PER_SESSION, H2_MAX_STREAMS } from '../src/net/h2';
import { RawH2 } from './h2-frames';
import { selfSignedCert, sleep } from './measure';

const SESSIONS = 20;

function measure(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run h2-memory does)');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-h2mem-'));
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'www', 'big.bin'), crypto.randomBytes(4 << 20));
  const { cert, key } = selfSignedCert(dir);
  const config = loadConfig(
    { STATIC_DIR: path.join(dir, 'www'), TLS_CERT: cert, TLS_KEY: key, ACCESS_LOG: 'off', HOST: '127.0.0.1', PORT: '0', MAX_CONNECTIONS: '4096' },
    dir,
  );
  const pws = createPwsServer(config);
  await new Promise<void>((resolve) => pws.server.listen(0, '127.0.0.1', resolve));
  const port = (pws.server.address() as AddressInfo).port;
  try {
    const perSession: number[] = [];
    const rssPerSession: number[] = [];
    for (const streams of [0, H2_MAX_STREAMS]) {
      const before = measure();
      const rssBefore = process.memoryUsage().rss;
      const clients: RawH2[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const c = await RawH2.connect(port);
        c.reading = false;
        c.send(...Array.from({ length: streams }, (_, k) => c.get(2 * k + 1, '/big.bin')));
        clients.push(c);
      }
      await sleep(1500);
      perSession.push((measure() - before) / SESSIONS);
      rssPerSession.push((process.memoryUsage().rss - rssBefore) / SESSIONS);
      for (const c of clients) c.close();
      await sleep(500);
    }
    const [idle = 0, stalled = 0] = perSession;
    const [idleRss = 0, stalledRss = 0] = rssPerSession;
    const buffers = H2_CHUNKS_PER_SESSION * H2_CHUNK_BYTES;
    const kib = (n: number): string => `${(n / 1024).toFixed(1).padStart(7)} KiB`;
    process.stdout.write(`                                        JS heap + external   RSS growth\n`);
    process.stdout.write(`idle session                            ${kib(idle)}          ${kib(idleRss)}\n`);
    process.stdout.write(
      `session, ${H2_MAX_STREAMS} stalled streams            ${kib(stalled)}          ${kib(stalledRss)}   (read buffers: ${kib(buffers).trim()})\n`,
    );
    process.stdout.write(
      `per stalled stream, beyond the buffers  ${kib((stalled - idle - buffers) / H2_MAX_STREAMS)}          ${kib((stalledRss - idleRss - buffers) / H2_MAX_STREAMS)}\n`,
    );
  } finally {
    pws.destroyAll();
    pws.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`h2-memory: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
