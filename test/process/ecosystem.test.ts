// ecosystem.config.js as pm2 reads it: the settings pm2 itself uses come from .env and the shell
// with PWS's precedence, and a configuration the workers would refuse stops pm2 with one line.
// The file is evaluated in a child process, as the pm2 CLI and pm2-runtime evaluate it.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { childEnv, makeSite, tempDir } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');

interface App {
  instances: number;
  kill_timeout: number;
  time: boolean;
  cwd: string;
}

/** A folder holding the ecosystem file and this build, with `dotenv` as its .env (if any). */
function appFolder(dotenv?: string): string {
  const app = tempDir('pws-eco-');
  fs.copyFileSync(path.join(REPO, 'ecosystem.config.js'), path.join(app, 'ecosystem.config.js'));
  for (const entry of ['dist', 'node_modules', 'package.json']) fs.symlinkSync(path.join(REPO, entry), path.join(app, entry));
  fs.mkdirSync(path.join(app, 'static'));
  if (dotenv !== undefined) fs.writeFileSync(path.join(app, '.env'), dotenv);
  return app;
}

function evaluate(app: string, shell: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = 'process.stdout.write(JSON.stringify(require("./ecosystem.config.js").apps[0]))';
  return new Promise((resolve) => {
    // From another folder: pm2 users run it from anywhere, the file must find its own .env.
    execFile(process.execPath, ['-e', script.replace('./', `${app}/`)], { cwd: tempDir('pws-elsewhere-'), env: childEnv(shell) }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

async function appOf(app: string, shell: Record<string, string> = {}): Promise<App> {
  const r = await evaluate(app, shell);
  if (r.code !== 0) throw new Error(`ecosystem.config.js failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as App;
}

describe('ecosystem.config.js', () => {
  it('takes the instance count and the stop timeout from .env', async () => {
    const app = await appOf(appFolder('WORKERS=3\nSHUTDOWN_TIMEOUT_MS=4000\nLAME_DUCK_MS=1500\n'));
    expect(app.instances).toBe(3);
    // The lame duck, the drain and a margin before pm2's SIGKILL.
    expect(app.kill_timeout).toBe(1500 + 4000 + 2000);
    expect(app.time).toBe(false);
  });

  it('lets the shell beat .env, as PWS itself does', async () => {
    const app = await appOf(appFolder('WORKERS=3\nSHUTDOWN_TIMEOUT_MS=4000\n'), { WORKERS: '5', SHUTDOWN_TIMEOUT_MS: '1000' });
    expect(app.instances).toBe(5);
    expect(app.kill_timeout).toBe(3000);
  });

  it('reads the file ENV_FILE names', async () => {
    const folder = appFolder();
    fs.writeFileSync(path.join(folder, 'prod.env'), 'WORKERS=4\n');
    expect((await appOf(folder, { ENV_FILE: 'prod.env' })).instances).toBe(4);
  });

  it('runs one instance per CPU on the defaults', async () => {
    const app = await appOf(appFolder());
    expect(app.instances).toBeGreaterThanOrEqual(1);
    expect(app.kill_timeout).toBe(10_000 + 2000);
  });

  it('refuses a configuration the workers would refuse, with one line and exit status 1', async () => {
    const r = await evaluate(appFolder(`STATIC_DIR=${makeSite({ 'index.html': 'x' })}\nMAX_RANGES=0\n`));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('pws: MAX_RANGES="0" is invalid: expected a count from 1 to 1000\n');
  });
});
