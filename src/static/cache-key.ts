// The reply cache's key: made of what a reply depends on, never of raw client input it does not.
//
// The normalised path (the same for `/a/./b`, `/a/%62` and `//a//b`); what negotiation makes of
// Accept-Encoding (a handful of profiles, whatever the q-values); the Origin only where CORS
// echoes it; Accept only where SPA_FALLBACK reads it. Never the query, never If-None-Match or
// If-Modified-Since (a cache evaluates those against its 200), and a request with a field whose
// effect a cache cannot reproduce (a range, a precondition that can fail) has no key at all.

import { acceptsHtml, encodingProfile } from '../http/negotiate';
import { decodeTarget } from '../http/target';
import type { CorsPolicy } from '../site/cors';

/** What of the site's configuration decides which request fields a reply depends on. */
export interface KeyPolicy {
  cors: CorsPolicy | null;
  /** Whether SPA_FALLBACK is on (then Accept decides between the app's page and a 404). */
  spa: boolean;
}

/**
 * Field values longer than this are not looked up in the small memo of normalised values (and a
 * memo holds at most MEMO_ENTRIES of them): what a client sends can never grow the memo.
 */
export const MEMO_VALUE_CHARS = 256;
export const MEMO_ENTRIES = 256;

/** A small, bounded memo of a pure function of short strings; cleared when full. */
class Memo {
  private readonly map = new Map<string, string>();
  constructor(private readonly fn: (value: string) => string) {}
  get size(): number {
    return this.map.size;
  }
  get(value: string): string {
    if (value.length > MEMO_VALUE_CHARS) return this.fn(value);
    let out = this.map.get(value);
    if (out === undefined) {
      if (this.map.size >= MEMO_ENTRIES) this.map.clear();
      out = this.fn(value);
      this.map.set(value, out);
    }
    return out;
  }
}

const profiles = new Memo(encodingProfile);
const htmlAccepts = new Memo((accept) => (acceptsHtml(accept) ? 'h' : 'n'));

/** Values the two memos hold now (for tests of their bound). */
export function memoSize(): number {
  return profiles.size + htmlAccepts.size;
}

/**
 * The path part of a key: the target's path when it is already normal (starts with `/`, no
 * escape, dot-segment, empty segment, backslash or fragment: the hot case, no allocation), else
 * the decoded, normalised path. Null when the target does not decode (the request fails anyway).
 */
function keyPath(target: string): string | null {
  if (target.charCodeAt(0) === 0x2f) {
    let afterSlash = true;
    let i = 1;
    for (; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c === 0x3f) break; // '?': the query is not part of the key
      if (c === 0x25 || c === 0x23 || c === 0x5c || (afterSlash && (c === 0x2f || c === 0x2e))) {
        i = -1;
        break;
      }
      afterSlash = c === 0x2f;
    }
    if (i !== -1) return i === target.length ? target : target.slice(0, i);
  }
  const decoded = decodeTarget(target);
  if (typeof decoded === 'number') return null;
  const { segments, trailingSlash } = decoded;
  return `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`;
}

/**
 * The cache key of a GET/HEAD (method excluded: HEAD differs only in the bytes written), or null
 * when the request carries a field whose effect the cache cannot reproduce (a range, or a
 * precondition that can fail with 412). Repeated fields: the first counts, as in the handler.
 */
export function cacheKey(target: string, names: readonly string[], values: readonly string[], policy: KeyPolicy): string | null {
  let encoding: string | undefined;
  let origin: string | undefined;
  let accept: string | undefined;
  for (const [i, name] of names.entries()) {
    switch (name) {
      case 'accept-encoding':
        encoding ??= values[i];
        break;
      case 'origin':
        origin ??= values[i];
        break;
      case 'accept':
        accept ??= values[i];
        break;
      case 'range':
      case 'if-range':
      case 'if-match':
      case 'if-unmodified-since':
        return null;
    }
  }
  let key = keyPath(target);
  if (key === null) return null;
  if (encoding !== undefined) key += `\ne${profiles.get(encoding)}`;
  // With a list of origins, an allowed origin is echoed in the reply; any other changes nothing.
  const { cors } = policy;
  if (cors !== null && cors.kind === 'list' && origin !== undefined && cors.origins.has(origin)) key += `\no${origin}`;
  if (policy.spa) key += `\n${accept === undefined ? 'h' : htmlAccepts.get(accept)}`;
  return key;
}
