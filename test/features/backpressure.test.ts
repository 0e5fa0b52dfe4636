// Output backpressure: a client that pipelines requests and never reads makes PWS stop parsing
// and stop reading once OUTPUT_QUEUE_BYTES are queued, for every kind of reply; reading resumes
// on 'drain' and every answer then arrives, in order; SEND_TIMEOUT_MS still drops a client that
// takes nothing. The server runs in this process so that its connections can be inspected.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { CLOSING, type Connection } from '../../src/net/connection';
import { createPwsServer, type PwsServer } from '../../src/app';
import { freeChunkCount, MAX_FREE_CHUNKS } from '../../src/net/writer';
import { parseResponses } from '../helpers/raw';
import { makeSite, waitFor } from '../helpers/server';

const KIB = 1024;
const MIB = 1024 * KIB;
const QUEUE = 256 * KIB;

let root: string;
beforeAll(() => {
  root = makeSite({
    'index.html': 'home',
    'error.html': `<!doctype html><title>missing</title>${'x'.repeat(10 * KIB)}`,
    // Base64 of random bytes: text that compresses, but only to about three quarters.
    'text.txt': crypto.randomBytes(450 * KIB).toString('base64'),
  });
  fs.writeFileSync(path.join(root, 'one.bin'), crypto.randomBytes(MIB));
  fs.writeFileSync(path.join(root, 'small.bin'), crypto.randomBytes(60 * KIB));
  fs.writeFileSync(path.join(root, 'mid.bin'), crypto.randomBytes(200 * KIB)); // cached whole (≤ CACHE_MAX_FILE_BYTES)
  fs.writeFileSync(path.join(root, 'big.bin'), crypto.randomBytes(8 * MIB));
  fs.mkdirSync(path.join(root, 'many'));
  // About 300 KB of listing from 600 entries (long names keep the stat calls few).
  for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(root, 'many', `${String(i).padStart(4, '0')}-${'n'.repeat(200)}.txt`), '');
});

const servers: PwsServer[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.destroyAll();
    await new Promise((r) => s.server.close(r));
  }
});

async function start(env: Record<string, string> = {}): Promise<{ pws: PwsServer; port: number }> {
  const config = loadConfig({ STATIC_DIR: root, ACCESS_LOG: 'off', DIRECTORY_LISTING: 'on', OUTPUT_QUEUE_BYTES: String(QUEUE), ...env }, root);
  const pws = createPwsServer(config);
  servers.push(pws);
  await new Promise<void>((r) => pws.server.listen(0, '127.0.0.1', () => r()));
  return { pws, port: (pws.server.address() as net.AddressInfo).port };
}

/** Sends `count` pipelined copies of `request` in one write on a client that does not read. */
function pipelineUnread(port: number, request: string, count: number): net.Socket {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  s.pause();
  s.write(request.repeat(count));
  return s;
}

/** The server side of the one open connection, once its output queue and request count stop moving. */
async function settled(pws: PwsServer): Promise<Connection> {
  await waitFor('the connection', () => pws.ctx.connections.size === 1);
  const [conn] = pws.ctx.connections;
  if (conn === undefined) throw new Error('no connection');
  let last = '';
  let still = 0;
  await waitFor(
    'the connection to settle',
    () => {
      const now = `${conn.served}/${conn.socket.writableLength}/${conn.socket.bytesWritten}`;
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 15; // unchanged for 300 ms
    },
    20_000,
  );
  return conn;
}

/** Resumes the client and collects every response until `count` have arrived. */
async function readAll(s: net.Socket, count: number, headOnly: number[] = []): Promise<ReturnType<typeof parseResponses>['responses']> {
  const chunks: Buffer[] = [];
  let total = 0;
  s.on('data', (d: Buffer) => {
    chunks.push(d);
    total += d.length;
  });
  s.resume();
  let parsed = parseResponses(Buffer.alloc(0));
  let seen = -1;
  await waitFor(
    `${count} responses`,
    () => {
      if (total !== seen) {
        seen = total;
        parsed = parseResponses(Buffer.concat(chunks), headOnly);
      }
      return parsed.responses.length >= count;
    },
    30_000,
  );
  s.destroy();
  expect(parsed.rest.length).toBe(0);
  return parsed.responses;
}

interface Case {
  name: string;
  request: string;
  count: number;
  /** Largest single reply of the case (head included): the one in progress may add that much. */
  reply: number;
  status: number;
  env?: Record<string, string>;
}

const cases: Case[] = [
  { name: 'cached replies of a 200 KB file', request: 'GET /mid.bin?q HTTP/1.1\r\nHost: t\r\n\r\n', count: 200, reply: 201 * KIB, status: 200 },
  { name: 'streamed 1 MiB files', request: 'GET /one.bin?q HTTP/1.1\r\nHost: t\r\n\r\n', count: 40, reply: 257 * KIB, status: 200 },
  {
    name: 'whole small-file reads (cache off)',
    request: 'GET /small.bin HTTP/1.1\r\nHost: t\r\n\r\n',
    count: 400,
    reply: 61 * KIB,
    status: 200,
    env: { CACHE_MAX_BYTES: '0' },
  },
  { name: 'single ranges', request: 'GET /one.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-\r\n\r\n', count: 40, reply: 257 * KIB, status: 206 },
  {
    name: 'multipart ranges',
    request: 'GET /one.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-199999,300000-499999\r\n\r\n',
    count: 60,
    reply: 257 * KIB,
    status: 206,
  },
  { name: 'compressed replies', request: 'GET /text.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n', count: 60, reply: 600 * KIB, status: 200 },
  { name: 'listings', request: 'GET /many/?x HTTP/1.1\r\nHost: t\r\n\r\n', count: 40, reply: 400 * KIB, status: 200 },
  { name: 'error pages', request: 'GET /nope HTTP/1.1\r\nHost: t\r\n\r\n', count: 2400, reply: 12 * KIB, status: 404 },
];

describe('a client that pipelines and never reads', () => {
  it.each(cases)('$name: parsing and reading stop at OUTPUT_QUEUE_BYTES, and resume on drain', async ({ request, count, reply, status, env }) => {
    const { pws, port } = await start(env);
    const client = pipelineUnread(port, request, count);
    const conn = await settled(pws);
    expect(conn.served).toBeLessThan(count);
    expect(conn.socket.isPaused()).toBe(true);
    // The bound: the mark plus the one reply in progress.
    expect(conn.socket.writableLength).toBeLessThanOrEqual(QUEUE + reply);
    expect(conn.socket.writableLength).toBeGreaterThan(0);
    const responses = await readAll(client, count);
    expect(responses).toHaveLength(count);
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([status]));
  });

  it('keeps at most MAX_FREE_CHUNKS stream buffers for reuse after 80 downloads at once', async () => {
    const { port } = await start();
    // one.bin (1 MiB) is over CACHE_MAX_FILE_BYTES: it streams, 256 KiB at a time.
    const downloads = Array.from({ length: 80 }, () =>
      readAll(net.connect(port, '127.0.0.1').end('GET /one.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'), 1),
    );
    const done = await Promise.all(downloads);
    expect(done.every((r) => r[0]!.body.length === MIB)).toBe(true);
    expect(freeChunkCount()).toBeGreaterThan(0);
    expect(freeChunkCount()).toBeLessThanOrEqual(MAX_FREE_CHUNKS);
  });

  it('streams a large file with one chunk in flight, and answers the next request after it', async () => {
    const { pws, port } = await start();
    const client = pipelineUnread(port, 'GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /index.html HTTP/1.1\r\nHost: t\r\n\r\n', 3);
    const conn = await settled(pws);
    expect(conn.served).toBe(1);
    expect(conn.socket.writableLength).toBeLessThanOrEqual(257 * KIB);
    const responses = await readAll(client, 6);
    expect(responses.map((r) => r.body.length)).toEqual([8 * MIB, 4, 8 * MIB, 4, 8 * MIB, 4]);
    expect(responses[0]!.body.equals(fs.readFileSync(path.join(root, 'big.bin')))).toBe(true);
  });

  it('answers HEAD requests in the same order once reading resumes', async () => {
    const { pws, port } = await start();
    const pair = 'GET /one.bin HTTP/1.1\r\nHost: t\r\n\r\nHEAD /one.bin HTTP/1.1\r\nHost: t\r\n\r\n';
    const client = pipelineUnread(port, pair, 20);
    const conn = await settled(pws);
    expect(conn.served).toBeLessThan(40);
    const heads = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
    const responses = await readAll(client, 40, heads);
    expect(responses.map((r) => r.body.length)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? MIB : 0)));
  });

  it('is dropped after SEND_TIMEOUT_MS while backed up, and its connection released', async () => {
    const { pws, port } = await start({ SEND_TIMEOUT_MS: '500' });
    const client = pipelineUnread(port, 'GET /one.bin HTTP/1.1\r\nHost: t\r\n\r\n', 40);
    await waitFor('the connection', () => pws.ctx.connections.size === 1);
    const [conn] = pws.ctx.connections;
    await waitFor('the connection to back up', () => conn!.socket.isPaused() && conn!.served > 0);
    await waitFor('the server to drop the connection', () => pws.ctx.connections.size === 0, 10_000);
    expect(conn!.served).toBeLessThan(40);
    client.destroy();
  });

  it('does not stop a client that reads: 60 pipelined requests all answered', async () => {
    const { port } = await start();
    const s = net.connect(port, '127.0.0.1');
    s.write('GET /one.bin HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(60));
    const responses = await readAll(s, 60);
    expect(responses.every((r) => r.status === 200 && r.body.length === MIB)).toBe(true);
  });
});

describe('bytes a client sends that PWS does not parse', () => {
  it('are dropped, not kept, once a request was refused and the connection is closing', async () => {
    const { pws, port } = await start({ MAX_BODY_BYTES: String(1 << 30) });
    // Half-open: the client goes on sending after the server's answer and FIN.
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;' + 'e'.repeat(5000));
    await waitFor('the connection', () => pws.ctx.connections.size === 1);
    const [conn] = pws.ctx.connections;
    await waitFor('the refusal', () => conn!.state === CLOSING);
    const before = conn!.socket.bytesRead;
    for (let i = 0; i < 32 && !s.destroyed; i++) s.write(Buffer.alloc(64 * KIB, 'e'));
    await waitFor('the server to read on', () => conn!.socket.bytesRead > before + MIB || conn!.socket.destroyed);
    expect(conn!.pending).toBeNull();
    s.destroy();
  });

  it('wait, up to the head limit plus one read, while a reply is in progress; then reading pauses', async () => {
    const { pws, port } = await start();
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.pause();
    s.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    const conn = await settled(pws);
    expect(conn.served).toBe(1);
    const junk = Buffer.from('GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(40_000)); // 1.5 MiB of pipelined heads
    s.write(junk);
    await settled(pws);
    expect(conn.pending?.length ?? 0).toBeLessThanOrEqual(conn.headLimit + 64 * KIB);
    expect(conn.socket.isPaused()).toBe(true);
    expect(conn.socket.bytesRead).toBeLessThan(junk.length);
    s.destroy();
  });
});
