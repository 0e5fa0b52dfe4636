// `npm install -g` the ways a user does it, each into a temporary prefix whose bin/pws then prints
// its version and serves a folder over 127.0.0.1:
//   - the tarball `npm pack` makes (what `npm publish` uploads): dist/ is in it, nothing is built;
//   - a fresh clone (`npm install -g .`): npm links the prefix to the clone and installs none of its
//     dependencies, so the clone's prepare (scripts/prepare.cjs) runs `npm ci` there, then builds.
// npm works from its cache (--prefer-offline): after `npm ci` every tarball is there. It asks the
// registry only for what the cache lacks — on a machine's first run, the runtime dependencies'
// metadata, since a global install resolves them afresh instead of from package-lock.json.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { childEnv, makeSite, tempDir, waitFor } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

/** Runs `file args` in `cwd` to its end; rejects with its output when it fails. */
function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: childEnv({}), timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err === null ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`)),
    );
  });
}

/** `npm install -g` of `spec` into a new temporary prefix; returns the prefix. */
async function installGlobally(spec: string, cwd: string): Promise<string> {
  const prefix = tempDir('pws-prefix-');
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', spec], cwd);
  return prefix;
}

/** The prefix's `pws`: its --version, and `pws <site> --port 0 --workers 1` answering GET / with 200. */
async function checkCommand(prefix: string): Promise<void> {
  const bin = path.join(prefix, 'bin', 'pws');
  expect(await run(bin, ['--version'], tempDir('pws-cwd-'))).toBe(`${PKG.version}\n`);

  const site = makeSite({ 'index.html': 'installed' });
  const proc = spawn(bin, [site, '--port', '0', '--workers', '1', '--host', '127.0.0.1', '--access-log', 'off'], {
    cwd: tempDir('pws-cwd-'),
    env: childEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor(`bin/pws to listen (output: ${out})`, () => /listening on port \d+/.test(out), 15_000);
    const reply = await get(Number(/listening on port (\d+)/.exec(out)?.[1]), '/');
    expect({ status: reply.status, body: reply.body.toString() }).toEqual({ status: 200, body: 'installed' });
  } finally {
    // This one process (the primary, by its pid); it stops its worker as it drains.
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await new Promise((r) => proc.once('close', r));
  }
}

/** Whether `dir` holds every runtime dependency itself (not found in some node_modules above it). */
function holdsDependencies(dir: string): boolean {
  return Object.keys(PKG.dependencies).every((name) => fs.existsSync(path.join(dir, 'node_modules', name, 'package.json')));
}

describe('global install', () => {
  it('from the tarball npm pack makes: a copy with its dependencies, whose pws serves', async () => {
    const packs = tempDir('pws-pack-');
    await run('npm', ['pack', '--pack-destination', packs], REPO);
    const tarballs = fs.readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([`${PKG.name}-${PKG.version}.tgz`]);

    const prefix = await installGlobally(path.join(packs, tarballs[0] ?? ''), tempDir('pws-cwd-'));
    const installed = path.join(prefix, 'lib', 'node_modules', PKG.name);
    expect(fs.lstatSync(installed).isDirectory()).toBe(true);
    expect(holdsDependencies(installed)).toBe(true);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    await checkCommand(prefix);
  }, 90_000);

  it('from a fresh clone with `npm install -g .`: a link to the clone, which prepare installs and builds', async () => {
    // The clone: the files git has here (tracked, and new ones it does not ignore), so no dist/ and no node_modules/.
    const clone = tempDir('pws-clone-');
    const files = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], REPO)).split('\0');
    for (const file of files.filter((f) => f !== '' && fs.existsSync(path.join(REPO, f)))) {
      fs.cpSync(path.join(REPO, file), path.join(clone, file), { recursive: true });
    }
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);

    const prefix = await installGlobally('.', clone);
    const installed = path.join(prefix, 'lib', 'node_modules', PKG.name);
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(true);
    expect(fs.realpathSync(installed)).toBe(clone);
    expect(holdsDependencies(clone)).toBe(true);
    await checkCommand(prefix);
  }, 120_000);
});
