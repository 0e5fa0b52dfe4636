// Plain HTTP sent to the TLS port gets nginx's 400 ("The plain HTTP request was sent to HTTPS
// port") and a close; TLS clients of both protocols are served from the same port as before;
// other bytes, silence and a stalled handshake are closed unanswered.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import tls from 'node:tls';
import { parseResponses } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite, selfSignedCert } from '../helpers/server';
import { closeH2Sessions, tlsRequest } from '../helpers/tls-clients';

const index = '<p>home</p>\n';
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
let site: string;
let pem: { cert: string; key: string };
let server: InProcess;
/** HEADERS_TIMEOUT_MS and KEEP_ALIVE_TIMEOUT_MS of 500 ms, MAX_CONNECTIONS 1. */
let quick: InProcess;

beforeAll(async () => {
  site = makeSite({ 'index.html': index });
  pem = selfSignedCert();
  server = await startInProcess({ staticDir: site, env: { TLS_CERT: pem.cert, TLS_KEY: pem.key } });
  quick = await startInProcess({
    staticDir: site,
    env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, HEADERS_TIMEOUT_MS: '500', KEEP_ALIVE_TIMEOUT_MS: '500', MAX_CONNECTIONS: '1' },
  });
});
afterAll(async () => {
  closeH2Sessions();
  await server.stop();
  await quick.stop();
});

/**
 * Connects and sends `bytes` (if any), and never closes first; with `keepSending`, goes on sending
 * header lines every 50 ms, as the rest of a long request would. Resolves with what came back
 * and how long the server took to close the connection (to end it, or with `keepSending` to
 * destroy it).
 */
function untilClosed(port: number, bytes: Buffer | null, keepSending = false): Promise<{ received: Buffer; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const received: Buffer[] = [];
    // Half-open: the server's FIN is not answered with ours, so only the server can close.
    const c = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const filler = keepSending ? setInterval(() => c.write('X-Filler: 1\r\n'), 50) : undefined;
    c.on('connect', () => {
      if (bytes !== null) c.write(bytes);
    });
    c.on('data', (d: Buffer) => received.push(d));
    // Sending on after the server's FIN, the client learns of the close from a reset.
    c.on('end', () => {
      if (!keepSending) c.destroy();
    });
    c.on('error', () => undefined);
    c.on('close', () => {
      clearInterval(filler);
      resolve({ received: Buffer.concat(received), ms: Date.now() - started });
    });
  });
}

/** The one response in `received`, which must be the plain-HTTP 400 and nothing else. */
function expectPlainHttpAnswer(received: Buffer): void {
  const { responses, rest } = parseResponses(received);
  expect(responses).toHaveLength(1);
  const r = responses[0]!;
  expect(r.statusLine).toBe('HTTP/1.1 400 Bad Request');
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r.headers['content-security-policy']).toBe("default-src 'none'");
  expect(r.headers.connection).toBe('close');
  expect(Number(r.headers['content-length'])).toBe(r.body.length);
  expect(r.body.toString()).toContain('The plain HTTP request was sent to HTTPS port');
  expect(r.body.toString()).toContain('https://');
  expect(rest.length).toBe(0);
}

describe('plain HTTP on the TLS port', () => {
  it('answers 400 with a page that says to use https, then closes', async () => {
    const received: Buffer[] = [];
    const closed = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: server.port }, () => c.write(REQUEST));
      c.on('data', (d: Buffer) => received.push(d));
      c.on('end', () => resolve(true));
      c.on('error', () => resolve(false));
    });
    expect(closed).toBe(true);
    expectPlainHttpAnswer(Buffer.concat(received));
  });

  it('answers on a first packet of one byte, and closes once the client has sent the rest', async () => {
    const received: Buffer[] = [];
    const c = net.connect({ host: '127.0.0.1', port: server.port });
    c.on('error', () => undefined);
    c.write('G');
    // The answer comes before the rest of the request is sent.
    await new Promise<void>((resolve) =>
      c.on('data', (d: Buffer) => {
        received.push(d);
        if (parseResponses(Buffer.concat(received)).responses.length === 1) resolve();
      }),
    );
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    c.write(REQUEST.slice(1));
    await closed;
    expectPlainHttpAnswer(Buffer.concat(received));
  });

  it('closes a client that never closes its side after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const { received, ms } = await untilClosed(quick.port, Buffer.from('GET / HTTP/1.1\r\n'), true);
    expectPlainHttpAnswer(received);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5000);
  });

  it('closes bytes that are neither HTTP nor TLS without an answer', async () => {
    for (const first of [0x00, 0x17, 0x80, 0xff, 0x61 /* 'a' */]) {
      const { received } = await untilClosed(server.port, Buffer.from([first, 0x03, 0x01, 0x00, 0x2a, 0x9c, 0x10]));
      expect(received.length).toBe(0);
    }
  });

  it('closes a silent connection after HEADERS_TIMEOUT_MS', async () => {
    const { received, ms } = await untilClosed(quick.port, null);
    expect(received.length).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5000);
  });

  it('closes a handshake that stalls after its first byte after HEADERS_TIMEOUT_MS', async () => {
    const { received, ms } = await untilClosed(quick.port, Buffer.from([0x16]));
    expect(received.length).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5000);
  });
});

describe('TLS on the same port', () => {
  it.each(['http/1.1', 'h2'] as const)('serves %s', async (protocol) => {
    const r = await tlsRequest(protocol, server.port, { path: '/' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(index);
  });

  it('serves a ClientHello that arrives one byte at a time', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      // A TCP proxy in front of the port that forwards the client's bytes one by one.
      const relay = net.createServer((inbound) => {
        const outbound = net.connect({ host: '127.0.0.1', port: server.port });
        outbound.setNoDelay(true);
        inbound.on('data', (d: Buffer) => {
          inbound.pause();
          let i = 0;
          const next = (): void => {
            if (i === d.length) {
              inbound.resume();
              return;
            }
            outbound.write(d.subarray(i, ++i), () => setTimeout(next, 1));
          };
          next();
        });
        outbound.pipe(inbound);
        inbound.on('close', () => outbound.destroy());
        outbound.on('close', () => inbound.destroy());
      });
      relay.listen(0, '127.0.0.1', () => {
        const c = tls.connect({ host: '127.0.0.1', port: (relay.address() as net.AddressInfo).port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
        let got = '';
        c.on('secureConnect', () => c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        c.on('data', (d: Buffer) => (got += d.toString()));
        c.on('end', () => {
          relay.close();
          resolve(got);
        });
        c.on('error', reject);
      });
    });
    expect(answer.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(answer.endsWith(index)).toBe(true);
  });

  it('counts handed-over TLS connections against MAX_CONNECTIONS, and none still at the door', async () => {
    // At the door: a silent connection and a plain-HTTP one lingering after its 400.
    const silent = untilClosed(quick.port, null);
    const lingering = untilClosed(quick.port, Buffer.from('GET / HTTP/1.1\r\n'), true);
    const held = tls.connect({ host: '127.0.0.1', port: quick.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    held.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => held.on('secureConnect', () => resolve()));
      held.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise<void>((resolve) => held.once('data', () => resolve()));
      expect(quick.pws.open()).toBe(1);
      const busy = await tlsRequest('http/1.1', quick.port, { path: '/' });
      expect(busy.status).toBe(503);
      // Plain HTTP is not served: it gets its 400 with every slot taken.
      expectPlainHttpAnswer((await untilClosed(quick.port, Buffer.from(REQUEST))).received);
    } finally {
      held.destroy();
    }
    expect((await silent).received.length).toBe(0);
    expectPlainHttpAnswer((await lingering).received);
  });
});
