// The site's own configuration files at its root: `_redirects` and `_headers` (the Netlify and
// Cloudflare Pages conventions). Read and compiled once per release — at start-up, on a reload and
// when STATIC_DIR is swapped to a new release — and never served.

import fs from 'node:fs';
import path from 'node:path';
import { parseRedirects, type Redirects } from '../site/redirects';
import { parseSiteHeaders, type SiteHeaders } from '../site/site-headers';
import { RouteIndex } from '../site/route-pattern';

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

/** The text of `file`, or null when there is none. Throws an Error naming the file otherwise. */
function readSiteFile(file: string): string | null {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error(`${file} is not a file`);
    if (st.size > SITE_FILE_MAX_BYTES) throw new Error(`${file} is larger than ${SITE_FILE_MAX_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((err as NodeJS.ErrnoException).code !== undefined) throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    throw err;
  }
  return text;
}

/**
 * Reads and compiles the site files of the folder `root`. Throws an Error with one line naming
 * the file, the line and the problem ("/srv/www/_redirects line 3: status "410" is not
 * supported ...").
 */
export function loadSiteFiles(root: string): SiteFiles {
  const compile = <T>(name: string, parse: (text: string) => T): T | null => {
    const file = path.join(root, name);
    const text = readSiteFile(file);
    if (text === null) return null;
    try {
      return parse(text);
    } catch (err) {
      throw new Error(`${file} ${(err as Error).message}`, { cause: err });
    }
  };
  const redirects = compile('_redirects', parseRedirects) ?? NO_SITE_FILES.redirects;
  const headers = compile('_headers', parseSiteHeaders) ?? NO_SITE_FILES.headers;
  return { redirects, headers };
}
