// The site's own configuration files at its root: `_redirects` and `_headers` (the Netlify and
// Cloudflare Pages conventions). Read and compiled once per release — at start-up, on a reload and
// when STATIC_DIR is swapped to a new release — and never served.

import fs from 'node:fs';
import path from 'node:path';
import { parseRedirects, type Redirects } from '../site/redirects';
import { parseSiteHeaders, type SiteHeaders } from '../site/site-headers';
import { RouteIndex } from '../site/route-pattern';
import { isInside } from './resolve';

export interface SiteFiles {
  redirects: Redirects;
  headers: SiteHeaders;
}

/** The names of the site files: at the root they answer 404, like a file that is not there. */
export const SITE_FILE_NAMES: ReadonlySet<string> = new Set(['_redirects', '_headers']);

/** Largest site file read: far past any real rule set, it keeps a mistake (a log file renamed) from taking memory. */
export const SITE_FILE_MAX_BYTES = 1024 * 1024;

export const NO_SITE_FILES: SiteFiles = { redirects: { rules: [], index: new RouteIndex([]) }, headers: { rules: [], index: new RouteIndex([]) } };

/** Whether decoded `segments` name one of the site files at the root. */
export function isSiteFile(segments: readonly string[]): boolean {
  return segments.length === 1 && SITE_FILE_NAMES.has(segments[0] as string);
}

/**
 * The text of the site file `name` of the folder `root` (a real path), or null when there is
 * none. Like a file served, it must be a regular file whose real path lies inside the root: a
 * site file linked to `/etc/shadow` must not be read by a primary that runs as root. Throws an
 * Error naming the file otherwise.
 */
function readSiteFile(root: string, name: string): string | null {
  const file = path.join(root, name);
  try {
    const real = fs.realpathSync(file);
    if (!isInside(root, real)) throw new Error(`${file} points outside the site (${real})`);
    const st = fs.statSync(real);
    if (!st.isFile()) throw new Error(`${file} is not a file`);
    if (st.size > SITE_FILE_MAX_BYTES) throw new Error(`${file} is larger than ${SITE_FILE_MAX_BYTES} bytes`);
    // A byte order mark, as some editors write, is not part of the first line.
    return fs.readFileSync(real, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code !== undefined) throw new Error(`cannot read ${file}: ${code}`, { cause: err });
    throw err;
  }
}

/**
 * Reads and compiles the site files of the folder `root`. Throws an Error with one line naming
 * the file, the line and the problem ("/srv/www/_redirects line 3: status "410" is not
 * supported ...").
 */
export function loadSiteFiles(folder: string): SiteFiles {
  const root = fs.realpathSync(folder);
  const compile = <T>(name: string, parse: (text: string) => T): T | null => {
    const text = readSiteFile(root, name);
    if (text === null) return null;
    try {
      return parse(text);
    } catch (err) {
      throw new Error(`${path.join(root, name)} ${(err as Error).message}`, { cause: err });
    }
  };
  const redirects = compile('_redirects', parseRedirects) ?? NO_SITE_FILES.redirects;
  const headers = compile('_headers', parseSiteHeaders) ?? NO_SITE_FILES.headers;
  return { redirects, headers };
}
