// Behind a load balancer: the access log names the client, not the balancer — from a PROXY
// protocol header (PROXY_PROTOCOL=on, accepted from TRUSTED_PROXIES only) or from a trusted
// proxy's X-Forwarded-For — and nobody else can choose the address that is logged.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { log } from '../../src/log';
import { afterEach, jest, describe, expect, it } from '@jest/globals';
import { createPwsServer } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { exchange } from '../helpers/raw';
import { makeSite, tempDir } from '../helpers/server';

const root = makeSite({ 'index.html': 'home' });
let server: InProcess | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

/** Starts a server logging to a file; `logged()` stops it and returns the remote address of each line. */
async function start(env: Record<string, string>): Promise<{ s: InProcess; logged: () => Promise<string[]> }> {
  const file = path.join(tempDir('pws-log-'), 'access.log');
  const s = (server = await startInProcess({ staticDir: root, env: { ACCESS_LOG: file, ...env } }));
  return {
    s,
    logged: async () => {
      await s.stop();
      server = null;
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(' ')[0]!);
    },
  };
}

const GET = 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n';
const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const v2From = (a: number, b: number, c: number, d: number): Buffer => Buffer.from([...V2_SIG, 0x21, 0x11, 0, 12, a, b, c, d, 127, 0, 0, 1, 0xc3, 0x50, 0, 80]);

/** Sends `bytes` (one piece per write, with a pause between) and returns everything received before the close. */
function raw(port: number, pieces: Buffer[]): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('error', () => undefined);
    c.on('close', () => resolve(got));
    const send = async (): Promise<void> => {
      for (const p of pieces) {
        c.write(p);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    c.on('connect', () => void send());
  });
}

describe('PROXY_PROTOCOL=on', () => {
  it('logs the client a version 2 or version 1 header names, however the header is split', async () => {
    const { s, logged } = await start({ TRUSTED_PROXIES: '127.0.0.1', PROXY_PROTOCOL: 'on' });
    const v2 = Buffer.concat([v2From(198, 51, 100, 7), Buffer.from(GET)]);
    expect(await raw(s.port, [v2])).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // Byte by byte: the header and the request arrive in 1-byte pieces.
    expect(
      await raw(
        s.port,
        [...v2From(198, 51, 100, 8), ...Buffer.from(GET)].map((b) => Buffer.from([b])),
      ),
    ).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await raw(s.port, [Buffer.from(`PROXY TCP6 2001:db8::9 2001:db8::1 50000 80\r\n${GET}`)])).toMatch(/^HTTP\/1\.1 200 OK/);
    // A LOCAL header (the balancer's own health check) leaves the peer's address.
    const local = Buffer.from([...V2_SIG, 0x20, 0x00, 0, 0]);
    expect(await raw(s.port, [Buffer.concat([local, Buffer.from(GET)])])).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await logged()).toEqual(['198.51.100.7', '198.51.100.8', '2001:db8::9', '127.0.0.1']);
  });

  it('closes a connection that starts without a valid header, without a byte of HTTP', async () => {
    const { s, logged } = await start({ TRUSTED_PROXIES: '127.0.0.1', PROXY_PROTOCOL: 'on' });
    expect(await raw(s.port, [Buffer.from(GET)])).toBe('');
    expect(await raw(s.port, [Buffer.from(`PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n${GET}`)])).toBe('');
    expect(await logged()).toEqual([]);
  });

  it('answers no HTTP to a partial header, whether the peer then closes its side or stalls', async () => {
    const { s, logged } = await start({ TRUSTED_PROXIES: '127.0.0.1', PROXY_PROTOCOL: 'on', HEADERS_TIMEOUT_MS: '300' });
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    try {
      const halfClosed = await new Promise<string>((resolve) => {
        const c = net.connect(s.port, '127.0.0.1', () => c.end('PROXY TCP4 1.2.3.4 5.6'));
        let got = '';
        c.on('data', (d: Buffer) => (got += d.toString('latin1')));
        c.on('error', () => undefined);
        c.on('close', () => resolve(got));
      });
      expect(halfClosed).toBe('');
      expect(await raw(s.port, [Buffer.from('PROXY TCP4 1.2.3.4 5.6')])).toBe('');
      // The operator hears of it (once a minute): the balancer is probably not sending headers.
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/^PROXY_PROTOCOL: a connection from 127\.0\.0\.1 closed before a complete PROXY header; closed \(\d+ so far\)$/),
      );
    } finally {
      warn.mockRestore();
    }
    expect(await logged()).toEqual([]);
  });

  it('closes a connection from a peer that is not in TRUSTED_PROXIES, header or not', async () => {
    const { s, logged } = await start({ TRUSTED_PROXIES: '10.0.0.1', PROXY_PROTOCOL: 'on' });
    expect(await raw(s.port, [Buffer.concat([v2From(198, 51, 100, 7), Buffer.from(GET)])])).toBe('');
    expect(await logged()).toEqual([]);
  });

  it('keeps a connection alive after the header: the header comes once, not per request', async () => {
    server = await startInProcess({ staticDir: root, env: { TRUSTED_PROXIES: '127.0.0.1', PROXY_PROTOCOL: 'on' } });
    const twice = Buffer.concat([v2From(198, 51, 100, 7), Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'), Buffer.from(GET)]);
    const ex = await exchange(server.port, twice);
    expect(ex.responses.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('X-Forwarded-For', () => {
  it('names the client when the peer is a trusted proxy, hops it trusts skipped', async () => {
    const { s, logged } = await start({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' });
    await exchange(s.port, `GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.1.1.1, 203.0.113.9, 10.0.0.2\r\nConnection: close\r\n\r\n`);
    await exchange(s.port, GET);
    expect(await logged()).toEqual(['203.0.113.9', '127.0.0.1']);
  });

  it('is ignored from a peer that is not trusted, and without TRUSTED_PROXIES', async () => {
    for (const env of [{ TRUSTED_PROXIES: '10.0.0.1' }, {}] as Array<Record<string, string>>) {
      const { s, logged } = await start(env);
      await exchange(s.port, `GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n`);
      expect(await logged()).toEqual(['127.0.0.1']);
    }
  });
});

describe('the access log on a dual-stack socket', () => {
  it('names an IPv4 client by its IPv4 address, not ::ffff:…', async () => {
    const file = path.join(tempDir('pws-log-'), 'access.log');
    const config = loadConfig({ STATIC_DIR: root, ACCESS_LOG: file, PORT: '0' }, tempDir('pws-cwd-'));
    const pws = createPwsServer(config);
    // Bound to :: (all interfaces, IPv6 and IPv4), as PWS is without HOST.
    await new Promise<void>((resolve) => pws.server.listen(0, '::', () => resolve()));
    try {
      const port = (pws.server.address() as net.AddressInfo).port;
      expect(await raw(port, [Buffer.from(GET)])).toMatch(/^HTTP\/1\.1 200 OK/);
    } finally {
      pws.destroyAll();
      await new Promise((resolve) => pws.server.close(resolve));
    }
    const lines = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['127.0.0.1']);
  });
});
