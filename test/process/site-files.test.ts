// The site files over a server's life: a `_redirects` broken in place after the start does not
// take down a worker that replaces a crashed one (the primary refused it at start and refuses it
// on reload); that worker serves the site without the rules and says so.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/measure';
import { get } from '../helpers/raw';
import { alive, makeSite, startServer, waitFor, workerPid, type Running } from '../helpers/server';

let server: Running | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

describe('a _redirects broken in place', () => {
  it('is refused on reload, and a replacement worker serves without it instead of failing to start', async () => {
    const root = makeSite({ 'index.html': 'home', 'b.txt': 'b', _redirects: '/a /b.txt 302\n' });
    // A fixed port: with PORT=0 the one worker's replacement would listen on a new one.
    server = await startServer({ staticDir: root, workers: 1, env: { ACCESS_LOG: 'off', PORT: String(await freePort()) } });
    const s = server;
    expect((await get(s.port, '/a')).headers.location).toBe('/b.txt');
    fs.writeFileSync(path.join(root, '_redirects'), '/a /b.txt 410\n');

    process.kill(s.proc.pid ?? -1, 'SIGHUP');
    await waitFor('the refusal', () => s.output().stderr.includes('reload refused'));
    expect(s.output().stderr).toMatch(/reload refused, the workers keep serving: .*_redirects line 1: status "410" is not supported/);
    expect((await get(s.port, '/a')).headers.location).toBe('/b.txt');

    const crashed = workerPid(s.proc.pid);
    process.kill(crashed, 'SIGKILL');
    await waitFor('a replacement', () => !alive(crashed) && s.output().stderr.includes('serving without'), 15_000);
    let answer = 0;
    await waitFor('the replacement serving', () => {
      void get(s.port, '/').then(
        (r) => (answer = r.status),
        () => undefined,
      );
      return answer === 200;
    });
    expect(s.output().stderr).toMatch(
      /_redirects line 1: status "410" is not supported.*; serving without the site's _redirects and _headers until it is fixed/,
    );
    expect((await get(s.port, '/a')).status).toBe(404);
  });
});
