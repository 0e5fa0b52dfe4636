// File-system I/O of the static handler: open what a path names, safely, and read small files.

import fs from 'node:fs';
import path from 'node:path';
import type { FileSource } from '../contract/reply';
import { candidatePath, isInside } from './resolve';

/**
 * What identifies the file a path named when it was opened: stat(path) giving the same device,
 * inode, size and mtime means the same file version is still there (symlinks re-followed).
 */
export interface FileVersion {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Whether `v.path` still names exactly that file version (one stat(2)). */
export function sameVersion(v: FileVersion): boolean {
  try {
    const st = fs.statSync(v.path);
    return st.ino === v.ino && st.dev === v.dev && st.size === v.size && st.mtimeMs === v.mtimeMs;
  } catch {
    return false;
  }
}

/**
 * An open file descriptor and the version it was opened as, with the small API PWS uses (the
 * contract's FileSource). Metadata calls and whole reads of small files are synchronous: for
 * files in the page cache a syscall costs a microsecond or two, far less than a round trip
 * through libuv's thread pool, which was most of the cost of serving an uncached small file.
 * Streamed reads of large files stay asynchronous.
 */
export class FileRef implements FileSource {
  private closed = false;

  constructor(
    readonly fd: number,
    readonly version: FileVersion,
  ) {}

  /** Closes the descriptor once; a failure to close (EIO on a bad disk) leaves nothing to do. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // the descriptor is gone either way
    }
  }

  read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(this.fd, buf, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
    });
  }

  /** Whether the open file still has the size and mtime of its version (one fstat). */
  unchanged(): boolean {
    const st = fs.fstatSync(this.fd);
    return st.size === this.version.size && st.mtimeMs === this.version.mtimeMs;
  }
}

export type Opened =
  | { kind: 'file'; handle: FileRef; size: number; mtimeMs: number; realPath: string; version: FileVersion }
  | { kind: 'directory'; realPath: string }
  | { kind: 'missing' };

// O_NONBLOCK: opening a FIFO planted in the site must not park a libuv thread forever.
// O_NOFOLLOW: the last component is never followed. Where every symlink was resolved first
// (openResolved), a symlink swapped in since is refused; where none was met (openPlain), a
// symlink there sends the path to openResolved.
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

/**
 * A release folder as it was when its Site was made: its real path, and the device and inode
 * that path named then, so that a folder swapped for another (or for a symlink, itself or any
 * folder above it) is noticed with one stat.
 */
export interface SiteRoot {
  readonly real: string;
  readonly dev: number;
  readonly ino: number;
}

/** The SiteRoot of `real`, a path with every symlink resolved. */
export function siteRoot(real: string): SiteRoot {
  const st = fs.lstatSync(real);
  return { real, dev: st.dev, ino: st.ino };
}

/**
 * Whether `root.real` still names the folder it named (lstat: a symlink put in its place is not
 * it, even to the same folder). A folder replaced in place, or renamed and linked, is not.
 */
export function sameRoot(root: SiteRoot): boolean {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(root.real, { throwIfNoEntry: false });
  } catch {
    return false;
  }
  return st !== undefined && st.ino === root.ino && st.dev === root.dev;
}

/**
 * Opens the file or finds the directory that `segments` name under `root`. The result lies
 * inside the root, symlinks resolved: outside, and anything that is neither a regular file nor a
 * directory, is 'missing'. Errors other than "not there" (EACCES, EMFILE, ...) are thrown as the
 * Node error, for the caller's errno table.
 */
export function openUnder(root: SiteRoot, segments: readonly string[]): Opened {
  const candidate = candidatePath(root.real, segments);
  return openPlain(root, candidate, segments) ?? openResolved(root.real, candidate);
}

/** A segment that names one entry of its folder as it is: not empty, `.`, `..`, nor holding `/` or NUL. */
function plainSegment(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0');
}

/**
 * The common case, in few system calls: the root is still the folder it was, and no component
 * below it is a symlink. One lstat of the root, one lstat per folder on the way down, then the last
 * component opened with O_NOFOLLOW and fstat'ed: the candidate path is then the real one, inside
 * the root. (realpath(3) costs a stat or readlink per component of the whole path.) Returns null
 * where a symlink is met, the root changed or a segment is not plain: openResolved decides then. A
 * folder swapped for a symlink between its lstat and the open is the same race as a swap between
 * realpath and open in openResolved: in both, only the last component is checked at the open.
 */
function openPlain(root: SiteRoot, candidate: string, segments: readonly string[]): Opened | null {
  for (const s of segments) if (!plainSegment(s)) return null;
  if (!sameRoot(root)) return null;
  let folder = root.real;
  // From the top: a symlinked folder near the root is met before any lstat below it.
  for (let i = 0; i < segments.length - 1; i++) {
    folder = path.join(folder, segments[i] as string);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(folder, { throwIfNoEntry: false });
    } catch (err) {
      if (isAbsent(err)) return { kind: 'missing' };
      throw err;
    }
    if (st === undefined) return { kind: 'missing' };
    if (st.isSymbolicLink()) return null;
    if (!st.isDirectory()) return { kind: 'missing' };
  }
  let fd: number;
  try {
    fd = fs.openSync(candidate, OPEN_FLAGS);
  } catch (err) {
    // ELOOP: the last component is a symlink, which may well point inside the root.
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return null;
    if (isAbsent(err)) return { kind: 'missing' };
    throw err;
  }
  return classify(fd, candidate, candidate);
}

/** Every symlink resolved by realpath(3), the result checked to lie inside the root, then opened. */
function openResolved(rootReal: string, candidate: string): Opened {
  let real: string;
  try {
    real = fs.realpathSync.native(candidate);
  } catch (err) {
    if (isAbsent(err)) return { kind: 'missing' };
    throw err;
  }
  if (!isInside(rootReal, real)) return { kind: 'missing' };

  let fd: number;
  try {
    fd = fs.openSync(real, OPEN_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return { kind: 'missing' };
    throw err;
  }
  return classify(fd, candidate, real);
}

/** What the open descriptor `fd` is: a file (kept open), a folder or anything else (closed). */
function classify(fd: number, candidate: string, real: string): Opened {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (st.isFile()) {
    const version = { path: candidate, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    return { kind: 'file', handle: new FileRef(fd, version), size: st.size, mtimeMs: st.mtimeMs, realPath: real, version };
  }
  fs.closeSync(fd);
  return st.isDirectory() ? { kind: 'directory', realPath: real } : { kind: 'missing' };
}

/** Error code of a file that changed (size or mtime) while it was being read. */
export const CHANGED = 'ECHANGED';

/**
 * Reads a whole file: its version's `size` bytes, checking afterwards that the file is unchanged.
 * A file truncated or rewritten meanwhile throws an error with code CHANGED, so no one is ever
 * sent a mix of two versions.
 */
export function readWhole(handle: FileRef): Buffer {
  const { size } = handle.version;
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const bytesRead = fs.readSync(handle.fd, buf, n, size - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  if (n !== size || !handle.unchanged()) {
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
