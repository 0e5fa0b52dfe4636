// Answers the static handler gives when there is no file to send: the site's 404 page, and the
// status of a file-system error (nginx's errno table).

import { errorReply, HTML } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import { log, RareWarning } from '../log';
import { CHANGED, isAbsent, openUnder, readWhole } from './files';
import { SMALL_FILE_BYTES, type Site } from './site';

/** 404 with the site's error.html as its body, or the built-in page when the site has none. */
export function notFound(site: Site): Reply {
  let opened;
  try {
    opened = openUnder(site.rootReal, ['error.html']);
  } catch {
    return errorReply(404);
  }
  if (opened.kind !== 'file') return errorReply(404);
  try {
    if (opened.size <= SMALL_FILE_BYTES) return { status: 404, headers: { contentType: HTML }, body: readWhole(opened.handle) };
  } catch {
    // being rewritten, or unreadable: the built-in page will do
  } finally {
    opened.handle.close();
  }
  return errorReply(404);
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
