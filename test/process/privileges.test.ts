// RUN_USER / RUN_GROUP: started as root, PWS binds a privileged port in the primary and its
// workers serve as the unprivileged user, as nginx's do. Started as anyone else, asking to switch
// user is one clear line and exit 1.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/raw';
import { makeSite, startServer, workerPids, type Running } from '../helpers/server';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** The real and effective uid and gid of process `pid`. */
function ids(pid: number): { uid: number; gid: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number[] => (new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).map(Number);
  const [uid, euid] = field('Uid');
  const [gid, egid] = field('Gid');
  expect(euid).toBe(uid);
  expect(egid).toBe(gid);
  return { uid: uid ?? -1, gid: gid ?? -1 };
}

/** A port below 1024 that nothing listens on at 127.0.0.1 (binding it needs root). */
async function freePrivilegedPort(): Promise<number> {
  for (let port = 1023; port > 600; port--) {
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 1024');
}

/** A site every user may read (a temporary folder is 0700 to begin with). */
function readableSite(): string {
  const root = makeSite({ 'index.html': 'served by nobody', 'sub/page.html': 'sub' });
  // makeSite's root is www/ inside a temporary folder of mode 0700.
  fs.chmodSync(path.dirname(root), 0o755);
  return root;
}

let server: Running | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

describe('RUN_USER', () => {
  it(asRoot ? 'binds a privileged port as root, then every worker serves as the user' : 'refuses to switch user when not started as root', async () => {
    if (!asRoot) {
      const proc = startServer({ staticDir: readableSite(), workers: 1, env: { RUN_USER: 'root' } });
      await expect(proc).rejects.toThrow(/RUN_USER="root" is invalid: switching user needs PWS to start as root/);
      return;
    }
    const port = await freePrivilegedPort();
    server = await startServer({ staticDir: readableSite(), workers: 2, env: { PORT: String(port), RUN_USER: 'nobody', ACCESS_LOG: 'off' } });
    expect(server.port).toBe(port);
    const r = await get(port, '/');
    expect([r.status, r.body.toString()]).toEqual([200, 'served by nobody']);
    const workers = workerPids(server.proc.pid ?? -1);
    expect(workers).toHaveLength(2);
    for (const pid of workers) expect(ids(pid)).toEqual({ uid: NOBODY, gid: NOBODY });
    // The primary keeps root, only to bind and to fork.
    expect(ids(server.proc.pid ?? -1).uid).toBe(0);
  });

  it('takes a group by name, and refuses a user or group that does not exist with one line', async () => {
    const bad = startServer({ staticDir: readableSite(), workers: 1, env: { RUN_USER: 'no-such-user-pws' } });
    await expect(bad).rejects.toThrow(/pws: RUN_USER="no-such-user-pws" is invalid: no such user\n/);
    const badGroup = startServer({
      staticDir: readableSite(),
      workers: 1,
      env: { RUN_USER: asRoot ? 'nobody' : String(process.getuid?.()), RUN_GROUP: 'no-such-group-pws' },
    });
    await expect(badGroup).rejects.toThrow(/pws: RUN_GROUP="no-such-group-pws" is invalid: no such group\n/);
    if (!asRoot) return;
    server = await startServer({ staticDir: readableSite(), workers: 1, env: { RUN_USER: 'nobody', RUN_GROUP: 'nogroup', ACCESS_LOG: 'off' } });
    expect((await get(server.port, '/sub/page.html')).body.toString()).toBe('sub');
    const [worker] = workerPids(server.proc.pid ?? -1);
    expect(ids(worker ?? -1)).toEqual({ uid: NOBODY, gid: NOBODY });
  });

  it('refuses REUSE_PORT=on with it: a worker without root cannot bind', async () => {
    const proc = startServer({
      staticDir: readableSite(),
      workers: 1,
      env: { RUN_USER: asRoot ? 'nobody' : String(process.getuid?.()), REUSE_PORT: 'on', PORT: '9' },
    });
    await expect(proc).rejects.toThrow(/REUSE_PORT="on" is invalid: /);
  });
});
