// `npm run reload-check`: proves zero-downtime deploys on this machine. Starts PWS on a free
// loopback port (our own primary, then pm2 with a private PM2_HOME), keeps it under keep-alive
// load, performs three rolling restarts each way, and prints what the clients saw.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadClient, type LoadStats } from './load';
import { freePort, MAIN, REPO, sleep, waitUntilServing } from './measure';

const PM2 = path.join(REPO, 'node_modules', 'pm2', 'bin', 'pm2');
const ROUNDS = 3;

function makeSite(): { dir: string; expected: Map<string, Buffer> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-reload-check-'));
  const index = Buffer.from('<!doctype html><h1>reload check</h1>');
  const asset = Buffer.alloc(256 * 1024, 'a');
  fs.writeFileSync(path.join(dir, 'index.html'), index);
  fs.writeFileSync(path.join(dir, 'asset.bin'), asset);
  return {
    dir,
    expected: new Map([
      ['/', index],
      ['/asset.bin', asset],
    ]),
  };
}

async function ownPrimary(site: ReturnType<typeof makeSite>): Promise<LoadStats> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', STATIC_DIR: site.dir };
  const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  await waitUntilServing(port);
  const load = new LoadClient({ port, lanes: 8, expected: site.expected }).start();
  for (let round = 1; round <= ROUNDS; round++) {
    await sleep(500);
    proc.kill('SIGHUP');
    while (log.split('rolling restart finished').length - 1 < round) await sleep(20);
  }
  await sleep(500);
  const stats = await load.stop();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  return stats;
}

async function underPm2(site: ReturnType<typeof makeSite>): Promise<LoadStats> {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-pm2-'));
  const env = { ...process.env, PM2_HOME: home, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', STATIC_DIR: site.dir };
  // Asynchronous, so the load client keeps reading while pm2 works.
  const pm2 = (...args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [PM2, ...args], { cwd: REPO, env }, (err) =>
        err ? reject(new Error(`pm2 ${args.join(' ')}: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  try {
    await pm2('start', 'ecosystem.config.js');
    await waitUntilServing(port);
    const load = new LoadClient({ port, lanes: 8, expected: site.expected }).start();
    for (let round = 1; round <= ROUNDS; round++) {
      await sleep(500);
      await pm2('reload', 'pws');
    }
    await sleep(500);
    return await load.stop();
  } finally {
    await pm2('kill');
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function report(name: string, s: LoadStats): boolean {
  process.stdout.write(`${name.padEnd(28)} ${String(s.ok).padStart(8)} ok ${String(s.failed).padStart(4)} failed ${String(s.retried).padStart(4)} retried\n`);
  for (const f of s.failures) process.stdout.write(`  failure: ${f}\n`);
  return s.failed === 0;
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error('dist/main.js is missing: run npm run build first');
  const site = makeSite();
  try {
    const own = report(`SIGHUP x${ROUNDS} (own primary)`, await ownPrimary(site));
    const pm2 = report(`pm2 reload x${ROUNDS}`, await underPm2(site));
    process.exitCode = own && pm2 ? 0 : 1;
  } finally {
    fs.rmSync(site.dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`reload-check: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
