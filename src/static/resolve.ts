// The root wall: maps decoded path segments to a real file under STATIC_DIR, or says why not.

import path from 'node:path';

/** A dot-segment other than .well-known (RFC 8615) is hidden: `.env`, `.git/` and the like. */
export function isHidden(segments: readonly string[]): boolean {
  for (const s of segments) {
    if (s.charCodeAt(0) === 0x2e && s !== '.well-known') return true;
  }
  return false;
}

/**
 * Whether `real` (a path with every symlink resolved) lies inside the root. Compared against
 * root + separator so that a sibling such as `/srv/www-old` never passes for `/srv/www`.
 */
export function isInside(rootReal: string, real: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep);
}

/** The path below `rootReal` that the segments name, before symlinks are resolved. */
export function candidatePath(rootReal: string, segments: readonly string[]): string {
  return segments.length === 0 ? rootReal : path.join(rootReal, ...segments);
}
