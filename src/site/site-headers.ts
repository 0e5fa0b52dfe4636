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
import { matchRoute, parseRoutePattern, type RoutePattern } from './route-pattern';

export interface SiteHeaderRule {
  line: number;
  pattern: RoutePattern;
  headers: Array<[string, string]>;
}

/** Parses the text of `_headers`. Throws SiteFileError on the first line it cannot take. */
export function parseSiteHeaders(text: string): SiteHeaderRule[] {
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
  return rules;
}

/**
 * The fields of every rule matching `segments` (decoded, normalised), values of one name joined
 * with ", " in file order, under the name as first written.
 */
export function siteHeadersFor(rules: readonly SiteHeaderRule[], segments: readonly string[]): Array<[string, string]> {
  if (rules.length === 0) return [];
  const out = new Map<string, [string, string]>();
  for (const rule of rules) {
    if (matchRoute(rule.pattern, segments) === null) continue;
    for (const [name, value] of rule.headers) {
      const key = name.toLowerCase();
      const had = out.get(key);
      out.set(key, had === undefined ? [name, value] : [had[0], `${had[1]}, ${value}`]);
    }
  }
  return [...out.values()];
}
