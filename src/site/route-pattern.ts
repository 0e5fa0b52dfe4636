// Path patterns of the site files `_redirects` and `_headers` (Netlify and Cloudflare Pages
// syntax): literal segments, `:name` placeholders (one whole segment each) and a final `*` splat
// (the rest of the path, possibly nothing). Matched against decoded, normalised segments, so
// `..`, `%2f` or doubled slashes cannot make a pattern match what it does not name. Pure.

import { percentDecode } from '../http/target';

type Part = { literal: string } | { name: string };

export interface RoutePattern {
  /** The pattern as written. */
  source: string;
  parts: readonly Part[];
  /** Whether it ends in `*`. */
  splat: boolean;
}

/** What a match captured: each placeholder's segment by name, and the splat's segments. */
export interface Captures {
  named: ReadonlyMap<string, string>;
  splat: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Compiles a pattern such as `/blog/:year/*`. It must start with `/`; a trailing `/` is ignored
 * (`/about/` and `/about` match the same paths); a literal segment may be percent-encoded.
 * Throws an Error whose message names the problem, for a one-line report.
 */
export function parseRoutePattern(source: string): RoutePattern {
  if (!source.startsWith('/')) throw new Error(`"${source}" must start with /`);
  const raw = source.split('/').slice(1);
  if (raw[raw.length - 1] === '') raw.pop();
  const parts: Part[] = [];
  let splat = false;
  const names = new Set<string>();
  for (const [i, segment] of raw.entries()) {
    if (segment === '') throw new Error(`"${source}" has an empty segment (//)`);
    if (segment === '*' && i === raw.length - 1) {
      splat = true;
    } else if (segment.includes('*')) {
      throw new Error(`"${source}": a splat (*) can only be the last segment, as in /blog/*`);
    } else if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!NAME.test(name) || name === 'splat') throw new Error(`"${source}": "${segment}" is not a placeholder name (letters, digits, _)`);
      if (names.has(name)) throw new Error(`"${source}": placeholder :${name} appears twice`);
      names.add(name);
      parts.push({ name });
    } else {
      // Written as UTF-8 or percent-encoded: both name the same decoded segment.
      const literal = percentDecode(segment.replace(/[^\x00-\x7f]+/g, encodeURIComponent));
      if (literal === null || literal === '.' || literal === '..' || literal.includes('/'))
        throw new Error(`"${source}": "${segment}" is not a valid path segment`);
      parts.push({ literal });
    }
  }
  return { source, parts, splat };
}

/** The names a pattern binds (`splat` included when it ends in `*`). */
export function boundNames(pattern: RoutePattern): Set<string> {
  const names = new Set<string>();
  for (const p of pattern.parts) if ('name' in p) names.add(p.name);
  if (pattern.splat) names.add('splat');
  return names;
}

/** The captures of `segments` under `pattern`, or null when it does not match. */
export function matchRoute(pattern: RoutePattern, segments: readonly string[]): Captures | null {
  const { parts } = pattern;
  if (pattern.splat ? segments.length < parts.length : segments.length !== parts.length) return null;
  let named: Map<string, string> | null = null;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Part;
    const segment = segments[i] as string;
    if ('literal' in part) {
      if (part.literal !== segment) return null;
    } else {
      named ??= new Map();
      named.set(part.name, segment);
    }
  }
  return { named: named ?? EMPTY, splat: pattern.splat ? segments.slice(parts.length) : [] };
}

const EMPTY: ReadonlyMap<string, string> = new Map();

/**
 * An index over a list of patterns by their first segment, so that a path is tested only against
 * the patterns that can match it — those whose first segment is that literal, and those that
 * start with a placeholder or a splat — in list order. A site with a thousand rules then costs a
 * request no more than one with a handful.
 */
export class RouteIndex {
  private readonly byFirst = new Map<string, number[]>();
  private readonly anyFirst: number[] = [];

  constructor(patterns: readonly RoutePattern[]) {
    patterns.forEach((p, i) => {
      const first = p.parts[0];
      if (first !== undefined && 'literal' in first) {
        const list = this.byFirst.get(first.literal);
        if (list === undefined) this.byFirst.set(first.literal, [i]);
        else list.push(i);
      } else {
        this.anyFirst.push(i);
      }
    });
  }

  /**
   * Calls `visit` with the index of every pattern that may match `segments`, in ascending order,
   * until it returns true.
   */
  each(segments: readonly string[], visit: (index: number) => boolean): void {
    const a = segments.length === 0 ? EMPTY_LIST : (this.byFirst.get(segments[0] as string) ?? EMPTY_LIST);
    const b = this.anyFirst;
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number)) ? (a[i++] as number) : (b[j++] as number);
      if (visit(next)) return;
    }
  }
}

const EMPTY_LIST: readonly number[] = [];
