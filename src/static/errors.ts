// Answers the static handler gives when there is no file to send: the site's 404 page, and the
// status of a file-system error (nginx's errno table).

import { errorReply } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import { log, RareWarning } from '../log';
import { CHANGED, isAbsent, openUnder, readWhole } from './files';
import { contentTypeFor } from './mime';
import { SMALL_FILE_BYTES, type Site } from './site';

/** The site's own 404 pages, first found wins: GitHub Pages' and Netlify's 404.html, then error.html. */
const NOT_FOUND_PAGES = [['404.html'], ['error.html']];

/**
 * 404 with the site's 404.html (or error.html) as its body, or the built-in page when the site
 * has neither.
 */
export function notFound(site: Site): Reply {
  for (const segments of NOT_FOUND_PAGES) {
    const reply = pageReply(site, segments, 404);
    if (reply !== null) return reply;
  }
  return errorReply(404);
}

/** A site page skipped (too large, unreadable) is worth saying, but not once per request. */
const skippedPage = new RareWarning();

/**
 * `status` with the site's file at `segments` as its body (a page of at most
 * max(SMALL_FILE_BYTES, CACHE_MAX_FILE_BYTES), read whole and sent as it is), or null when there
 * is no such file to send — with a warning when there is one that cannot be sent.
 */
export function pageReply(site: Site, segments: readonly string[], status: number): Reply | null {
  const name = `/${segments.join('/')}`;
  let opened;
  try {
    opened = openUnder(site.root, segments);
  } catch (err) {
    skippedPage.note(() => `${name} cannot be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); sending the next 404 page`);
    return null;
  }
  if (opened.kind !== 'file') return null;
  const limit = Math.max(SMALL_FILE_BYTES, site.options.cacheMaxFileBytes);
  try {
    if (opened.size <= limit) return { status, headers: { contentType: contentTypeFor(segments[segments.length - 1] ?? '') }, body: readWhole(opened.handle) };
    skippedPage.note(() => `${name} is larger than ${limit} bytes (CACHE_MAX_FILE_BYTES); sending the next 404 page`);
  } catch {
    // being rewritten right now: the next page will do this once
  } finally {
    opened.handle.close();
  }
  return null;
}

/** Running out of descriptors hits every request: one warning per minute at most. */
const outOfDescriptors = new RareWarning();

/**
 * nginx's errno table: the status for a file-system error, and whether it is worth a log line.
 * "Not there" is the client's doing and quiet; a permission problem is 403; running out of file
 * descriptors is ours and temporary (503); anything else is a 500 logged loudly.
 */
export function errnoStatus(err: unknown): number {
  if (isAbsent(err)) return 404;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  // Being rewritten right now: nothing consistent to send; the client may retry in a moment.
  if (code === CHANGED) return 503;
  if (code === 'EMFILE' || code === 'ENFILE') {
    outOfDescriptors.note(() => `out of file descriptors (${code}); answering 503`);
    return 503;
  }
  log.error(`unexpected file-system error: ${(err as Error).message}`);
  return 500;
}
