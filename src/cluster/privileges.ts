// RUN_USER / RUN_GROUP: a worker started as root gives root up before it serves anything, as
// nginx's workers do. The port is bound by the primary (node:cluster listens on the workers'
// behalf), so it may be 80 or 443; the primary keeps root only for that and forks, and reads no
// request.

import type { RunAs } from '../config';

/** process.initgroups exists on POSIX since Node 0.9; @types/node 20 does not declare it. */
type WithInitgroups = NodeJS.Process & { initgroups?: (user: number | string, extraGroup: number | string) => void };

/**
 * Takes the identity `runAs` for good: supplementary groups of the user, then the group, then the
 * user (in that order: once the user is not root, the group can no longer change). A no-op when
 * already that user. Throws the system's error if the kernel refuses.
 */
export function dropPrivileges(runAs: RunAs): void {
  if (process.getuid === undefined || process.getuid() === runAs.uid) return;
  (process as WithInitgroups).initgroups?.(runAs.uid, runAs.gid);
  process.setgid?.(runAs.gid);
  process.setuid?.(runAs.uid);
}
