// Under pm2 (cluster mode, ecosystem.config.js), started the README's way (`npm run pm2:start`):
// .env and the shell's environment reach pm2 and the workers, three reloads under load fail no
// request of either kind of client, `pm2 logs` holds one line format, a round-robin daemon is
// warned about, and stop/delete work. Private PM2_HOMEs are used and their daemons killed
// afterwards, so no other pm2 on the machine is touched.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LoadClient } from '../../scripts/load';
import { freePort, sleep } from '../../scripts/measure';
import { parseExposition, requestTotal } from '../helpers/exposition';
import { get } from '../helpers/raw';
import { childEnv, makeSite, tempDir, waitFor } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
const PM2 = path.join(REPO, 'node_modules', 'pm2', 'bin', 'pm2');

let pm2Home: string;
let app: string;
let port: number;
let env: NodeJS.ProcessEnv;

type Ran = { code: number; out: string };

function run(file: string, args: string[], withEnv: NodeJS.ProcessEnv = env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: app, env: withEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: stdout + stderr });
    });
  });
}

const pm2 = (...args: string[]): Promise<Ran> => run(process.execPath, [PM2, ...args]);
const npm = (...args: string[]): Promise<Ran> => run('npm', args);

/** Kills the daemon of `home` and removes the folder, even if `pm2 kill` leaves it behind. */
async function killDaemon(home: string, withEnv: NodeJS.ProcessEnv): Promise<void> {
  await run(process.execPath, [PM2, 'kill'], withEnv);
  try {
    process.kill(Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // already gone, as it should be
  }
  fs.rmSync(home, { recursive: true, force: true });
}

/** What pm2 wrote to the merged out and error logs of the app named `pws` (both files must exist). */
function pm2Logs(home: string): { out: string[]; err: string[] } {
  const read = (file: string): string[] =>
    fs
      .readFileSync(path.join(home, 'logs', file), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  return { out: read('pws-out.log'), err: read('pws-error.log') };
}

const SCHEDULING_WARNING = "pm2's daemon hands each connection to a worker itself";

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
  // What pm2 itself uses (instances, kill_timeout) is set in .env only, not in the shell.
  fs.writeFileSync(path.join(app, '.env'), `STATIC_DIR=${site}\nHOST=127.0.0.1\nWORKERS=2\nSHUTDOWN_TIMEOUT_MS=3000\nMETRICS_PATH=/metrics\n`);
  port = await freePort();
  env = childEnv({ PM2_HOME: pm2Home, PORT: String(port) });
});

afterAll(async () => {
  await killDaemon(pm2Home, env);
});

describe('pm2', () => {
  it('starts the instances .env asks for, serving the folder named in .env on the port from the shell', async () => {
    const started = await npm('run', 'pm2:start');
    expect(started.code).toBe(0);
    const list = await pm2('jlist');
    const procs = JSON.parse(list.out.slice(list.out.indexOf('['))) as Array<{
      name: string;
      pm2_env: { status: string; exec_mode: string; kill_timeout: number };
    }>;
    const online = procs.filter((p) => p.name === 'pws' && p.pm2_env.status === 'online' && p.pm2_env.exec_mode === 'cluster_mode');
    expect(online).toHaveLength(2);
    // SHUTDOWN_TIMEOUT_MS from .env, plus the margin before pm2's SIGKILL.
    for (const p of online) expect(p.pm2_env.kill_timeout).toBe(3000 + 2000);
    const r = await get(port, '/');
    expect(r.status).toBe(200);
    expect(r.body.equals(body)).toBe(true);
  });

  it('reloads three times in a row under load with zero failed requests, for either kind of client', async () => {
    const expected = new Map([
      ['/', body],
      ['/medium.bin', medium],
    ]);
    const keepAlive = new LoadClient({ port, lanes: 4, expected }).start();
    const fresh = new LoadClient({ port, lanes: 4, kind: 'new-connection', expected }).start();
    await waitFor('load under way', () => keepAlive.stats.ok > 20 && fresh.stats.ok > 20, 20_000);
    for (let i = 0; i < 3; i++) {
      const reload = await npm('run', 'pm2:reload');
      expect(reload.code).toBe(0);
    }
    const after = fresh.stats.ok;
    await waitFor('requests served after the reloads', () => fresh.stats.ok > after + 20, 20_000);
    const [a, b] = await Promise.all([keepAlive.stop(), fresh.stop()]);
    expect(a.failures).toEqual([]);
    expect(b.failures).toEqual([]);
  });

  it('sums METRICS_PATH over both instances, keeping the counts of the instances the reloads replaced', async () => {
    const scrape = async (): Promise<Map<string, number>> => parseExposition((await get(port, '/metrics')).body.toString());
    await sleep(400); // each instance rewrites its file every 250 ms
    const before = await scrape();
    // Three reloads of two instances: eight instances started so far, none crashed.
    expect(before.get('pws_workers_started_total')).toBe(8);
    expect(before.get('pws_worker_crashes_total')).toBe(0);
    expect(before.get('pws_workers')).toBe(2);
    // Thousands of requests from the load above, served by instances since replaced.
    expect(requestTotal(before)).toBeGreaterThan(1000);
    for (let i = 0; i < 30; i++) await get(port, '/');
    await sleep(400);
    // The 30, and the first scrape (counted once answered).
    expect(requestTotal(await scrape())).toBe(requestTotal(before) + 31);
  });

  it('shows each instance’s live figures in pm2 monit (pm2 jlist: axm_monitor)', async () => {
    await sleep(1500); // sent once a second
    const list = await pm2('jlist');
    const procs = JSON.parse(list.out.slice(list.out.indexOf('['))) as Array<{
      name: string;
      pm2_env: { axm_monitor: Record<string, { value: unknown; unit?: string }> };
    }>;
    const pws = procs.filter((p) => p.name === 'pws');
    expect(pws).toHaveLength(2);
    for (const p of pws) {
      expect(Object.keys(p.pm2_env.axm_monitor)).toEqual(expect.arrayContaining(['Requests/s', 'Connections', 'Cache hit ratio', 'Event loop delay p99']));
      expect(p.pm2_env.axm_monitor['Requests/s']).toMatchObject({ unit: 'req/s', value: expect.any(Number) });
    }
  });

  it('refuses to reload on a configuration the workers would refuse, and keeps serving', async () => {
    const dotenv = path.join(app, '.env');
    const good = fs.readFileSync(dotenv, 'utf8');
    fs.writeFileSync(dotenv, `${good}MAX_RANGES=0\n`);
    try {
      const reload = await npm('run', 'pm2:reload');
      expect(reload.code).not.toBe(0);
      expect(reload.out).toContain('pws: MAX_RANGES="0" is invalid: expected a count from 1 to 1000');
    } finally {
      fs.writeFileSync(dotenv, good);
    }
    expect((await get(port, '/')).status).toBe(200);
  });

  it('shows the access lines in pm2 logs', async () => {
    await new Promise((r) => setTimeout(r, 1200)); // workers flush their access lines every second
    const logs = await pm2('logs', 'pws', '--nostream', '--lines', '200');
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 \d+ "-" "-" [\d.]+ \d+/);
  });

  it('writes one line format to pm2 logs: access and info lines on stdout, only warnings and errors on stderr', () => {
    const { out, err } = pm2Logs(pm2Home);
    const access = /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "[^"]*" \d{3} \d+ "[^"]*" "[^"]*" [\d.]+ \d+$/;
    const info = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info \[\d+\] \S/;
    const problem = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (warn|error) \[\d+\] \S/;
    // Thousands of access lines went out in batches during the reloads: none may carry a stamp of
    // pm2's, be split, or be glued to another.
    expect(out.filter((l) => access.test(l)).length).toBeGreaterThan(1000);
    expect(out.filter((l) => info.test(l)).some((l) => l.includes('worker draining'))).toBe(true);
    expect(out.filter((l) => !access.test(l) && !info.test(l))).toEqual([]);
    expect(err.filter((l) => !problem.test(l))).toEqual([]);
    // The daemon was started the README's way, with the fast scheduling: nothing to warn about.
    expect(err.filter((l) => l.includes(SCHEDULING_WARNING))).toEqual([]);
  });

  it('says in pm2 logs why a worker refuses its configuration', async () => {
    // An app started by name, not from the ecosystem file (which would refuse the configuration
    // itself), once: the one worker reads a bad value and exits with the reason.
    const bad = await run(process.execPath, [PM2, 'start', 'dist/main.js', '--name', 'bad', '-i', '1', '--no-autorestart', '--merge-logs'], {
      ...env,
      TRUSTED_PROXIES: 'nope',
    });
    expect(bad.code).toBe(0);
    const errLog = path.join(pm2Home, 'logs', 'bad-error.log');
    await waitFor(
      'the reason in bad-error.log',
      () => fs.existsSync(errLog) && fs.readFileSync(errLog, 'utf8').includes('pws: TRUSTED_PROXIES="nope" is invalid'),
      20_000,
    );
    expect((await pm2('delete', 'bad')).code).toBe(0);
  });

  it('stops and deletes', async () => {
    expect((await pm2('stop', 'pws')).code).toBe(0);
    const refused = (): Promise<boolean> =>
      new Promise<boolean>((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => resolve(true));
        c.on('connect', () => {
          c.destroy();
          resolve(false);
        });
      });
    // pm2's daemon holds the shared listening socket and closes it once the last instance is gone,
    // a moment after `pm2 stop` returns.
    let closed = false;
    for (let i = 0; i < 50 && !closed; i++) {
      closed = await refused();
      if (!closed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(closed).toBe(true);
    expect((await pm2('delete', 'pws')).code).toBe(0);
  });
});

describe('pm2 with a round-robin daemon', () => {
  it('warns once at start-up, saying what to do', async () => {
    // A daemon started by a plain `pm2 start`, which leaves Node's round-robin default.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-pm2home-'));
    const rrEnv = childEnv({ PM2_HOME: home, PORT: String(await freePort()), WORKERS: '2', REUSE_PORT: 'off' });
    try {
      expect((await run(process.execPath, [PM2, 'start', 'ecosystem.config.js'], rrEnv)).code).toBe(0);
      await waitFor(
        'the warning',
        () => fs.existsSync(path.join(home, 'logs', 'pws-error.log')) && pm2Logs(home).err.some((l) => l.includes(SCHEDULING_WARNING)),
        20_000,
      );
      expect((await run(process.execPath, [PM2, 'reload', 'pws'], rrEnv)).code).toBe(0);
      const warnings = pm2Logs(home).err.filter((l) => l.includes(SCHEDULING_WARNING));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('NODE_CLUSTER_SCHED_POLICY=none');
    } finally {
      await killDaemon(home, rrEnv);
    }
  });
});
