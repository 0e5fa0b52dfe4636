// A generated corpus of 2,000+ traversal paths against a site with a sentinel file beside the
// root: the sentinel never appears in any response, and no response is a 5xx.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseResponses } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const SENTINEL = 'SENTINEL-9f2c-outside';
let server: InProcess;
beforeAll(async () => {
  const root = makeSite({ 'index.html': 'home', 'sub/deep/file.txt': 'inside' });
  fs.writeFileSync(path.join(path.dirname(root), 'sentinel.txt'), SENTINEL);
  server = await startInProcess({ staticDir: root, env: { ACCESS_LOG: 'off' } });
});
afterAll(async () => {
  await server.stop();
});

/** Every way to write "..", a separator, a prefix and a suffix that traversal scanners use. */
function corpus(): string[] {
  const dots = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '%C0%AE%C0%AE', '..%00', '..;', '...', '%%32%65%%32%65'];
  const seps = ['/', '%2f', '%2F', '%5c', '%5C', '\\', '%255c', '//', '/./', ';/'];
  const prefixes = ['/', '/sub/', '/sub/deep/', '//', '/./'];
  const suffixes = ['sentinel.txt', 'sentinel.txt%00', 'sentinel.txt%00.html', 'sentinel.txt;', 'sentinel.txt?x=1', 'SENTINEL.TXT', 'sentinel.txt/'];
  const out = new Set<string>();
  for (let depth = 1; depth <= 8; depth++) {
    for (const dot of dots) {
      for (const sep of seps) {
        const climb = Array.from({ length: depth }, () => dot).join(sep) + sep;
        for (const prefix of prefixes) out.add(`${prefix}${climb}${suffixes[(depth + dot.length + sep.length) % suffixes.length]}`);
      }
    }
  }
  for (const dot of dots) for (const sep of seps) for (const suffix of suffixes) out.add(`/sub/${dot}${sep}${dot}${sep}${suffix}`);
  for (let depth = 1; depth <= 8; depth++) {
    const mixed = Array.from({ length: depth }, (_, i) => dots[i % dots.length]).join('/');
    out.add(`http://localhost/${mixed}/sentinel.txt`);
    out.add(`/${mixed}/sentinel.txt`);
  }
  return [...out];
}

/** One request per connection (a 400 may close it), 32 at a time; returns status and body per path. */
async function fetchAll(port: number, targets: string[]): Promise<Array<{ target: string; status: number; body: string; raw: string }>> {
  const results: Array<{ target: string; status: number; body: string; raw: string }> = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let target = targets[next++]; target !== undefined; target = targets[next++]) {
      const raw = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('close', () => resolve(Buffer.concat(chunks)));
        s.on('error', () => undefined);
      });
      const [r] = parseResponses(raw).responses;
      results.push({ target, status: r?.status ?? 0, body: r?.body.toString('latin1') ?? '', raw: raw.toString('latin1') });
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return results;
}

describe('traversal corpus', () => {
  it('has at least 2,000 distinct paths', () => {
    expect(corpus().length).toBeGreaterThanOrEqual(2000);
  });

  it('never serves the sentinel and never answers 5xx', async () => {
    const results = await fetchAll(server.port, corpus());
    expect(results.length).toBeGreaterThanOrEqual(2000);
    const leaks = results.filter((r) => r.raw.includes(SENTINEL)).map((r) => r.target);
    const fivexx = results.filter((r) => r.status >= 500).map((r) => `${r.status} ${r.target}`);
    const noAnswer = results.filter((r) => r.status === 0).map((r) => r.target);
    expect(leaks).toEqual([]);
    expect(fivexx).toEqual([]);
    expect(noAnswer).toEqual([]);
    // Every one is a refusal: 400 (bad or climbing path) or 404 (not inside the root).
    expect(results.filter((r) => r.status !== 400 && r.status !== 404).map((r) => `${r.status} ${r.target}`)).toEqual([]);
  }, 60_000);
});
