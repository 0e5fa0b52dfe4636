// The `_headers` file of a site (Netlify / Cloudflare Pages syntax), parsed once per release: a
// path pattern on a line of its own, then indented `Name: value` lines. Pure.
//
//   /assets/*
//     Cache-Control: public, max-age=31536000, immutable
//   /*
//     X-Frame-Options: DENY
//
// Every block whose pattern matches the requested path applies; values of the same field from
// several blocks (or lines) accumulate, joined with ", ", in file order — as on Netlify.

import { fieldProblem } from './headers-file';
import { SiteFileError } from './redirects';
import { matchRoute, parseRoutePattern, RouteIndex, type RoutePattern } from './route-pattern';

export interface SiteHeaderRule {
  line: number;
  pattern: RoutePattern;
  headers: Array<[string, string]>;
}

/** The blocks of a `_headers` file, in file order, indexed for lookup. */
export interface SiteHeaders {
  rules: readonly SiteHeaderRule[];
  index: RouteIndex;
}

/** Parses the text of `_headers`. Throws SiteFileError on the first line it cannot take. */
export function parseSiteHeaders(text: string): SiteHeaders {
  const rules: SiteHeaderRule[] = [];
  let current: SiteHeaderRule | null = null;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (!/^\s/.test(raw)) {
      if (/^https?:\/\//i.test(trimmed)) throw new SiteFileError(line, `host-prefixed rules ("${trimmed}") are not supported: PWS serves one site`);
      if (/\s/.test(trimmed)) throw new SiteFileError(line, `"${trimmed}": a path line holds the path only; its fields go on the indented lines below it`);
      try {
        current = { line, pattern: parseRoutePattern(trimmed), headers: [] };
      } catch (err) {
        throw new SiteFileError(line, (err as Error).message);
      }
      rules.push(current);
      continue;
    }
    if (current === null) throw new SiteFileError(line, `"${trimmed}" comes before any path line`);
    if (trimmed.startsWith('!')) throw new SiteFileError(line, `removing fields ("${trimmed}") is not supported`);
    const colon = trimmed.indexOf(':');
    if (colon <= 0) throw new SiteFileError(line, `expected "Name: value", found "${trimmed}"`);
    const name = trimmed.slice(0, colon).trim();
    const value = trimmed.slice(colon + 1).trim();
    const problem = fieldProblem(name, value);
    if (problem !== null) throw new SiteFileError(line, problem);
    current.headers.push([name, value]);
  }
  return { rules, index: new RouteIndex(rules.map((r) => r.pattern)) };
}

/**
 * The fields of every rule matching `segments` (decoded, normalised), values of one name joined
 * with ", " in file order, under the name as first written (each Set-Cookie kept apart).
 */
export function siteHeadersFor(headers: SiteHeaders, segments: readonly string[]): Array<[string, string]> {
  if (headers.rules.length === 0) return [];
  let out: Map<string, [string, string]> | null = null;
  headers.index.each(segments, (i) => {
    const rule = headers.rules[i] as SiteHeaderRule;
    if (matchRoute(rule.pattern, segments) === null) return false;
    out ??= new Map();
    for (const [name, value] of rule.headers) {
      // Set-Cookie is the one field that cannot be joined into a list (RFC 9110 §5.3).
      const key = name.toLowerCase() === 'set-cookie' ? `set-cookie ${out.size}` : name.toLowerCase();
      const had = out.get(key);
      out.set(key, had === undefined ? [name, value] : [had[0], `${had[1]}, ${value}`]);
    }
    return false;
  });
  return out === null ? [] : [...(out as Map<string, [string, string]>).values()];
}
