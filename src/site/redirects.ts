// The `_redirects` file of a site (Netlify / Cloudflare Pages syntax), parsed once per release:
// `from to [status][!]` per line, `#` comments. Pure: text in, rules out; a path in, a target out.
//
// The subset: statuses 301 (the default), 302, 303, 307, 308, 200 (a rewrite: `to` is served
// under the requested URL) and 404 (`to` is served with 404); splats and placeholders; `!` to
// apply a rule even where a file exists. Anything outside it — query-parameter matching,
// conditions (Country=, Language=, Role=, Cookie=), proxying to another host, host-prefixed
// rules — is refused with its line number rather than silently ignored.

import { encodeSegment } from '../http/location';
import { decodeTarget } from '../http/target';
import { boundNames, matchRoute, parseRoutePattern, RouteIndex, type Captures, type RoutePattern } from './route-pattern';

export type RuleStatus = 200 | 301 | 302 | 303 | 307 | 308 | 404;

const STATUSES: ReadonlySet<number> = new Set([200, 301, 302, 303, 307, 308, 404]);

/** Pieces of a `to`: literal text and the names substituted into it. */
type Piece = string | { name: string };

export interface RedirectRule {
  /** Line number in the file, for messages. */
  line: number;
  from: RoutePattern;
  /** The `to` as written. */
  to: string;
  /** `scheme://authority` of an absolute `to` (written by the site's owner), '' for a path. */
  origin: string;
  /** The rest of `to` (path, query, fragment), with its placeholders. */
  pieces: readonly Piece[];
  status: RuleStatus;
  /** `!`: applies even where a file exists at the requested path. */
  force: boolean;
}

/** A rule that matched a path, and its target with the captures substituted. */
export interface RuleMatch {
  rule: RedirectRule;
  /** An absolute URL (absolute rules), or a path starting with exactly one `/`. */
  target: string;
}

/** A mistake in a site file: the line it is on and what is wrong, for a one-line report. */
export class SiteFileError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

const PLACEHOLDER = /:([A-Za-z_][A-Za-z0-9_]*)/g;
const ABSOLUTE = /^https?:\/\/[^/?#]+/i;

/** The tokens of a line before any `#` comment. */
function tokens(line: string): string[] {
  const out: string[] = [];
  for (const t of line.trim().split(/\s+/)) {
    if (t.startsWith('#')) break;
    if (t !== '') out.push(t);
  }
  return out;
}

/** The rules of a `_redirects` file, in file order, indexed for lookup. */
export interface Redirects {
  rules: readonly RedirectRule[];
  index: RouteIndex;
}

/** Parses the text of `_redirects`. Throws SiteFileError on the first line it cannot take. */
export function parseRedirects(text: string): Redirects {
  const rules: RedirectRule[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const t = tokens(line);
    if (t.length === 0) continue;
    try {
      rules.push(parseRule(t, i + 1));
    } catch (err) {
      if (err instanceof SiteFileError) throw err;
      throw new SiteFileError(i + 1, (err as Error).message);
    }
  }
  return { rules, index: new RouteIndex(rules.map((r) => r.from)) };
}

function parseRule(t: string[], line: number): RedirectRule {
  const [from = '', to, code, ...rest] = t;
  if (/^https?:\/\//i.test(from))
    throw new Error(`host-prefixed rules ("${from}") are not supported: PWS serves one site; redirect other hosts at the balancer`);
  if (from.includes('?')) throw new Error(`query strings in the from path ("${from}") are not supported`);
  if (to === undefined) throw new Error(`expected "from to [status]", found only "${from}"`);
  if (to.includes('=') && !to.startsWith('/') && !/^https?:/i.test(to)) throw new Error(`query-parameter matching ("${to}") is not supported`);
  const conditions = [code, ...rest].find((x) => x?.includes('='));
  if (conditions !== undefined) throw new Error(`conditions such as "${conditions}" (Country, Language, Role, Cookie) are not supported`);
  if (rest.length > 0) throw new Error(`unexpected "${rest.join(' ')}" after the status`);

  let status: RuleStatus = 301;
  let force = false;
  if (code !== undefined) {
    const m = /^(\d{3})(!?)$/.exec(code);
    if (m === null || !STATUSES.has(Number(m[1]))) throw new Error(`status "${code}" is not supported (301, 302, 303, 307, 308, 200 or 404, with ! to force)`);
    status = Number(m[1]) as RuleStatus;
    force = m[2] === '!';
  }

  const pattern = parseRoutePattern(from);
  if (/[\x00-\x20\x7f]/.test(to)) throw new Error(`"${to}" has control characters`);
  // Browsers read a backslash as a slash: `/\\evil.example` is another host to them.
  if (to.includes('\\')) throw new Error(`"${to}" has a backslash, which browsers read as /: write / (or %5C for the character itself)`);
  const origin = ABSOLUTE.exec(to)?.[0] ?? '';
  if (origin !== '') {
    if (status === 200 || status === 404)
      throw new Error(`proxying to another host ("${to}" with ${status}) is not supported; only redirects may name an absolute URL`);
    let url: URL | null = null;
    try {
      url = new URL(to.replace(PLACEHOLDER, 'x'));
    } catch {
      // reported below
    }
    if (url === null || url.hostname === '' || PLACEHOLDER.test(origin.replace(/:\d+$/, ''))) throw new Error(`"${to}" is not a URL with a fixed host`);
  } else if (to.startsWith('//')) {
    throw new Error(`"${to}" would send browsers to another host: write the absolute URL (https://...) if that is meant`);
  } else if (!to.startsWith('/')) {
    throw new Error(`"${to}" must be a path starting with / or an http(s):// URL`);
  }
  // Non-ASCII written in the file goes out percent-encoded, as every URL PWS sends.
  const rest2 = to.slice(origin.length).replace(/[^\x00-\x7f]+/g, encodeURIComponent);
  const bound = boundNames(pattern);
  const pieces: Piece[] = [];
  let at = 0;
  for (const m of rest2.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    if (!bound.has(name)) throw new Error(`"${to}" uses :${name}, which "${from}" does not capture`);
    if (m.index > at) pieces.push(rest2.slice(at, m.index));
    pieces.push({ name });
    at = m.index + m[0].length;
  }
  if (at < rest2.length) pieces.push(rest2.slice(at));
  if (origin === '' && status !== 200 && status !== 404 && pieces.every((p) => typeof p === 'string')) {
    const target = decodeTarget(rest2);
    if (typeof target !== 'number' && matchRoute(pattern, target.segments) !== null)
      throw new Error(`"${to}" matches "${from}" itself: every request for it would be redirected again`);
  }
  return { line, from: pattern, to, origin, pieces, status, force };
}

/** The first rule whose `from` matches `segments` (decoded, normalised), with its target; or null. */
export function findRule(redirects: Redirects, segments: readonly string[]): RuleMatch | null {
  let found: RuleMatch | null = null;
  redirects.index.each(segments, (i) => {
    const rule = redirects.rules[i] as RedirectRule;
    const captures = matchRoute(rule.from, segments);
    if (captures !== null) found = { rule, target: expand(rule, captures) };
    return captures !== null;
  });
  return found;
}

/**
 * `to` with the captures substituted, each captured segment percent-encoded as one segment. Runs
 * of `/` in the path are collapsed: an empty splat in `/:splat/x` must not make `//x`, which a
 * browser reads as another host. So a path target always starts with exactly one `/`, and an
 * absolute one keeps the host its owner wrote.
 */
function expand(rule: RedirectRule, captures: Captures): string {
  let out = '';
  for (const p of rule.pieces) {
    if (typeof p === 'string') out += p;
    else if (p.name === 'splat') out += captures.splat.map(encodeSegment).join('/');
    else out += encodeSegment(captures.named.get(p.name) ?? '');
  }
  const end = out.search(/[?#]/);
  const path = (end === -1 ? out : out.slice(0, end)).replace(/\/{2,}/g, '/');
  const tail = end === -1 ? '' : out.slice(end);
  if (rule.origin !== '') return `${rule.origin}${path.startsWith('/') || path === '' ? path : `/${path}`}${tail}`;
  return `${path.startsWith('/') ? path : `/${path}`}${tail}`;
}

/**
 * The Location of a redirect rule's target with the request's query kept (Netlify passes it on):
 * appended after the target's own query with `&`, before any fragment. `query` must already be
 * safe to echo (http/location's safeQuery), with its `?`, or ''.
 */
export function withQuery(target: string, query: string): string {
  if (query === '') return target;
  const hash = target.indexOf('#');
  const base = hash === -1 ? target : target.slice(0, hash);
  const fragment = hash === -1 ? '' : target.slice(hash);
  return `${base}${base.includes('?') ? `&${query.slice(1)}` : query}${fragment}`;
}
