// Atomic content deploys: STATIC_DIR is a symlink (`current → releases/N`) that a deploy swaps with
// one rename. PWS follows it within CACHE_VALIDATE_MS, never answers from the old release's
// cached replies after that, applies the root wall to the new folder, and finishes a response
// begun before the swap from the release it began with.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { log } from '../../src/log';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { get } from '../helpers/raw';
import { tempDir, waitFor } from '../helpers/server';

let server: InProcess | null = null;
let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const level of ['info', 'warn'] as const) jest.spyOn(log, level).mockImplementation((m: string) => void logged.push(`${level} ${m}`));
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server?.stop();
  server = null;
});

/** A deploy folder with `releases/<name>` for each release and `current` pointing at the first. */
function deployFolder(releases: Record<string, Record<string, string | Buffer>>): { base: string; current: string } {
  const base = tempDir('pws-deploy-');
  for (const [name, files] of Object.entries(releases)) {
    for (const [file, body] of Object.entries(files)) {
      const full = path.join(base, 'releases', name, file);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, body);
    }
  }
  const current = path.join(base, 'current');
  fs.symlinkSync(path.join('releases', Object.keys(releases)[0]!), current);
  return { base, current };
}

/** Points `current` at `releases/<name>` atomically, as deploy tools do: a new link renamed over it. */
function swap(base: string, name: string): void {
  const next = path.join(base, `current.${name}.tmp`);
  fs.symlinkSync(path.join('releases', name), next);
  fs.renameSync(next, path.join(base, 'current'));
}

describe('a symlinked STATIC_DIR swapped to a new release', () => {
  it('is followed without a restart, old cached replies and old-only files gone', async () => {
    const { base, current } = deployFolder({
      '1': { 'index.html': 'release one', 'a.txt': 'A1', 'only-in-1.txt': 'old', 'error.html': 'missing in one' },
      '2': { 'index.html': 'release two', 'a.txt': 'A2', 'error.html': 'missing in two' },
    });
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '0' } });
    const s = server;
    // Twice each: the second answer comes from the reply cache.
    for (let i = 0; i < 2; i++) {
      expect((await get(s.port, '/')).body.toString()).toBe('release one');
      expect((await get(s.port, '/a.txt')).body.toString()).toBe('A1');
    }
    expect((await get(s.port, '/only-in-1.txt')).status).toBe(200);
    swap(base, '2');
    expect((await get(s.port, '/')).body.toString()).toBe('release two');
    expect((await get(s.port, '/a.txt')).body.toString()).toBe('A2');
    const gone = await get(s.port, '/only-in-1.txt');
    expect(gone.status).toBe(404);
    expect(gone.body.toString()).toBe('missing in two');
    const two = fs.realpathSync(path.join(base, 'releases', '2'));
    expect(s.pws.site.root.real).toBe(two);
    expect(logged).toEqual([`info STATIC_DIR ${current} now points to ${two}: serving it`]);
  });

  it('keeps serving the release it has until CACHE_VALIDATE_MS has passed', async () => {
    const { base, current } = deployFolder({ '1': { 'a.txt': 'A1' }, '2': { 'a.txt': 'A2' } });
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '600000' } });
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
    swap(base, '2');
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
  });

  it('walls the new release in: a link from it into the old release is not served', async () => {
    const { base, current } = deployFolder({ '1': { 'secret.txt': 'old secret' }, '2': { 'index.html': 'two' } });
    fs.symlinkSync(path.join(base, 'releases', '1', 'secret.txt'), path.join(base, 'releases', '2', 'secret.txt'));
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '0' } });
    expect((await get(server.port, '/secret.txt')).status).toBe(200);
    swap(base, '2');
    expect((await get(server.port, '/secret.txt')).status).toBe(404);
  });

  it('finishes a download begun before the swap with the old release, every byte', async () => {
    const big = 8 * 1024 * 1024;
    const { base, current } = deployFolder({ '1': { 'big.bin': Buffer.alloc(big, 1) }, '2': { 'big.bin': Buffer.alloc(big, 2) } });
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '0' } });
    const s = server;
    const socket = net.connect(s.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
    });
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    // A slow reader: the response is still being sent when the deploy happens.
    socket.pause();
    await new Promise((r) => setTimeout(r, 100));
    swap(base, '2');
    expect((await get(s.port, '/big.bin')).body[0]).toBe(2);
    socket.resume();
    await closed;
    const whole = Buffer.concat(chunks);
    const body = whole.subarray(whole.indexOf('\r\n\r\n') + 4);
    expect(received).toBeGreaterThan(big);
    expect(body.length).toBe(big);
    expect(body.every((b) => b === 1)).toBe(true);
  });

  it('keeps serving the release it has while the link is missing mid-swap', async () => {
    const { base, current } = deployFolder({ '1': { 'a.txt': 'A1' } });
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '0' } });
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
    fs.unlinkSync(current);
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
    // One warning for the cause, not one per request.
    expect(logged).toEqual([expect.stringMatching(/^warn STATIC_DIR .*current cannot be resolved \(ENOENT\); still serving .*releases\/1$/)]);
    swap(base, '1');
    await waitFor('still serving', () => fs.existsSync(current));
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A1');
  });

  it('brings the _redirects of each release, and keeps the old release when the new file does not compile', async () => {
    const { base, current } = deployFolder({
      '1': { 'a.txt': 'A1', _redirects: '/old /a.txt 302\n' },
      '2': { 'a.txt': 'A2', _redirects: '/old /b.txt 302\n' },
      '3': { 'a.txt': 'A3', _redirects: '/old /c.txt 410\n' },
    });
    server = await startInProcess({ staticDir: current, env: { CACHE_VALIDATE_MS: '0' } });
    expect((await get(server.port, '/old')).headers.location).toBe('/a.txt');
    swap(base, '2');
    expect((await get(server.port, '/old')).headers.location).toBe('/b.txt');
    swap(base, '3');
    expect((await get(server.port, '/old')).headers.location).toBe('/b.txt');
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A2');
    expect(logged).toContainEqual(
      expect.stringMatching(
        /^warn STATIC_DIR .*current now points to .*releases\/3, which cannot be served \(.*_redirects line 1: status "410" is not supported/,
      ),
    );
  });
});

describe('a STATIC_DIR folder replaced in place under the same path', () => {
  it('is served as a new release: its own _redirects, no answer from the old folder', async () => {
    const base = tempDir('pws-in-place-');
    const www = path.join(base, 'www');
    const write = (files: Record<string, string>): void => {
      fs.mkdirSync(www);
      for (const [file, body] of Object.entries(files)) fs.writeFileSync(path.join(www, file), body);
    };
    write({ 'a.txt': 'A1', 'only-old.txt': 'old', _redirects: '/old /a.txt 302\n' });
    server = await startInProcess({ staticDir: www, env: { CACHE_VALIDATE_MS: '0' } });
    for (let i = 0; i < 2; i++) {
      expect((await get(server.port, '/old')).headers.location).toBe('/a.txt');
      expect((await get(server.port, '/only-old.txt')).status).toBe(200);
    }
    // `rm -rf www && mv new www`, as a deploy without symlinks does.
    fs.renameSync(www, path.join(base, 'www-gone'));
    write({ 'a.txt': 'A2', _redirects: '/old /b.txt 302\n' });
    expect((await get(server.port, '/old')).headers.location).toBe('/b.txt');
    expect((await get(server.port, '/a.txt')).body.toString()).toBe('A2');
    expect((await get(server.port, '/only-old.txt')).status).toBe(404);
    expect(logged).toContainEqual(expect.stringMatching(/^info STATIC_DIR .*www: .*www was replaced; serving the new folder$/));
  });
});
