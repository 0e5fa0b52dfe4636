// Whether each worker listens on a socket of its own (SO_REUSEPORT, the kernel spreading new
// connections) instead of the cluster's shared one, and how a worker tells how it was given
// connections.
//
// With its own socket a worker accepts directly whatever the cluster primary's scheduling policy,
// which matters under a pm2 daemon started with the round-robin default: there every connection
// is accepted by the daemon and passed to a worker over IPC, about a third of the rate of workers
// accepting themselves (README, "Scheduling"). The catch is a reload: closing a SO_REUSEPORT
// listener resets the connections waiting in its accept queue, unless the kernel hands them to a
// sibling listener, which Linux does only with net.ipv4.tcp_migrate_req=1. So `auto` uses it only
// where both the runtime and the kernel make it lossless.

import fs from 'node:fs';
import type net from 'node:net';

/** Node added `reusePort` to server.listen() in 22.12 and 23.1; older versions ignore it. */
export function runtimeHasReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The kernel's net.ipv4.tcp_migrate_req in this network namespace: '1', '0', or null where unknown. */
export function migrateSetting(file = '/proc/sys/net/ipv4/tcp_migrate_req'): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * REUSE_PORT resolved: `on` and `off` as said, `auto` on where the runtime has it and the kernel
 * migrates queued connections. Returns an error message for `on` where the runtime lacks it.
 */
export function resolveReusePort(mode: 'auto' | 'on' | 'off', hasIt: boolean, migrate: string | null, port: number): boolean | string {
  if (mode === 'off') return false;
  // Port 0 gives each worker's own socket a port of its own: they would not share one.
  if (mode === 'on' && port === 0) return 'needs a fixed PORT (with PORT=0 each worker would get a port of its own)';
  if (mode === 'on') return hasIt ? true : `Node ${process.versions.node} cannot listen with SO_REUSEPORT (22.12 or later can)`;
  return hasIt && migrate === '1' && port !== 0;
}

/**
 * Whether a listening server in a cluster worker is handed its connections one by one by the
 * primary (round-robin scheduling) rather than accepting them itself. Node gives such a server a
 * stand-in handle instead of a TCP one; nothing public says which it got.
 */
export function takesConnectionsFromPrimary(server: net.Server): boolean {
  // `_handle` is Node's internal listening handle: a TCP wrap when the worker accepts itself.
  const handle = (server as unknown as { _handle?: object | null })._handle;
  return handle !== undefined && handle !== null && handle.constructor.name !== 'TCP';
}
