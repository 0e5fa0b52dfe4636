// HEADERS_FILE: extra response headers by path glob, read and validated once at start-up.

import { FIELD_VALUE, TOKEN } from '../http/chars';
import { globPattern, type PathPattern } from './glob';

export interface HeaderRule {
  glob: string;
  pattern: PathPattern;
  headers: Array<[string, string]>;
}

/** Fields PWS computes itself; letting a file override them would corrupt framing or validators. */
const RESERVED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'content-encoding',
  'content-range',
  'date',
  'server',
  'etag',
  'last-modified',
  'keep-alive',
  'upgrade',
  'trailer',
  'vary',
  'location',
]);

/**
 * What is wrong with a response field a site's configuration sets, or null: a name that is not a
 * token, a field PWS computes itself, a value with control characters, or a value too long.
 */
export function fieldProblem(name: string, value: string): string | null {
  if (name.length === 0 || [...name].some((ch) => ch.charCodeAt(0) > 0x7f || TOKEN[ch.charCodeAt(0)] !== 1)) return `"${name}" is not a valid header name`;
  if (RESERVED.has(name.toLowerCase())) return `${name} is set by PWS itself and cannot be overridden`;
  if ([...value].some((ch) => ch.charCodeAt(0) > 0xff || FIELD_VALUE[ch.charCodeAt(0)] !== 1)) {
    return `the value of ${name} must be Latin-1 text without control characters (percent-encode anything else)`;
  }
  // HTTP/2 clients refuse a header block over their limit (often 64 KiB) outright.
  if (value.length > MAX_FIELD_VALUE_BYTES) return `the value of ${name} is longer than ${MAX_FIELD_VALUE_BYTES} bytes`;
  return null;
}

/** Longest value a site's configuration may give one field. */
export const MAX_FIELD_VALUE_BYTES = 8192;

/**
 * Parses the JSON of a headers file: an object whose keys are path globs and whose values are
 * objects of header name → string value, e.g. {"/**\/*.html": {"Content-Security-Policy": "…"}}.
 * Rules apply in file order; a later rule's value for the same header wins.
 * Throws an Error with a one-line message on anything invalid.
 */
export function parseHeadersFile(json: string): HeaderRule[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('expected an object of "glob": {"Header": "value"}');
  const rules: HeaderRule[] = [];
  for (const [glob, headers] of Object.entries(data as Record<string, unknown>)) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new Error(`"${glob}": expected an object of headers`);
    const list: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new Error(`"${glob}": the value of ${name} must be a string`);
      const problem = fieldProblem(name, value);
      if (problem !== null) throw new Error(`"${glob}": ${problem}`);
      list.push([name, value.trim()]);
    }
    rules.push({ glob, pattern: globPattern(glob), headers: list });
  }
  return rules;
}

/** The extra headers for a decoded path, later rules overriding earlier ones. */
export function headersFor(rules: readonly HeaderRule[], urlPath: string): Array<[string, string]> {
  if (rules.length === 0) return [];
  const out = new Map<string, [string, string]>();
  for (const rule of rules) {
    if (!rule.pattern.test(urlPath)) continue;
    for (const h of rule.headers) out.set(h[0].toLowerCase(), h);
  }
  return [...out.values()];
}
