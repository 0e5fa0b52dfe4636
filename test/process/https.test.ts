// HTTPS: the same handler over node:tls with a certificate made here by openssl, TLS 1.2+ only,
// HTTP_REDIRECT_PORT answering 308 to https, and the HEALTH_PATH probe.

import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/measure';
import { get, parseResponses } from '../helpers/raw';
import { makeSite, selfSignedCert, startServer, type Running } from '../helpers/server';

let server: Running;
let redirectPort: number;
beforeAll(async () => {
  const pem = selfSignedCert();
  redirectPort = await freePort();
  server = await startServer({
    staticDir: makeSite({ 'index.html': 'secure hello' }),
    workers: 1,
    env: { TLS_CERT: pem.cert, TLS_KEY: pem.key, HTTP_REDIRECT_PORT: String(redirectPort), HEALTH_PATH: '/healthz', ACCESS_LOG: 'off' },
  });
});
afterAll(async () => {
  await server.stop();
});

function httpsGet(port: number, target: string, options: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...options }, () =>
      s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
    );
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('HTTPS', () => {
  it('serves over TLS with the same handler', async () => {
    const raw = await httpsGet(server.port, '/');
    const [r] = parseResponses(Buffer.from(raw, 'latin1')).responses;
    expect(r!.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r!.body.toString()).toBe('secure hello');
    expect(server.output().stdout).toContain(`https://127.0.0.1:${server.port}`);
  });

  it('negotiates TLS 1.2 or newer and refuses TLS 1.1', async () => {
    const version = await new Promise<string | null>((resolve, reject) => {
      const s = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        resolve(s.getProtocol());
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(['TLSv1.2', 'TLSv1.3']).toContain(version);
    await expect(httpsGet(server.port, '/', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).rejects.toThrow();
  });

  it('answers plain HTTP on the TLS port with a 400 that says to use https, never with the site', async () => {
    const ex = await new Promise<string>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n'));
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(ex).not.toContain('secure hello');
    expect(ex).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(ex).toContain('https://');
  });

  it('redirects plain HTTP on HTTP_REDIRECT_PORT with 308 to the same path over https', async () => {
    const r = await get(redirectPort, '/a/b?c=1', ['Host: example.test:8080']);
    expect(r.statusLine).toBe('HTTP/1.1 308 Permanent Redirect');
    expect(r.headers.location).toBe(`https://example.test:${server.port}/a/b?c=1`);
  });

  it('answers the HEALTH_PATH probe on HTTP_REDIRECT_PORT too, and the method policy there', async () => {
    const health = await get(redirectPort, '/healthz', ['Host: example.test']);
    expect({ status: health.status, body: health.body.toString() }).toEqual({ status: 200, body: 'ok\n' });
    const post = await get(redirectPort, '/a', ['Host: example.test'], 'POST');
    expect(post.status).toBe(405);
  });

  it('answers the HEALTH_PATH probe with 200 ok', async () => {
    const raw = await httpsGet(server.port, '/healthz');
    const [r] = parseResponses(Buffer.from(raw, 'latin1')).responses;
    expect(r!.status).toBe(200);
    expect(r!.body.toString()).toBe('ok\n');
    expect(r!.headers['cache-control']).toBe('no-store');
  });
});
