// A connection flood: 20,000 connect attempts at once (two client processes, since one process
// may hold 20,000 descriptors at most here). The server, run with a lower descriptor limit so
// accept() meets EMFILE, stays up, answers a fresh client afterwards, and its descriptor count
// returns to baseline.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { childEnv, MAIN, makeSite, waitFor, workerPids, tempDir } from '../helpers/server';

const FLOOD = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
let done = 0, connected = 0, failed = 0;
const sockets = [];
const finish = () => { if (++done === count) { for (const s of sockets) s.destroy(); console.log(JSON.stringify({ connected, failed })); } };
for (let i = 0; i < count; i++) {
  const s = net.connect({ port, host: '127.0.0.1' });
  sockets.push(s);
  s.once('connect', () => { connected++; finish(); });
  s.once('error', () => { failed++; finish(); });
}
setTimeout(() => { for (const s of sockets) s.destroy(); console.log(JSON.stringify({ connected, failed, timedOut: count - done })); process.exit(0); }, 20000).unref();
`;

function fds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

let proc: ReturnType<typeof spawn>;
let port = 0;
let stderr = '';
beforeAll(async () => {
  const site = makeSite({ 'index.html': 'home' });
  // The server gets 2,048 descriptors per process: far fewer than the flood.
  proc = spawn('bash', ['-c', `ulimit -n 2048 && exec "${process.execPath}" "${MAIN}"`], {
    env: childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      WORKERS: '2',
      STATIC_DIR: site,
      ACCESS_LOG: 'off',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
      HEADERS_TIMEOUT_MS: '1000',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: tempDir('pws-cwd-'),
  });
  let stdout = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('server start', () => /listening on port (\d+)/.test(stdout), 15_000);
  port = Number(/listening on port (\d+)/.exec(stdout)?.[1]);
});
afterAll(async () => {
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
});

function flood(count: number): Promise<{ connected: number; failed: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', FLOOD, String(port), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as { connected: number; failed: number }));
  });
}

describe('connection flood', () => {
  it('survives 20,000 connect attempts at once and returns to its baseline descriptors', async () => {
    const primary = proc.pid ?? -1;
    const pids = [primary, ...workerPids(primary)];
    expect(pids).toHaveLength(3);
    const baseline = pids.map(fds);
    const results = await Promise.all([flood(10_000), flood(10_000)]);
    expect(results.reduce((n, r) => n + r.connected + r.failed, 0)).toBe(20_000);
    // Still the same processes: nothing crashed.
    expect(workerPids(primary).sort()).toEqual(pids.slice(1).sort());
    expect((await get(port, '/')).status).toBe(200);
    await waitFor('descriptors back to baseline', () => pids.every((pid, i) => fds(pid) <= (baseline[i] ?? 0)), 15_000);
    expect(stderr).not.toMatch(/died/);
  }, 90_000);
});
