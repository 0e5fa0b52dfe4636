// Start-up and shutdown of the process: configuration errors, a taken port, .env, and a clean exit.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { childEnv, MAIN, makeSite, startServer, tempDir } from '../helpers/server';

/** Runs dist/main.js to its exit with `env`; resolves with the exit code and output. */
function runToExit(env: Record<string, string>, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN], {
      cwd: cwd ?? tempDir('pws-cwd-'),
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('start-up', () => {
  const site = makeSite({ 'index.html': 'home' });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ WORKERS: '0' }, 'WORKERS'],
    [{ STATIC_DIR: '/definitely/not/here' }, 'STATIC_DIR'],
    [{ KEEP_ALIVE_TIMEOUT_MS: 'soon' }, 'KEEP_ALIVE_TIMEOUT_MS'],
  ])('%j stops with one line naming the variable, exit code 1', async (bad, name) => {
    const { code, stdout, stderr } = await runToExit({ STATIC_DIR: site, PORT: '0', ...bad });
    const lines = stderr.trim().split('\n');
    // One assertion over everything, so a failure shows the whole output.
    expect({ code, stdout, lines: lines.length, stderr }).toEqual({ code: 1, stdout: '', lines: 1, stderr });
    expect(lines[0]).toMatch(new RegExp(`^pws: ${name}=".*" is invalid: .+`));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 with one clear line when the port is taken, without a crash loop', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = await runToExit({ STATIC_DIR: site, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2' });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([`pws: port ${port} is already in use; choose another with --port <n> (or PORT=<n>)`]);
    } finally {
      blocker.close();
    }
  });

  it('reads .env from the working directory, below the environment', async () => {
    const cwd = tempDir('pws-cwd-');
    const other = makeSite({ 'index.html': 'from .env' });
    fs.writeFileSync(path.join(cwd, '.env'), `STATIC_DIR=${other}\nWORKERS=7\n`);
    const server = await startServer({ staticDir: '', cwd, env: { STATIC_DIR: '', WORKERS: '1' } });
    try {
      expect((await get(server.port, '/')).body.toString()).toBe('from .env');
      expect(server.output().stdout).toContain('with 1 worker');
    } finally {
      await server.stop();
    }
  });

  it('announces its port once and exits 0 on SIGTERM', async () => {
    const server = await startServer({ staticDir: site, workers: 2 });
    expect((await get(server.port, '/')).status).toBe(200);
    expect(await server.stop()).toBe(0);
    expect(server.output().stdout.match(/listening on port/g)).toHaveLength(1);
  });
});
