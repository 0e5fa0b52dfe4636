// Under pm2 (cluster mode, ecosystem.config.js): .env and the shell's environment reach the workers,
// three reloads under load fail no request, and stop/delete work. A private PM2_HOME is used and
// its daemon killed afterwards, so no other pm2 on the machine is touched.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LoadClient } from '../../scripts/load';
import { freePort } from '../../scripts/measure';
import { get } from '../helpers/raw';
import { childEnv, makeSite, tempDir, waitFor } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
const PM2 = path.join(REPO, 'node_modules', 'pm2', 'bin', 'pm2');

let pm2Home: string;
let app: string;
let port: number;
let env: NodeJS.ProcessEnv;

function pm2(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PM2, ...args], { cwd: app, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: stdout + stderr });
    });
  });
}

const body = Buffer.from('<h1>served via .env under pm2</h1>');
const medium = Buffer.alloc(100 * 1024, 'q');

beforeAll(async () => {
  // Not tempDir: that folder is removed by the shared cleanup hook, which may run before this
  // file's afterAll, and `pm2 kill` needs PM2_HOME to find its daemon.
  pm2Home = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-pm2home-'));
  // The app folder: this build and ecosystem file, plus a .env of its own.
  app = tempDir('pws-pm2app-');
  fs.copyFileSync(path.join(REPO, 'ecosystem.config.js'), path.join(app, 'ecosystem.config.js'));
  for (const entry of ['dist', 'node_modules', 'package.json']) fs.symlinkSync(path.join(REPO, entry), path.join(app, entry));
  const site = makeSite({ 'index.html': body, 'medium.bin': medium });
  fs.writeFileSync(path.join(app, '.env'), `STATIC_DIR=${site}\nHOST=127.0.0.1\n`);
  port = await freePort();
  env = childEnv({ PM2_HOME: pm2Home, PORT: String(port), WORKERS: '2' });
});

afterAll(async () => {
  await pm2('kill');
  // Should `pm2 kill` leave its daemon behind, end it: no test leaves a process running.
  try {
    process.kill(Number(fs.readFileSync(path.join(pm2Home, 'pm2.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // already gone, as it should be
  }
  fs.rmSync(pm2Home, { recursive: true, force: true });
});

describe('pm2', () => {
  it('starts two cluster instances that serve the folder named in .env on the port from the shell', async () => {
    const started = await pm2('start', 'ecosystem.config.js');
    expect(started.code).toBe(0);
    const list = await pm2('jlist');
    const procs = JSON.parse(list.out.slice(list.out.indexOf('['))) as Array<{ name: string; pm2_env: { status: string; exec_mode: string } }>;
    expect(procs.filter((p) => p.name === 'pws' && p.pm2_env.status === 'online' && p.pm2_env.exec_mode === 'cluster_mode')).toHaveLength(2);
    const r = await get(port, '/');
    expect(r.status).toBe(200);
    expect(r.body.equals(body)).toBe(true);
  });

  it('reloads three times in a row under load with zero failed requests', async () => {
    const load = new LoadClient({
      port,
      lanes: 6,
      expected: new Map([
        ['/', body],
        ['/medium.bin', medium],
      ]),
    }).start();
    await waitFor('load under way', () => load.stats.ok > 20, 20_000);
    for (let i = 0; i < 3; i++) {
      const reload = await pm2('reload', 'pws');
      expect(reload.code).toBe(0);
    }
    const after = load.stats.ok;
    await waitFor('requests served after the reloads', () => load.stats.ok > after + 20, 20_000);
    const stats = await load.stop();
    expect(stats.failures).toEqual([]);
  });

  it('shows the access lines in pm2 logs', async () => {
    await new Promise((r) => setTimeout(r, 1200)); // workers flush their access lines every second
    const logs = await pm2('logs', 'pws', '--nostream', '--lines', '200');
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 \d+ "-" "-" [\d.]+ \d+/);
  });

  it('stops and deletes', async () => {
    expect((await pm2('stop', 'pws')).code).toBe(0);
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => resolve(true));
      c.on('connect', () => {
        c.destroy();
        resolve(false);
      });
    });
    expect(refused).toBe(true);
    expect((await pm2('delete', 'pws')).code).toBe(0);
  });
});
