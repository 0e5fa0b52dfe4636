// The static handler: a decoded GET/HEAD target → a Reply (status, fields, body). No socket here.

import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { DecodedTarget } from '../http/target';
import { log } from '../log';
import { contentTypeFor } from './mime';
import { isAbsent, openUnder, readSmall } from './files';
import { isHidden } from './resolve';

export type FieldList = Array<[string, string | number]>;

/** A file body to stream: the open handle (the sender closes it) and how many bytes to send. */
export interface FileBody {
  handle: FileHandle;
  size: number;
}

export interface Reply {
  status: number;
  fields: FieldList;
  /** Buffer bodies are sent whole; file bodies are streamed; null has no body (length 0). */
  body: Buffer | FileBody | null;
}

export interface Site {
  /** Real path of STATIC_DIR (symlinks resolved once at start). */
  rootReal: string;
}

/** Files up to this size are read whole and sent with their head in one write. */
export const SMALL_FILE_BYTES = 64 * 1024;

const HTML = 'text/html; charset=utf-8';

/**
 * Maps a decoded target to a Reply. Never throws: a file-system error becomes its status
 * through errnoStatus (nginx's table), and only an unexpected one is logged.
 */
export async function serveStatic(target: DecodedTarget, site: Site): Promise<Reply> {
  try {
    if (isHidden(target.segments)) return await notFound(site);
    const opened = await openUnder(site.rootReal, target.segments);
    if (opened.kind === 'missing') return await notFound(site);
    if (opened.kind === 'directory') {
      if (!target.trailingSlash) {
        return { status: 301, fields: [['Location', `${target.rawPath}/${target.query}`], ['Content-Type', HTML]], body: page(301) };
      }
      const index = await openUnder(site.rootReal, [...target.segments, 'index.html']);
      if (index.kind !== 'file') return await notFound(site);
      return await fileReply(200, index.handle, index.size, index.realPath);
    }
    // "/file.txt/" names a directory that does not exist.
    if (target.trailingSlash) {
      await opened.handle.close();
      return await notFound(site);
    }
    return await fileReply(200, opened.handle, opened.size, opened.realPath);
  } catch (err) {
    return errorReply(errnoStatus(err));
  }
}

async function fileReply(status: number, handle: FileHandle, size: number, realPath: string): Promise<Reply> {
  const fields: FieldList = [['Content-Type', contentTypeFor(path.basename(realPath))]];
  if (size > SMALL_FILE_BYTES) return { status, fields, body: { handle, size } };
  try {
    return { status, fields, body: await readSmall(handle, size) };
  } finally {
    await handle.close();
  }
}

/** 404 with the site's error.html as its body, or a built-in page when the site has none. */
async function notFound(site: Site): Promise<Reply> {
  const opened = await openUnder(site.rootReal, ['error.html']).catch(() => null);
  if (opened?.kind === 'file') {
    try {
      if (opened.size <= SMALL_FILE_BYTES) {
        return { status: 404, fields: [['Content-Type', HTML]], body: await readSmall(opened.handle, opened.size) };
      }
    } finally {
      await opened.handle.close();
    }
  }
  return errorReply(404);
}

/** A small built-in HTML page for `status`. */
export function errorReply(status: number, extra: FieldList = []): Reply {
  return { status, fields: [['Content-Type', HTML], ...extra], body: page(status) };
}

const pages = new Map<number, Buffer>();
function page(status: number): Buffer {
  let body = pages.get(status);
  if (body === undefined) {
    body = Buffer.from(`<!doctype html><title>${status}</title><h1>${status}</h1>\n`);
    pages.set(status, body);
  }
  return body;
}

/**
 * nginx's errno table: the status for a file-system error, and whether it is worth a log line.
 * "Not there" is the client's doing and quiet; a permission problem is 403; running out of file
 * descriptors is ours and temporary (503); anything else is a 500 logged loudly.
 */
export function errnoStatus(err: unknown): number {
  if (isAbsent(err)) return 404;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  if (code === 'EMFILE' || code === 'ENFILE') {
    log.warn(`out of file descriptors (${code}); answering 503`);
    return 503;
  }
  log.error(`unexpected file-system error: ${(err as Error).message}`);
  return 500;
}
