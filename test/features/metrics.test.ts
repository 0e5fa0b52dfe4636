// METRICS_PATH over sockets, in one worker: what each request adds, by protocol, method and status
// class; the cache and connection figures; both exposition formats; METRICS_PORT keeping the
// metrics off the site's port.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/measure';
import { parseExposition as parse } from '../helpers/exposition';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { exchange, get } from '../helpers/raw';
import { makeSite, selfSignedCert } from '../helpers/server';
import { closeH2Sessions, tlsRequest } from '../helpers/tls-clients';

async function scrape(port: number, accept?: string): Promise<Map<string, number>> {
  const r = await get(port, '/metrics', ['Host: x', ...(accept === undefined ? [] : [`Accept: ${accept}`])]);
  expect(r.status).toBe(200);
  return parse(r.body.toString());
}

const GET_2XX = 'pws_http_requests_total{protocol="http/1.1",method="GET",code="2xx"}';

let server: InProcess;
beforeAll(async () => {
  server = await startInProcess({ staticDir: makeSite({ 'index.html': 'home', 'app.css': 'body{}'.repeat(400) }), env: { METRICS_PATH: '/metrics' } });
});
afterAll(async () => {
  await server.stop();
});

describe('METRICS_PATH', () => {
  it('counts each request by protocol, method and status class, with its bytes and duration', async () => {
    const before = await scrape(server.port);
    for (let i = 0; i < 5; i++) await get(server.port, '/');
    await get(server.port, '/missing');
    await get(server.port, '/', ['Host: x'], 'HEAD');
    await get(server.port, '/', ['Host: x'], 'DELETE');
    const after = await scrape(server.port);
    const moved = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    // The first scrape counts too, once it is answered.
    expect(moved(GET_2XX)).toBe(5 + 1);
    expect(moved('pws_http_requests_total{protocol="http/1.1",method="GET",code="4xx"}')).toBe(1);
    expect(moved('pws_http_requests_total{protocol="http/1.1",method="HEAD",code="2xx"}')).toBe(1);
    expect(moved('pws_http_requests_total{protocol="http/1.1",method="other",code="4xx"}')).toBe(1);
    expect(moved('pws_http_request_duration_seconds_count{protocol="http/1.1"}')).toBe(9);
    expect(moved('pws_http_request_duration_seconds_bucket{protocol="http/1.1",le="+Inf"}')).toBe(9);
    // Shown in seconds (kept in whole microseconds): nine loopback requests take well under 9 s.
    expect(moved('pws_http_request_duration_seconds_sum{protocol="http/1.1"}')).toBeGreaterThan(0);
    expect(moved('pws_http_request_duration_seconds_sum{protocol="http/1.1"}')).toBeLessThan(9);
    expect(moved('pws_http_response_bytes_total{protocol="http/1.1"}')).toBeGreaterThanOrEqual(5 * 4);
    expect(after.get('pws_reply_cache_hits_total')).toBeGreaterThanOrEqual(4);
    expect(after.get('pws_reply_cache_entries')).toBeGreaterThanOrEqual(2);
    expect(after.get('pws_workers')).toBe(1);
    const build = [...after.keys()].find((k) => k.startsWith('pws_build_info'));
    expect(build).toMatch(new RegExp(`^pws_build_info\\{version="\\d+\\.\\d+\\.\\d+",node="${process.version}"\\}$`));
    expect(after.get(build ?? '')).toBe(1);
  });

  it('counts open and idle connections, and compressed results', async () => {
    const ex = exchange(server.port, ['GET /app.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n'], { responses: 1 });
    await ex;
    const idle = await new Promise<net.Socket>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
    });
    try {
      const m = await scrape(server.port);
      expect(m.get('pws_connections_open')).toBeGreaterThanOrEqual(2);
      expect(m.get('pws_connections_idle')).toBeGreaterThanOrEqual(1);
      expect((m.get('pws_compression_cache_misses_total') ?? 0) + (m.get('pws_compression_cache_hits_total') ?? 0)).toBeGreaterThanOrEqual(1);
    } finally {
      idle.destroy();
    }
  });

  it('answers OpenMetrics when asked, and never lets a cache keep it', async () => {
    const r = await get(server.port, '/metrics', ['Host: x', 'Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5']);
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body.toString()).toMatch(/# TYPE pws_http_requests counter\n/);
    expect(r.body.toString().endsWith('# EOF\n')).toBe(true);
    const plain = await get(server.port, '/metrics');
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts HTTP/2 streams under their own protocol', async () => {
    const pem = selfSignedCert();
    const tls = await startInProcess({
      staticDir: makeSite({ 'index.html': 'home' }),
      env: { METRICS_PATH: '/metrics', TLS_CERT: pem.cert, TLS_KEY: pem.key },
    });
    try {
      for (let i = 0; i < 3; i++) expect((await tlsRequest('h2', tls.port, { path: '/' })).status).toBe(200);
      const r = await tlsRequest('h2', tls.port, { path: '/metrics' });
      expect(parse(r.body.toString()).get('pws_http_requests_total{protocol="h2",method="GET",code="2xx"}')).toBe(3);
    } finally {
      closeH2Sessions();
      await tls.stop();
    }
  });
});

describe('METRICS_PORT', () => {
  it('is refused without METRICS_PATH, and on the site port', async () => {
    await expect(startInProcess({ staticDir: makeSite({ 'index.html': 'x' }), env: { METRICS_PORT: '9100' } })).rejects.toThrow(
      'METRICS_PORT="9100" is invalid: needs METRICS_PATH',
    );
    const port = await freePort();
    await expect(
      startInProcess({ staticDir: makeSite({ 'index.html': 'x' }), env: { METRICS_PATH: '/metrics', METRICS_PORT: String(port), PORT: String(port) } }),
    ).rejects.toThrow('must differ from PORT');
  });

  it('takes the metrics off the site’s port', async () => {
    const port = await freePort();
    const s = await startInProcess({ staticDir: makeSite({ 'index.html': 'x' }), env: { METRICS_PATH: '/metrics', METRICS_PORT: String(port) } });
    try {
      expect((await get(s.port, '/metrics')).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});
