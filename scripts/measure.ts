// Shared pieces of the measuring tools: start PWS on a free loopback port, read a process's
// memory, time requests on fresh connections.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The checkout: the nearest folder up from here with the project's package.json and sources. */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src', 'main.ts'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no PWS checkout above ${from}`);
  }
}

export const REPO = repoRoot(__dirname);
export const MAIN = path.join(REPO, 'dist', 'main.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A self-signed certificate for localhost (P-256, one day), made by openssl as `cert.pem` and
 * `key.pem` in `dir`: the PEM files' paths.
 */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost'];
  execFileSync('openssl', [...args, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; throws after ~10 s. */
export async function waitUntilServing(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port}`);
}

export interface Started {
  proc: ChildProcess;
  port: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts dist/main.js with `env` on a free port of 127.0.0.1 and waits until it listens. */
export async function startPws(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-tool-'));
  const proc = spawn(process.execPath, [MAIN], {
    cwd,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ACCESS_LOG: 'off', STATIC_DIR: path.join(REPO, 'static'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 300 && !out.includes('listening on port'); i++) await sleep(20);
  if (!out.includes('listening on port')) throw new Error(`PWS did not start: ${err}`);
  return {
    proc,
    port,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Child process ids of `pid`. */
export function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds (user + system) process `pid` has used; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the processes `pids` have used, together. */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Memory of a process from /proc/<pid>/smaps_rollup, in bytes: Rss, Pss and Private_Dirty. */
export function memory(pid: number): { rss: number; pss: number; privateDirty: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss'), privateDirty: kb('Private_Dirty') };
}

/**
 * Node flag for measuring what idle connections hold alive: with a 1 MiB young generation V8
 * scavenges often, so the garbage of the requests that opened the connections is collected
 * instead of being counted as the connections' memory (with the default young generation, up to
 * 16 MiB per semi-space of it can sit uncollected while the connections idle).
 */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';

/**
 * The two ways idle memory is measured, as NODE_OPTIONS for the server: Node's defaults (the
 * growth includes the requests' garbage not yet collected) and a small young generation (what
 * the connections themselves hold).
 */
export const IDLE_MEASUREMENTS = [
  { label: 'default flags', flags: '' },
  { label: SMALL_YOUNG_GENERATION, flags: SMALL_YOUNG_GENERATION },
] as const;

/** Opens `count` connections that each complete one GET of `target`, then leaves them open. */
export async function openIdle(port: number, count: number, target = '/'): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, count - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`));
            s.once('data', () => resolve());
            s.once('error', reject);
            sockets.push(s);
          }),
      ),
    );
  }
  return sockets;
}

/**
 * Memory growth of process `pid` per idle keep-alive connection: warms up with 200
 * connections, then opens `count` that each complete one request and stay idle.
 */
export async function idleGrowth(port: number, pid: number, count: number, target = '/'): Promise<{ rss: number; privateDirty: number }> {
  (await openIdle(port, 200, target)).forEach((s) => s.destroy());
  await sleep(1500);
  const before = memory(pid);
  const sockets = await openIdle(port, count, target);
  await sleep(1500);
  const after = memory(pid);
  sockets.forEach((s) => s.destroy());
  return { rss: (after.rss - before.rss) / count, privateDirty: (after.privateDirty - before.privateDirty) / count };
}

/** Latency of one GET on a fresh connection, in ms; NaN if it did not answer 200. */
export function timedGet(port: number, target = '/'): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => resolve(NaN));
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200 ') ? performance.now() - t0 : NaN));
  });
}

/** The p-th percentile (0..100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
