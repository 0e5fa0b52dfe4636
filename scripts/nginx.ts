// nginx beside PWS, for the benchmark and for the differential tests: find the binary, start it on
// a free loopback port with a configuration of the caller's, stop it.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, waitUntilServing } from './measure';

/** The path of `cmd` on PATH (or in /usr/sbin, /sbin), or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export interface Nginx {
  port: number;
  pid: number;
  /** Fast shutdown (SIGTERM), then SIGKILL after 15 s; resolves once it exited. */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Folder served as `root`; every folder on its path must be readable by nginx's workers. */
  root: string;
  workers?: number;
  /** Directives inside `http { }`, before the server block. */
  http?: string;
  /** Directives inside `server { }`. */
  server?: string;
  /** Parameters after the address of `listen`, e.g. `ssl http2`. */
  listen?: string;
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited after 15 s. */
export async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}

/**
 * Starts `nginx` (a path from `which`) serving `opts.root` on a free port of 127.0.0.1, with its
 * configuration, pid file, logs and temporary folders in a folder of its own under the OS's
 * temporary directory (removed by stop). Resolves once it accepts connections.
 */
export async function startNginx(nginx: string, opts: NginxOptions): Promise<Nginx> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pws-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  const temp = (name: string): string => `${name}_temp_path ${path.join(dir, name)};`;
  fs.writeFileSync(
    conf,
    `worker_processes ${opts.workers ?? 1};
daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} error;
worker_rlimit_nofile 20000;
events { worker_connections 10000; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  ${opts.http ?? ''}
  server {
    listen 127.0.0.1:${port}${opts.listen === undefined ? '' : ` ${opts.listen}`};
    root ${opts.root};
    ${opts.server ?? ''}
  }
}
`,
  );
  const proc = spawn(nginx, ['-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const failed = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${output}`))));
  await Promise.race([waitUntilServing(port), failed]);
  failed.catch(() => undefined);
  return {
    port,
    pid: proc.pid ?? -1,
    stop: async () => {
      await stopProc(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
