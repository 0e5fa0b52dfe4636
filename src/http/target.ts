// Request-target → normalised path segments (RFC 9112 §3.2, RFC 3986 §5.2.4). Pure; no file system.

import { hexValue } from './chars';
import { E } from './errors';

export interface DecodedTarget {
  /** Decoded path segments with `.`, `..` and empty segments resolved away. */
  segments: string[];
  /** Whether the path named a directory form (ended in `/`, `/.` or `/..`). */
  trailingSlash: boolean;
  /** `?` and the query as sent, or '' (a Location keeps it only through http/location's safeQuery). */
  query: string;
  /**
   * The authority of an absolute-form target (RFC 9112 §3.2.2: it takes the place of Host), as
   * sent and not yet validated; null for origin form. The raw path is deliberately not kept:
   * everything PWS builds from a path starts from `segments`.
   */
  authority: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded URL path of a target: `/` + segments, with the trailing slash of a folder. */
export function urlPath(target: DecodedTarget): string {
  return `/${target.segments.join('/')}${target.trailingSlash && target.segments.length > 0 ? '/' : ''}`;
}

/**
 * Decodes an origin-form or absolute-form target. Returns the decoded target, or an error code:
 * E.TARGET_FORM for asterisk/authority form or a foreign scheme, E.PATH_INVALID for a bad
 * percent-escape, an encoded NUL or control, a backslash, bytes that are not UTF-8 (which is
 * how overlong forms like %c0%ae are caught), or a `..` that climbs above the root.
 * The path is percent-decoded exactly once: `%252e` stays the three characters `%2e`.
 */
export function decodeTarget(target: string): DecodedTarget | number {
  let pathStart = 0;
  let authority: string | null = null;
  if (target.charCodeAt(0) !== 0x2f) {
    const scheme = target.slice(0, 8).toLowerCase();
    let authorityStart: number;
    if (scheme.startsWith('http://')) authorityStart = 7;
    else if (scheme.startsWith('https://')) authorityStart = 8;
    else return E.TARGET_FORM;
    pathStart = authorityStart;
    while (pathStart < target.length) {
      const c = target.charCodeAt(pathStart);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      pathStart++;
    }
    authority = target.slice(authorityStart, pathStart);
  }

  let pathEnd = target.length;
  let queryEnd = target.length;
  const hash = target.indexOf('#', pathStart);
  if (hash !== -1) queryEnd = pathEnd = hash;
  const question = target.indexOf('?', pathStart);
  if (question !== -1 && question < pathEnd) pathEnd = question;

  const rawPath = pathEnd > pathStart ? target.slice(pathStart, pathEnd) : '/';
  const query = target.slice(pathEnd, queryEnd);

  const decoded = rawPath.includes('%') ? percentDecode(rawPath) : rawPath;
  if (decoded === null) return E.PATH_INVALID;

  const segments: string[] = [];
  const parts = decoded.split('/');
  let trailingSlash = false;
  for (const part of parts) {
    trailingSlash = part === '' || part === '.' || part === '..';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      // nginx answers 400 to a path that climbs above the root; so do we.
      if (segments.length === 0) return E.PATH_INVALID;
      segments.pop();
      continue;
    }
    for (let j = 0; j < part.length; j++) {
      const c = part.charCodeAt(j);
      // A backslash is a separator on other systems and never part of a name we serve.
      if (c < 0x20 || c === 0x7f || c === 0x5c) return E.PATH_INVALID;
    }
    segments.push(part);
  }
  if (segments.length === 0) trailingSlash = true;
  return { segments, trailingSlash, query, authority };
}

/** Decodes %XX escapes once and the result as UTF-8; null if any escape or byte is invalid. */
export function percentDecode(s: string): string | null {
  const bytes = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= s.length) return null;
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      const b = hi * 16 + lo;
      if (b === 0) return null;
      bytes[n++] = b;
      i += 2;
    } else {
      bytes[n++] = c;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return null;
  }
}
