// When workers listen with SO_REUSEPORT: only where the runtime has it, and in `auto` only where the
// kernel keeps the queued connections of a closing listener (a reload would reset them otherwise).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { migrateSetting, resolveReusePort, runtimeHasReusePort, takesConnectionsFromPrimary } from '../../../src/cluster/reuse-port';
import { tempDir } from '../../helpers/server';

describe('runtimeHasReusePort', () => {
  it.each([
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['22.23.5', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['26.12.1', true],
  ])('Node %s → %s', (version, has) => {
    expect(runtimeHasReusePort(version)).toBe(has);
  });
});

describe('resolveReusePort', () => {
  it('auto: on only with the runtime and tcp_migrate_req=1', () => {
    expect(resolveReusePort('auto', true, '1', 9000)).toBe(true);
    expect(resolveReusePort('auto', true, '0', 9000)).toBe(false);
    expect(resolveReusePort('auto', true, null, 9000)).toBe(false);
    expect(resolveReusePort('auto', false, '1', 9000)).toBe(false);
  });

  it('on: where the runtime has it, whatever the kernel; an error where it has not', () => {
    expect(resolveReusePort('on', true, '0', 9000)).toBe(true);
    expect(resolveReusePort('on', false, '1', 9000)).toMatch(/cannot listen with SO_REUSEPORT \(22\.12 or later can\)/);
  });

  it('off: never', () => {
    expect(resolveReusePort('off', true, '1', 9000)).toBe(false);
  });

  it('PORT=0: auto is off, on is an error (each worker would get a port of its own)', () => {
    expect(resolveReusePort('auto', true, '1', 0)).toBe(false);
    expect(resolveReusePort('on', true, '1', 0)).toMatch(/needs a fixed PORT/);
  });
});

describe('migrateSetting', () => {
  it('reads the sysctl file, null where there is none', () => {
    const dir = tempDir('pws-sysctl-');
    fs.writeFileSync(path.join(dir, 'tcp_migrate_req'), '1\n');
    expect(migrateSetting(path.join(dir, 'tcp_migrate_req'))).toBe('1');
    expect(migrateSetting(path.join(dir, 'missing'))).toBeNull();
  });
});

describe('takesConnectionsFromPrimary', () => {
  it('is false for a server that accepts on its own socket', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(takesConnectionsFromPrimary(server)).toBe(false);
    server.close();
  });

  it('is false for a server that does not listen', () => {
    expect(takesConnectionsFromPrimary(net.createServer())).toBe(false);
  });
});
