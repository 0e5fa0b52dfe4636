// File-system I/O of the static handler: open what a path names, safely, and read small files.

import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { candidatePath, isInside } from './resolve';

export type Opened =
  | { kind: 'file'; handle: FileHandle; size: number; mtimeMs: number; realPath: string }
  | { kind: 'directory'; realPath: string }
  | { kind: 'missing' };

// O_NONBLOCK: opening a FIFO planted in the site must not park a libuv thread forever.
// O_NOFOLLOW: the last component was already resolved; a symlink swapped in since is refused.
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

/**
 * Opens the file or finds the directory that `segments` name under `rootReal` (a real path).
 * Every symlink is resolved first and the result must lie inside the root: outside, and
 * anything that is neither a regular file nor a directory, is 'missing'. Errors other than
 * "not there" (EACCES, EMFILE, ...) are thrown as the Node error, for the caller's errno table.
 */
export async function openUnder(rootReal: string, segments: readonly string[]): Promise<Opened> {
  let real: string;
  try {
    real = await fs.promises.realpath(candidatePath(rootReal, segments));
  } catch (err) {
    if (isAbsent(err)) return { kind: 'missing' };
    throw err;
  }
  if (!isInside(rootReal, real)) return { kind: 'missing' };

  let handle: FileHandle;
  try {
    handle = await fs.promises.open(real, OPEN_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return { kind: 'missing' };
    throw err;
  }
  try {
    const st = await handle.stat();
    if (st.isFile()) return { kind: 'file', handle, size: st.size, mtimeMs: st.mtimeMs, realPath: real };
    await handle.close();
    return st.isDirectory() ? { kind: 'directory', realPath: real } : { kind: 'missing' };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** Error code of a file that changed (size or mtime) while it was being read. */
export const CHANGED = 'ECHANGED';

/**
 * Reads a whole file version: `size` bytes, checking afterwards that the file still has that
 * size and `mtimeMs`. A file truncated or rewritten meanwhile throws an error with code CHANGED,
 * so no one is ever sent a mix of two versions.
 */
export async function readWhole(handle: FileHandle, size: number, mtimeMs: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const { bytesRead } = await handle.read(buf, n, size - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  const st = await handle.stat();
  if (n !== size || st.size !== size || st.mtimeMs !== mtimeMs) {
    throw Object.assign(new Error('file changed while being read'), { code: CHANGED });
  }
  return buf;
}

/**
 * ENOENT, ENOTDIR, ENAMETOOLONG and ELOOP all mean the client named nothing we can serve
 * (ELOOP also when O_NOFOLLOW meets a symlink swapped in after realpath).
 */
export function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP';
}
