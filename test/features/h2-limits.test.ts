// HTTP/2 against hostile and careless clients: a client resetting streams in a loop
// (CVE-2023-44487) is cut off while other sessions are served; a client that stops reading
// stalls only its own streams, holding at most H2_CHUNKS_PER_SESSION read buffers, until
// SEND_TIMEOUT_MS cancels them; an oversized header list is refused; an idle session closes; a
// drain lets open streams finish, answers what was already sent, and closes with GOAWAY.

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { H2_CHUNKS_PER_SESSION, H2_GUARANTEED_STREAMS, H2_MAX_STREAMS, h2StreamCap, type H2Session } from '../../src/net/h2';
import { frame, PING, RawH2, rst, SETTINGS } from '../../scripts/h2-frames';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, selfSignedCert, waitFor } from '../helpers/server';

const big = crypto.randomBytes(4 * 1024 * 1024);
let site: string;
let pem: { cert: string; key: string };
let server: InProcess;
const clients: http2.ClientHttp2Session[] = [];

function connect(port: number, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  const c = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false, host: '127.0.0.1', servername: 'localhost', ...options });
  c.on('error', () => undefined);
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('remoteSettings', () => resolve(c));
    c.once('error', reject);
  });
}

function get(c: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = c.request({ ':path': path, ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    s.on('error', reject);
    s.end();
  });
}

const sessionsOf = (s: InProcess): H2Session[] => [...s.pws.ctx.sessions];

beforeAll(async () => {
  site = makeSite({ 'index.html': '<p>home</p>\n', 'big.bin': big, 'error.html': 'missing\n' });
  pem = selfSignedCert();
  server = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, SEND_TIMEOUT_MS: '1500' } });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await server.stop();
});

describe('HTTP/2 limits', () => {
  it(`advertises at most ${H2_MAX_STREAMS} concurrent streams and no server push`, async () => {
    const c = await connect(server.port);
    expect(c.remoteSettings.maxConcurrentStreams).toBe(H2_MAX_STREAMS);
    expect(c.remoteSettings.enablePush).toBe(false);
  });

  it('cuts off a client that opens and resets streams in a loop, and serves another meanwhile', async () => {
    const attacker = await RawH2.connect(server.port);
    const other = await connect(server.port);
    let id = 1;
    const started = Date.now();
    // Bursts of HEADERS + RST_STREAM(CANCEL), as the attack sends them, until the server ends it.
    while (!attacker.closed && attacker.goaways.length === 0 && Date.now() - started < 20_000) {
      const burst: Buffer[] = [];
      for (let i = 0; i < 100; i++, id += 2) burst.push(attacker.get(id, '/big.bin'), rst(id, http2.constants.NGHTTP2_CANCEL));
      attacker.send(...burst);
      expect((await get(other, '/')).status).toBe(200);
    }
    const opened = (id - 1) / 2;
    await attacker.until('the attacker to be cut off', () => attacker.closed || attacker.goaways.length > 0);
    expect(attacker.goaways.length > 0 || attacker.closed).toBe(true);
    // Served after the cut, on the session that was open all along.
    expect((await get(other, '/')).status).toBe(200);
    process.stderr.write(`rapid reset: cut off after ${opened} streams opened and reset (GOAWAY ${JSON.stringify(attacker.goaways)})\n`);
  }, 30_000);

  it('stalls only the session that stops reading, with bounded read buffers, then cancels its streams', async () => {
    const slow = await RawH2.connect(server.port);
    slow.reading = false;
    try {
      const ids = Array.from({ length: 8 }, (_, i) => 2 * i + 1);
      slow.send(...ids.map((id) => slow.get(id, '/big.bin')));
      await waitFor('the slow session to hold all its read buffers', () =>
        sessionsOf(server).some((s) => s.chunks.inUse === H2_CHUNKS_PER_SESSION && s.chunks.queued > 0),
      );
      for (const s of sessionsOf(server)) expect(s.chunks.inUse).toBeLessThanOrEqual(H2_CHUNKS_PER_SESSION);
      // Another session downloads the same file whole meanwhile.
      const fast = await connect(server.port);
      expect((await get(fast, '/big.bin')).body.equals(big)).toBe(true);
      // SEND_TIMEOUT_MS (1.5 s here) cancels every stalled stream, however lively the session
      // looks otherwise (a PING every 200 ms); its buffers come back.
      const pings = setInterval(() => slow.send(frame(PING, 0, 0, Buffer.alloc(8))), 200);
      const since = Date.now();
      await slow
        .until('every stream to be reset', () => ids.every((id) => slow.streams.get(id)?.reset !== undefined), 20_000)
        .finally(() => clearInterval(pings));
      // H2_CHUNKS_PER_SESSION streams hold the buffers at a time; each round ends SEND_TIMEOUT_MS
      // (plus a sweep) after it stalled: four rounds for eight streams.
      expect(Date.now() - since).toBeLessThan(15_000);
      expect(ids.map((id) => slow.streams.get(id)?.reset)).toEqual(ids.map(() => http2.constants.NGHTTP2_CANCEL));
      await waitFor('the buffers to come back', () => sessionsOf(server).every((s) => s.chunks.inUse === 0));
      // The session itself still serves.
      slow.reading = true;
      slow.openWindow(1 << 20);
      slow.send(slow.get(17, '/'));
      await slow.until('a new stream to be answered', () => slow.streams.get(17)?.ended === true);
      expect(slow.streams.get(17)?.status).toBe(0x88);
    } finally {
      slow.close();
    }
  }, 30_000);

  it('past the worker cap, refuses the new streams of a busy session (REFUSED_STREAM) but not the first two of another; serves again once streams end', async () => {
    const capped = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, MAX_CONNECTIONS: '10' } });
    const cap = h2StreamCap(10);
    // Two sessions hold the cap between them, half each, reading nothing.
    const hogs = [await RawH2.connect(capped.port), await RawH2.connect(capped.port)];
    const other = await RawH2.connect(capped.port);
    try {
      for (const hog of hogs) {
        hog.reading = false;
        hog.send(...Array.from({ length: cap / 2 }, (_, i) => hog.get(2 * i + 1, '/big.bin')));
      }
      await waitFor('the cap to be reached', () => capped.pws.ctx.h2Streams === cap);
      const [hog] = hogs as [RawH2, RawH2];
      hog.send(hog.get(cap + 1, '/'));
      other.reading = false;
      other.send(...[1, 3, 5].map((id) => other.get(id, '/big.bin')));
      await hog.until('the hog refused', () => hog.streams.get(cap + 1)?.reset !== undefined);
      await other.until('the third stream refused', () => other.streams.get(5)?.reset !== undefined);
      expect(hog.streams.get(cap + 1)?.reset).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
      expect(other.streams.get(5)?.reset).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
      expect(H2_GUARANTEED_STREAMS).toBe(2);
      expect([1, 3].map((id) => other.streams.get(id)?.status)).toEqual([0x88, 0x88]);
      for (const h of hogs) h.close();
      await waitFor('the streams of the hogs to end', () => capped.pws.ctx.h2Streams === 2);
      other.reading = true;
      other.openWindow(64 << 20);
      other.send(other.get(7, '/'));
      await other.until('an answer', () => other.streams.get(7)?.ended === true);
      expect(other.streams.get(7)?.status).toBe(0x88);
    } finally {
      for (const h of hogs) h.close();
      other.close();
      await capped.stop();
    }
  });

  it('cuts off a client that floods SETTINGS (and PINGs) without reading the acknowledgements, and serves another meanwhile', async () => {
    const before = server.pws.ctx.sessions.size;
    const flooder = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    flooder.on('error', () => undefined);
    await new Promise<void>((resolve) => flooder.once('secureConnect', () => resolve()));
    flooder.pause(); // never reads: every acknowledgement the server owes piles up on its side
    const setting = Buffer.from([0x00, 0x04, 0x00, 0x00, 0xff, 0xff]); // SETTINGS_INITIAL_WINDOW_SIZE
    const flood = Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      ...Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? frame(SETTINGS, 0, 0, setting) : frame(PING, 0, 0, Buffer.alloc(8, i & 0xff)))),
    ]);
    flooder.write(flood);
    const other = await connect(server.port);
    expect((await get(other, '/')).status).toBe(200);
    await waitFor('the flooding session to be cut off', () => flooder.destroyed || server.pws.ctx.sessions.size <= before + 1, 20_000);
    flooder.destroy();
  }, 30_000);

  it('answers a request with a body (405), drops the body, and cancels a stream whose body passes MAX_BODY_BYTES', async () => {
    const c = await connect(server.port);
    const post = (bytes: number): Promise<{ status: number; rstCode: number }> =>
      new Promise((resolve) => {
        const s = c.request({ ':method': 'POST', ':path': '/' });
        let status = 0;
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('error', () => undefined);
        s.resume();
        s.on('close', () => resolve({ status, rstCode: s.rstCode }));
        s.end(Buffer.alloc(bytes, 'b'));
      });
    expect(await post(100 * 1024)).toEqual({ status: 405, rstCode: http2.constants.NGHTTP2_NO_ERROR });
    const big = await post(3 * 1024 * 1024);
    expect(big.status).toBe(405);
    expect(big.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    // The session goes on.
    expect((await get(c, '/')).status).toBe(200);
    await waitFor('no stream left open', () => server.pws.ctx.h2Streams === 0);
  });

  it('closes an HTTP/2 connection past MAX_CONNECTIONS without writing HTTP/1.1 bytes into it', async () => {
    const one = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, MAX_CONNECTIONS: '1' } });
    const first = await connect(one.port);
    try {
      expect((await get(first, '/')).status).toBe(200);
      const got = await new Promise<Buffer>((resolve) => {
        const c = tls.connect({ host: '127.0.0.1', port: one.port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
        const chunks: Buffer[] = [];
        c.on('data', (d: Buffer) => chunks.push(d));
        c.on('error', () => undefined);
        c.on('close', () => resolve(Buffer.concat(chunks)));
      });
      expect(got.length).toBe(0);
    } finally {
      first.destroy();
      await one.stop();
    }
  });

  it('closes a session after MAX_REQUESTS_PER_CONNECTION streams, with GOAWAY', async () => {
    const few = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, MAX_REQUESTS_PER_CONNECTION: '3' } });
    try {
      const c = await connect(few.port);
      const goaway = new Promise<void>((resolve) => c.once('goaway', () => resolve()));
      for (let i = 0; i < 3; i++) expect((await get(c, '/')).status).toBe(200);
      await goaway;
      await waitFor('the session to close', () => few.pws.ctx.sessions.size === 0);
    } finally {
      await few.stop();
    }
  });

  it('refuses a header list over the head limit, and the session goes on', async () => {
    const c = await connect(server.port);
    const refused = await new Promise<string>((resolve) => {
      const s = c.request({ ':path': '/', 'x-big': 'a'.repeat(40_000) });
      s.on('response', (h) => resolve(`status ${String(h[':status'])}`));
      s.on('error', (e: Error) => resolve(`error ${e.message}`));
      s.on('close', () => resolve(`closed ${s.rstCode}`));
      s.end();
    });
    expect(refused).not.toBe('status 200');
    const again = c.destroyed || c.closed ? await connect(server.port) : c;
    expect((await get(again, '/')).status).toBe(200);
  });

  it('answers 400 to a stream whose Host and :authority disagree (RFC 9113 §8.3.1)', async () => {
    const raw = await RawH2.connect(server.port);
    try {
      raw.send(raw.get(1, '/', 'localhost', [['host', 'other.example']]), raw.get(3, '/', 'localhost', [['host', 'localhost']]));
      await raw.until('both answers', () => raw.streams.get(1)?.ended === true && raw.streams.get(3)?.ended === true);
      expect(raw.streams.get(1)?.status).not.toBe(0x88);
      expect(raw.streams.get(3)?.status).toBe(0x88);
    } finally {
      raw.close();
    }
  });
});

describe('the TLS handshake', () => {
  it('gets HEADERS_TIMEOUT_MS, then the connection is closed', async () => {
    const quick = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, HEADERS_TIMEOUT_MS: '500' } });
    try {
      const started = Date.now();
      await new Promise<void>((resolve) => {
        const c = net.connect(quick.port, '127.0.0.1');
        c.on('error', () => undefined);
        c.on('close', () => resolve());
      });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await quick.stop();
    }
  });
});

describe('HTTP/2 session lifecycle', () => {
  let short: InProcess;
  beforeAll(async () => {
    short = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, KEEP_ALIVE_TIMEOUT_MS: '600' } });
  });
  afterAll(async () => {
    await short.stop();
  });

  it('closes an idle session with GOAWAY after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const c = await connect(short.port);
    expect((await get(c, '/')).status).toBe(200);
    const goaway = await new Promise<number>((resolve) => c.once('goaway', (code: number) => resolve(code)));
    expect(goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await waitFor('the session to close', () => c.closed || c.destroyed);
  });

  it('in the lame duck: the health probe says 503, the stream is served, then the session closes with GOAWAY', async () => {
    const duck = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, HEALTH_PATH: '/healthz' } });
    try {
      const c = await connect(duck.port);
      expect((await get(c, '/healthz')).status).toBe(200);
      const goaway = new Promise<number>((resolve) => c.once('goaway', (code: number) => resolve(code)));
      duck.pws.retire();
      expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
      // A new session in the lame duck is still served (the host keeps listening), and closes after.
      const fresh = await connect(duck.port);
      const closed = new Promise<void>((resolve) => fresh.once('goaway', () => resolve()));
      expect((await get(fresh, '/healthz')).status).toBe(503);
      await closed;
      await waitFor('both sessions to close', () => duck.pws.ctx.sessions.size === 0);
    } finally {
      await duck.stop();
    }
  });

  it('drains: an open download finishes, a stream sent after the GOAWAY is beyond its last stream (so retried), then the session closes', async () => {
    const drained = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key } });
    const raw = await RawH2.connect(drained.port);
    try {
      raw.send(raw.get(1, '/big.bin'));
      await raw.until('the download to start', () => (raw.streams.get(1)?.data ?? 0) > 0);
      // Sent as the GOAWAY is read, before anything after it: a request crossing it on the wire.
      raw.onGoaway = () => {
        raw.onGoaway = null;
        raw.send(raw.get(3, '/'));
      };
      drained.pws.drain();
      await raw.until('the download to end', () => raw.streams.get(1)?.ended === true, 20_000);
      expect(raw.streams.get(1)?.data).toBe(big.length);
      expect(raw.goaways).toHaveLength(1);
      expect(raw.goaways[0]).toEqual({ last: 1, code: http2.constants.NGHTTP2_NO_ERROR });
      // Stream 3 was not processed, and the GOAWAY says so: a client may retry it anywhere.
      expect(raw.streams.get(3)).toBeUndefined();
      await waitFor('the session to close', () => drained.pws.ctx.sessions.size === 0);
      expect(drained.pws.open()).toBe(0);
      await raw.until('the connection to close', () => raw.closed);
    } finally {
      raw.close();
      await drained.stop();
    }
  });
});
