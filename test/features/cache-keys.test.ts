// The reply cache keeps to its budget whatever clients send: keys are made of what a reply
// depends on (not the query, not the bytes of If-None-Match, Accept-Encoding or Origin), and
// keys and overhead count in CACHE_MAX_BYTES. Conditional requests are answered from the cached
// 200, on a miss and on a hit alike. The server runs in this process so that its cache can be
// inspected.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { createPwsServer, type PwsServer } from '../../src/app';
import { createHttpServer } from '../../src/net/server';
import { withMethods } from '../../src/site/methods';
import { redirectToHttps } from '../../src/site/redirect';
import { etagFor, lastModifiedFor } from '../../src/static/validators';
import { exchange, get, type Response } from '../helpers/raw';
import { makeSite } from '../helpers/server';

const BUDGET = 1024 * 1024;
let pws: PwsServer;
let port: number;
let root: string;

beforeAll(async () => {
  root = makeSite({ 'index.html': '<!doctype html><title>home</title>', 'app.js': 'console.log(1);\n'.repeat(200), 'sub/index.html': 'sub' });
  const config = loadConfig({ STATIC_DIR: root, ACCESS_LOG: 'off', CACHE_MAX_BYTES: String(BUDGET), CORS: 'https://a.example' }, root);
  pws = createPwsServer(config);
  await new Promise<void>((r) => pws.server.listen(0, '127.0.0.1', () => r()));
  port = (pws.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  pws.destroyAll();
  await new Promise((r) => pws.server.close(r));
});

const replies = (): PwsServer['site']['replies'] => pws.site.replies;

/** Sends `requests` pipelined on `lanes` connections and returns every response. */
async function flood(requests: string[], lanes = 4): Promise<Response[]> {
  const per = Math.ceil(requests.length / lanes);
  const out = await Promise.all(
    Array.from({ length: lanes }, (_, i) => {
      const mine = requests.slice(i * per, (i + 1) * per);
      return mine.length === 0 ? Promise.resolve({ responses: [] }) : exchange(port, mine.join(''), { responses: mine.length, idleMs: 10_000 });
    }),
  );
  return out.flatMap((e) => e.responses);
}

describe('reply cache keys', () => {
  it('keeps one entry for a 404 asked with 3,000 distinct 8 KB queries and 15 KB If-None-Match values', async () => {
    const inm = `"${'b'.repeat(14_998)}"`;
    const requests = Array.from({ length: 3000 }, (_, i) => `GET /nope?${i}${'a'.repeat(8000)} HTTP/1.1\r\nHost: t\r\nIf-None-Match: ${inm}${i}\r\n\r\n`);
    const responses = await flood(requests);
    expect(responses).toHaveLength(3000);
    expect(responses.every((r) => r.status === 404)).toBe(true);
    expect(replies().count).toBeLessThanOrEqual(2);
    expect(replies().byteSize).toBeLessThan(64 * 1024);
  });

  it('keeps one entry per representation for 2,000 distinct Accept-Encoding and Origin values', async () => {
    const before = replies().count;
    const requests = Array.from(
      { length: 2000 },
      (_, i) => `GET /app.js HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, x-${i}-${'e'.repeat(200)}\r\nOrigin: https://o${i}.example\r\n\r\n`,
    );
    const responses = await flood(requests);
    expect(responses.every((r) => r.status === 200 && r.headers['content-encoding'] === 'gzip')).toBe(true);
    expect(responses.every((r) => r.headers['access-control-allow-origin'] === undefined)).toBe(true);
    expect(replies().count - before).toBeLessThanOrEqual(1);
    // An allowed origin is echoed, so it is a key of its own.
    const allowed = await get(port, '/app.js', ['Host: t', 'Origin: https://a.example']);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://a.example');
  });

  it('holds at most CACHE_MAX_BYTES, keys included, for 2,000 distinct unknown 7 KB paths', async () => {
    const requests = Array.from({ length: 2000 }, (_, i) => `GET /missing/${i}/${'p'.repeat(7000)} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const responses = await flood(requests);
    expect(responses.every((r) => r.status === 404)).toBe(true);
    expect(replies().byteSize).toBeLessThanOrEqual(BUDGET);
    // Each key is charged twice its length: at most 1 MiB / 14 KB of them fit.
    expect(replies().count).toBeLessThan(80);
  });

  it('gives the directory redirect of a request without a query only to requests without one', async () => {
    expect((await get(port, '/sub')).headers.location).toBe('/sub/');
    expect((await get(port, '/sub?x=1')).headers.location).toBe('/sub/?x=1');
    expect((await get(port, '/sub')).headers.location).toBe('/sub/');
  });
});

describe('conditional requests through the cache', () => {
  it('answers If-None-Match and If-Modified-Since from the 200, on the first (missing) request and on hits', async () => {
    fs.writeFileSync(path.join(root, 'cond.txt'), 'conditional');
    const st = fs.statSync(path.join(root, 'cond.txt'));
    const etag = etagFor(st.size, st.mtimeMs);
    const lastModified = lastModifiedFor(st.mtimeMs);
    for (let i = 0; i < 3; i++) {
      const r = await get(port, '/cond.txt', ['Host: t', `If-None-Match: "other", ${etag}`]);
      expect({ i, status: r.status, length: r.body.length, type: r.headers['content-type'], etag: r.headers.etag }).toEqual({
        i,
        status: 304,
        length: 0,
        type: undefined,
        etag,
      });
    }
    expect(replies().keyOf('/cond.txt', [], [])).toBe('/cond.txt');
    expect(replies().get('/cond.txt', Date.now())?.reply.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await get(port, '/cond.txt', ['Host: t', 'If-None-Match: "other"'])).body.toString()).toBe('conditional');
      expect((await get(port, '/cond.txt', ['Host: t', `If-Modified-Since: ${lastModified}`])).status).toBe(304);
      expect((await get(port, '/cond.txt', ['Host: t', 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT'])).status).toBe(200);
      const head = await get(port, '/cond.txt', ['Host: t', `If-None-Match: ${etag}`], 'HEAD');
      expect(head.status).toBe(304);
    }
  });
});

describe('replies that depend on more than the cache key', () => {
  it('are never cached: the HTTPS redirect names each request own Host, whatever came before', async () => {
    const config = loadConfig({ STATIC_DIR: root, ACCESS_LOG: 'off' }, root);
    const http = createHttpServer(
      config,
      withMethods(
        config,
        redirectToHttps(() => 8443),
      ),
    );
    await new Promise<void>((r) => http.server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (http.server.address() as net.AddressInfo).port;
      for (const host of ['a.example', 'b.example', 'a.example', 'c.example']) {
        const r = await get(port, '/sub/', [`Host: ${host}`]);
        expect(r.headers.location).toBe(`https://${host}:8443/sub/`);
      }
    } finally {
      http.destroyAll();
      http.server.close();
    }
  });
});
