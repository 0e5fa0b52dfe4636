// The root is a wall: nothing outside STATIC_DIR is served, whatever the encoding, link or name.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exchange, get } from '../helpers/raw';
import { startInProcess, type InProcess } from '../helpers/in-process';
import { makeSite } from '../helpers/server';

const SENTINEL = 'SENTINEL-outside-the-root';
let server: InProcess;
beforeAll(async () => {
  const root = makeSite({ 'index.html': 'home', 'sub/page.txt': 'page', '.env': 'SECRET=1', '.git/config': 'x', '.well-known/security.txt': 'contact' });
  const base = path.dirname(root);
  fs.writeFileSync(path.join(base, 'secret.txt'), SENTINEL);
  fs.mkdirSync(path.join(base, 'www-old'));
  fs.writeFileSync(path.join(base, 'www-old', 'secret.txt'), SENTINEL);
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link-out.txt'));
  fs.symlinkSync(path.join(base, 'www-old'), path.join(root, 'dir-out'));
  fs.symlinkSync('/etc', path.join(root, 'etc'));
  server = await startInProcess({ staticDir: root });
});
afterAll(async () => {
  await server.stop();
});

const attempts = [
  '/../secret.txt',
  '/..%2fsecret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E%2Fsecret.txt',
  '/sub/../../secret.txt',
  '/sub/%2e%2e/%2e%2e/secret.txt',
  '/%252e%252e/secret.txt',
  '/%c0%ae%c0%ae/secret.txt',
  '/..%5csecret.txt',
  '/..\\secret.txt',
  '/%5c..%5csecret.txt',
  '/../www-old/secret.txt',
  '/link-out.txt',
  '/dir-out/secret.txt',
  '/etc/passwd',
  '/secret.txt%00.html',
  '//../secret.txt',
  'http://x/../secret.txt',
];

describe('the root wall', () => {
  it.each(attempts)('%s never reaches the sentinel and is a 4xx', async (target) => {
    const ex = await exchange(server.port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    expect(ex.responses).toHaveLength(1);
    const r = ex.responses[0];
    expect(r!.status).toBeGreaterThanOrEqual(400);
    expect(r!.status).toBeLessThan(500);
    expect(r!.body.toString()).not.toContain(SENTINEL);
    expect(r!.body.toString()).not.toContain('root:');
  });

  it.each(['/.env', '/.git/config', '/sub/../.env', '/%2eenv', '/.git/'])('hides dotfile %s with 404', async (target) => {
    expect((await get(server.port, target)).status).toBe(404);
  });

  it('still serves .well-known and ordinary files', async () => {
    expect((await get(server.port, '/.well-known/security.txt')).body.toString()).toBe('contact');
    expect((await get(server.port, '/sub/./page.txt')).body.toString()).toBe('page');
    expect((await get(server.port, '/sub//page.txt')).body.toString()).toBe('page');
    expect((await get(server.port, '/sub/x/../page.txt')).body.toString()).toBe('page');
  });
});
