// Starts the built server (dist/main.js) as a child process on a free port, and stops it.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { children, selfSignedCert as makeCert } from '../../scripts/measure';
import { VARIABLES } from '../../src/variables';

export const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.js');

const created: string[] = [];

/** Removes every folder tempDir made (run after each test file by test/helpers/cleanup.ts). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A new temporary folder (real path), removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  created.push(dir);
  return dir;
}

export interface Running {
  port: number;
  proc: ChildProcess;
  /** Everything the primary printed so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then wait for the exit (SIGKILL after 15 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  staticDir: string;
  /** WORKERS (2 by default); null leaves it to the .env file. */
  workers?: number | null;
  env?: Record<string, string>;
  /** Working directory; a fresh empty one by default, so no stray .env is read. */
  cwd?: string;
  /** The entry point to run (default: this checkout's dist/main.js). */
  main?: string;
  /** Run as this user (and group) id; for tests of permissions when the suite runs as root. */
  uid?: number;
}

/** Variables the child must not inherit from whoever runs the tests: PWS's own, pm2's scheduling. */
const NOT_INHERITED = new Set([...VARIABLES.map((v) => v.name), 'ENV_FILE', 'NODE_CLUSTER_SCHED_POLICY']);

/** Environment for the child: this process's, minus anything PWS reads, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!NOT_INHERITED.has(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

export function startServer(opts: StartOptions): Promise<Running> {
  const cwd = opts.cwd ?? tempDir('pws-cwd-');
  const proc = spawn(process.execPath, [opts.main ?? MAIN], {
    cwd,
    env: childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      ...(opts.workers === null ? {} : { WORKERS: String(opts.workers ?? 2) }),
      STATIC_DIR: opts.staticDir,
      ...opts.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': by then every byte the server wrote has been read into stdout/stderr.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));

  const running = (port: number): Running => ({
    port,
    proc,
    output: () => ({ stdout, stderr }),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 15_000);
    const onData = (): void => {
      const m = /listening on port (\d+)/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      resolve(running(Number(m[1])));
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening\nstderr: ${stderr}`));
    });
  });
}

/** Creates a temporary site folder with the given files (paths relative, parents created). */
export function makeSite(files: Record<string, string | Buffer>): string {
  const base = tempDir('pws-site-');
  const root = path.join(base, 'www');
  fs.mkdirSync(root);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

/** Worker process ids of a running primary (its children). */
export const workerPids = children;

/** The pid of one worker of a running primary; throws when it has none. */
export function workerPid(primary: number | undefined): number {
  const [pid] = children(primary ?? -1);
  if (pid === undefined) throw new Error(`process ${primary} has no worker`);
  return pid;
}

/** How many sockets process `pid` holds open. */
export function socketCount(pid: number): number {
  return openFds(pid, (target) => target.startsWith('socket:'));
}

/** How many descriptors of process `pid` point at a path starting with `file`. */
export function fdsOn(pid: number, file: string): number {
  return openFds(pid, (target) => target.startsWith(file));
}

function openFds(pid: number, match: (target: string) => boolean): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (match(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** Polls `check` every 20 ms until it returns true; rejects after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for localhost made by openssl in a temporary folder: the PEM files' paths. */
export function selfSignedCert(): { cert: string; key: string } {
  return makeCert(tempDir('pws-tls-'));
}
