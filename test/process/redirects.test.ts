// Redirects never point off-site and never carry markup: a generated corpus of hostile targets
// (leading slashes, backslashes, encoded slashes and dots in every form, absolute form, control
// and markup characters) against the directory redirect and the HTTP → HTTPS redirect port.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/measure';
import { parseResponses, type Response } from '../helpers/raw';
import { makeSite, selfSignedCert, startServer, type Running } from '../helpers/server';

/** What a Location built by PWS may hold: RFC 3986 unreserved, sub-delims, ":", "@", "/", "?" and %XX. */
const URI_BYTES = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

let root: string;
let server: Running;
let tlsServer: Running;
let redirectPort: number;
let rules: Running;

beforeAll(async () => {
  root = makeSite({ 'index.html': 'home', 'sub/index.html': 'sub', 'evil.example/index.html': 'a folder, not a host' });
  for (const dir of ['odd/<b>', 'odd/"q"', 'a b', 'ünï', '%41', 'x/y']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  server = await startServer({ staticDir: root, workers: 1, env: { ACCESS_LOG: 'off' } });
  // _redirects rules that put whatever the client sent into the Location, forced everywhere.
  const ruled = makeSite({ 'index.html': 'home', _redirects: '/:first/* /moved/:first/:splat 302!\n/* /:splat/ 301!\n' });
  rules = await startServer({ staticDir: ruled, workers: 1, env: { ACCESS_LOG: 'off' } });
  const tls = selfSignedCert();
  redirectPort = await freePort();
  tlsServer = await startServer({
    staticDir: root,
    workers: 1,
    env: { TLS_CERT: tls.cert, TLS_KEY: tls.key, HTTP_REDIRECT_PORT: String(redirectPort), ACCESS_LOG: 'off' },
  });
});
afterAll(async () => {
  await Promise.all([server.stop(), tlsServer.stop(), rules.stop()]);
});

/** One request on its own connection; the first response, or null if the server closed without one. */
function ask(port: number, target: string, host = 'pws.test'): Promise<Response | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1')));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(parseResponses(Buffer.concat(chunks)).responses[0] ?? null));
  });
}

/** Runs `ask` over `targets`, a few at a time. */
async function askAll(port: number, targets: string[]): Promise<Array<[string, Response | null]>> {
  const out: Array<[string, Response | null]> = [];
  for (let i = 0; i < targets.length; i += 25) {
    const batch = targets.slice(i, i + 25);
    const answers = await Promise.all(batch.map((t) => ask(port, t)));
    batch.forEach((t, j) => out.push([t, answers[j] ?? null]));
  }
  return out;
}

/** The hostile corpus: every combination of a way to start, a host, a way to climb, a folder and a tail. */
function hostileTargets(): string[] {
  const starts = ['//', '///', '/\\', '/%2f', '/%2F/', '/%5c', '/%5C%5C', 'http://x//', 'http://x/', 'HTTP://x//', 'https://x///'];
  const hosts = ['evil.example', 'evil.example:80', 'user@evil.example', '%65vil.example'];
  const climbs = ['/../', '/..%2f', '/%2e%2e/', '/%2E%2e%2F', '/.%2e/', '/./../', '/%2e./', '/..;/'];
  const folders = ['sub', 'odd/<b>', 'odd/%3Cb%3E', 'odd/"q"', 'a%20b', '%C3%BC%6E%C3%AF', '%2541', 'x%2fy', 'evil.example'];
  const tails = ['', '?x=1', '?<script>alert(1)</script>', '?a="b"', '?%zz', '?next=//evil.example', '#frag', '?a%0d%0aSet-Cookie:x=1'];
  const set = new Set<string>();
  for (const start of starts) {
    for (const host of hosts) {
      for (const climb of climbs) set.add(`${start}${host}${climb}sub`);
      set.add(`${start}${host}`);
    }
  }
  for (const folder of folders) for (const tail of tails) set.add(`/${folder}${tail}`);
  for (const folder of folders) for (const start of starts.slice(0, 6)) set.add(`${start}${folder}`);
  for (const ctl of ['%0d%0aLocation:%20http://evil.example', '%09', '%00', '%7f', '\\evil.example', '%E2%80%AE']) set.add(`/sub${ctl}`);
  return [...set];
}

function expectSafeRelative(target: string, location: string): void {
  const why = `${target} → ${location}`;
  expect({ why, ok: URI_BYTES.test(location) }).toEqual({ why, ok: true });
  expect({ why, start: location[0], second: location[1] }).toMatchObject({ why, start: '/' });
  expect({ why, protocolRelative: location.startsWith('//') || location.startsWith('/\\') }).toEqual({ why, protocolRelative: false });
  expect({ why, host: new URL(location, 'http://pws.test/').host }).toEqual({ why, host: 'pws.test' });
}

/** The redirect page holds no markup from the request, and its one link is the Location, escaped. */
function expectPageLinksTo(r: Response, location: string): void {
  const body = r.body.toString('latin1');
  expect(body).not.toMatch(/[<>"]script/);
  const hrefs = [...body.matchAll(/href="([^"]*)"/g)].map((m) => m[1]?.replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
  expect({ location, hrefs }).toEqual({ location, hrefs: [location] });
}

/**
 * Fires the hostile corpus at `port` and checks every redirect among the answers (safe, relative,
 * its page linking to it alone) and that nothing is a 5xx; resolves with the number of redirects.
 */
async function safeRedirects(port: number): Promise<number> {
  let redirects = 0;
  for (const [target, r] of await askAll(port, hostileTargets())) {
    if (r === null) continue; // refused at the parser (a raw control byte): no Location at all
    expect({ target, status: r.status < 500 }).toEqual({ target, status: true });
    const location = r.headers.location;
    if (location === undefined) continue;
    redirects++;
    expectSafeRelative(target, location);
    expectPageLinksTo(r, location);
  }
  return redirects;
}

describe('the directory redirect', () => {
  it.each([
    ['//evil.example/..%2fsub', '/sub/'],
    ['///evil.example/../sub', '/sub/'],
    ['//evil.example/%2e%2e/sub', '/sub/'],
    ['http://x//evil.example/../sub', '/sub/'],
    ['//evil.example', '/evil.example/'],
    ['/odd/<b>', '/odd/%3Cb%3E/'],
    ['/odd/"q"', '/odd/%22q%22/'],
    ['/a%20b', '/a%20b/'],
    ['/%C3%BCn%C3%AF', '/%C3%BCn%C3%AF/'],
    ['/%2541', '/%2541/'],
    ['/sub?x=1&y=/z', '/sub/?x=1&y=/z'],
    ['/sub?<x>', '/sub/'],
    ['/sub?a=%zz', '/sub/'],
  ])('%s → Location %s', async (target, location) => {
    const r = await ask(server.port, target);
    expect(r?.status).toBe(301);
    expect(r?.headers.location).toBe(location);
  });

  it('never points off-site or carries raw markup, for every target of the hostile corpus', async () => {
    expect(hostileTargets().length).toBeGreaterThanOrEqual(200);
    // The corpus reaches the redirect, not only the 400s and 404s around it.
    expect(await safeRedirects(server.port)).toBeGreaterThanOrEqual(100);
  });
});

describe('_redirects rules with splats and placeholders', () => {
  it('never point off-site or carry raw markup, for every target of the hostile corpus', async () => {
    expect(await safeRedirects(rules.port)).toBeGreaterThanOrEqual(150);
    // The root: an empty splat between two slashes collapses to one.
    expect((await ask(rules.port, '/'))?.headers.location).toBe('/');
  });
});

describe('the HTTP → HTTPS redirect port', () => {
  it('names only the request own host and a re-encoded path, for every target of the hostile corpus', async () => {
    const targets = hostileTargets();
    const answers = await askAll(redirectPort, targets);
    let redirects = 0;
    for (const [target, r] of answers) {
      if (r === null || r.status !== 308) continue;
      redirects++;
      const location = r.headers.location ?? '';
      const url = new URL(location);
      // Absolute form names its own host (RFC 9112 §3.2.2); otherwise Host does.
      const asked = /^https?:\/\/([^/?#]*)/i.exec(target)?.[1] ?? 'pws.test';
      const why = `${target} → ${location}`;
      expect({ why, scheme: url.protocol, host: url.hostname }).toEqual({ why, scheme: 'https:', host: asked.replace(/:\d+$/, '') });
      expect({ why, port: url.port }).toEqual({ why, port: String(tlsServer.port) });
      const rest = location.slice(`https://${url.host}`.length);
      expectSafeRelative(target, rest);
    }
    expect(redirects).toBeGreaterThanOrEqual(150);
  });

  it('answers 400 rather than redirect to a Host it cannot name safely', async () => {
    for (const host of ['', 'evil.example%2f', 'a..b', '[evil]']) {
      const r = await ask(redirectPort, '/sub', host);
      expect({ host, status: r?.status, location: r?.headers.location }).toEqual({ host, status: 400, location: undefined });
    }
    const ok = await ask(redirectPort, '/a%20b/?q=1', 'pws.test:80');
    expect(ok?.headers.location).toBe(`https://pws.test:${tlsServer.port}/a%20b/?q=1`);
  });
});
