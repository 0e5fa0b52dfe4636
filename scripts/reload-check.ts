// `npm run reload-check`: proves zero-downtime deploys on this machine. Starts PWS on a free
// loopback port (our own primary, then pm2 with a private PM2_HOME under each cluster scheduling
// policy), keeps it under load from both kinds of client at once — keep-alive lanes that retry
// only what RFC 9112 §9.3.1 allows, and new-connection-per-request lanes that never retry — performs
// three rolling restarts each way, and prints what each kind of client saw. Our own primary runs
// once more with TLS, where an HTTP/2 client (several streams per session) joins the two others.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadClient, type LoadKind, type LoadStats } from './load';
import { freePort, MAIN, REPO, selfSignedCert, sleep, waitUntilServing } from './measure';

const PM2 = path.join(REPO, 'node_modules', 'pm2', 'bin', 'pm2');
const ROUNDS = 3;
const LANES: Record<LoadKind, number> = { 'keep-alive': 4, 'new-connection': 6, h2: 3 };

type Site = { dir: string; expected: Map<string, Buffer>; cert: string; key: string };
type Results = Partial<Record<LoadKind, LoadStats>>;

function makeSite(): Site {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-reload-check-'));
  const index = Buffer.from('<!doctype html><h1>reload check</h1>');
  const asset = Buffer.alloc(256 * 1024, 'a');
  fs.writeFileSync(path.join(dir, 'index.html'), index);
  fs.writeFileSync(path.join(dir, 'asset.bin'), asset);
  const { cert, key } = selfSignedCert(dir);
  return {
    dir,
    cert,
    key,
    expected: new Map([
      ['/', index],
      ['/asset.bin', asset],
    ]),
  };
}

/** Runs every kind of client the server speaks against `port` while `reloads` runs, and what each saw. */
async function underLoad(port: number, site: Site, withTls: boolean, reloads: () => Promise<void>): Promise<Results> {
  const kinds: LoadKind[] = withTls ? ['keep-alive', 'new-connection', 'h2'] : ['keep-alive', 'new-connection'];
  const clients = kinds.map((kind) => new LoadClient({ port, kind, lanes: LANES[kind], expected: site.expected, tls: withTls }).start());
  await reloads();
  const stats = await Promise.all(clients.map((c) => c.stop()));
  return Object.fromEntries(kinds.map((k, i) => [k, stats[i]]));
}

async function ownPrimary(site: Site, withTls: boolean): Promise<Results> {
  const port = await freePort();
  const tlsEnv = withTls ? { TLS_CERT: site.cert, TLS_KEY: site.key } : {};
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', STATIC_DIR: site.dir, ACCESS_LOG: 'off', ...tlsEnv };
  const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitUntilServing(port);
    return await underLoad(port, site, withTls, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        await sleep(500);
        proc.kill('SIGHUP');
        while (log.split('rolling restart finished').length - 1 < round) await sleep(20);
      }
      await sleep(500);
    });
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

async function underPm2(site: Site, policy: 'rr' | 'none'): Promise<Results> {
  const port = await freePort();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-pm2-'));
  // A private PM2_HOME starts a daemon of our own, with this scheduling policy in its environment.
  const env = {
    ...process.env,
    PM2_HOME: home,
    NODE_CLUSTER_SCHED_POLICY: policy,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKERS: '2',
    STATIC_DIR: site.dir,
    ACCESS_LOG: 'off',
  };
  // Asynchronous, so the load clients keep reading while pm2 works.
  const pm2 = (...args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [PM2, ...args], { cwd: REPO, env }, (err) =>
        err ? reject(new Error(`pm2 ${args.join(' ')}: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  try {
    await pm2('start', 'ecosystem.config.js');
    await waitUntilServing(port);
    return await underLoad(port, site, false, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        await sleep(500);
        await pm2('reload', 'pws');
      }
      await sleep(500);
    });
  } finally {
    await pm2('kill');
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function report(name: string, results: Results): boolean {
  let ok = true;
  for (const [kind, s] of Object.entries<LoadStats>(results)) {
    process.stdout.write(
      `${name.padEnd(30)} ${kind.padEnd(15)} ${String(s.ok).padStart(7)} ok ${String(s.failed).padStart(4)} failed ${String(s.retried).padStart(4)} retried\n`,
    );
    for (const f of s.failures) process.stdout.write(`  failure: ${f}\n`);
    ok &&= s.failed === 0;
  }
  return ok;
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error('dist/main.js is missing: run npm run build first');
  const site = makeSite();
  try {
    const results = [
      report(`SIGHUP x${ROUNDS} (own primary)`, await ownPrimary(site, false)),
      report(`SIGHUP x${ROUNDS} (TLS, HTTP/2)`, await ownPrimary(site, true)),
      report(`pm2 reload x${ROUNDS} (sched rr)`, await underPm2(site, 'rr')),
      report(`pm2 reload x${ROUNDS} (sched none)`, await underPm2(site, 'none')),
    ];
    process.exitCode = results.every(Boolean) ? 0 : 1;
  } finally {
    fs.rmSync(site.dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`reload-check: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
