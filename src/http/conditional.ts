// Conditional requests (RFC 9110 §13): entity-tag comparison, HTTP dates, and the precondition order.

/** Outcome of evaluatePreconditions: go on and send the representation, or answer 304/412. */
export const PROCEED = 0;
export const NOT_MODIFIED = 304;
export const PRECONDITION_FAILED = 412;

export interface Validators {
  /** Strong entity-tag including quotes, e.g. "\"1a-5f3c\"". */
  etag: string;
  /** Last modification time in ms since the epoch (compared at one-second resolution). */
  lastModified: number;
}

export type HeaderLookup = (name: string) => string | undefined;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RFC850 = /^[A-Z][a-z]+day, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const IMF = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/**
 * Parses an HTTP-date in any of the three formats a recipient must accept (§5.6.7):
 * IMF-fixdate, RFC 850 and asctime. Returns ms since the epoch, or NaN when invalid.
 */
export function parseHttpDate(value: string): number {
  let m = IMF.exec(value);
  if (m) {
    const [, day = '', month = '', year = '', h = '', min = '', sec = ''] = m;
    return utc(+year, month, +day, +h, +min, +sec);
  }
  m = RFC850.exec(value);
  if (m) {
    const [, day = '', month = '', yy = '', h = '', min = '', sec = ''] = m;
    // Two-digit years: a year more than 50 years in the future is taken as the past century.
    let year = 2000 + +yy;
    if (year > new Date().getUTCFullYear() + 50) year -= 100;
    return utc(year, month, +day, +h, +min, +sec);
  }
  m = ASCTIME.exec(value);
  if (m) {
    const [, month = '', day = '', h = '', min = '', sec = '', year = ''] = m;
    return utc(+year, month, +day.trim(), +h, +min, +sec);
  }
  return NaN;
}

function utc(year: number, month: string, day: number, h: number, min: number, s: number): number {
  const mon = MONTHS.indexOf(month);
  if (mon < 0 || day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return NaN;
  const t = Date.UTC(year, mon, day, h, min, s);
  // Reject dates such as 31 Feb that Date.UTC would roll over.
  return new Date(t).getUTCDate() === day ? t : NaN;
}

/** Splits an entity-tag list; returns null when any member is malformed. */
export function parseEtagList(value: string): string[] | null {
  const tags: string[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= n) break;
    const start = i;
    if (value.startsWith('W/', i)) i += 2;
    if (value[i] !== '"') return null;
    const close = value.indexOf('"', i + 1);
    if (close === -1) return null;
    tags.push(value.slice(start, close + 1));
    i = close + 1;
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    if (i < n && value[i] !== ',') return null;
  }
  return tags;
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** Weak comparison (§8.8.3.2): the opaque tags match, whether or not either is weak. */
function weakMatch(list: string, etag: string): boolean {
  // What a client revalidating its copy sends: the one tag it was given, as it was given.
  if (list === etag) return true;
  if (list.trim() === '*') return true;
  const tags = parseEtagList(list);
  if (tags === null) return false;
  const want = opaque(etag);
  return tags.some((t) => opaque(t) === want);
}

/** Strong comparison: both strong and identical. */
function strongMatch(list: string, etag: string): boolean {
  if (list === etag) return !etag.startsWith('W/');
  if (list.trim() === '*') return true;
  const tags = parseEtagList(list);
  if (tags === null) return false;
  return !etag.startsWith('W/') && tags.some((t) => t === etag);
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Evaluates the preconditions of a GET or HEAD in the order of RFC 9110 §13.2.2:
 * If-Match, else If-Unmodified-Since (→ 412); If-None-Match, else If-Modified-Since (→ 304).
 * An unparseable date is ignored, as is If-Modified-Since later than `now`.
 * Returns PROCEED, NOT_MODIFIED or PRECONDITION_FAILED.
 */
export function evaluatePreconditions(header: HeaderLookup, v: Validators, now: number = Date.now()): number {
  const ifMatch = header('if-match');
  if (ifMatch !== undefined) {
    if (!strongMatch(ifMatch, v.etag)) return PRECONDITION_FAILED;
  } else {
    const ius = header('if-unmodified-since');
    if (ius !== undefined) {
      const date = parseHttpDate(ius);
      if (!Number.isNaN(date) && seconds(v.lastModified) > seconds(date)) return PRECONDITION_FAILED;
    }
  }
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch !== undefined) {
    return weakMatch(ifNoneMatch, v.etag) ? NOT_MODIFIED : PROCEED;
  }
  const ims = header('if-modified-since');
  if (ims !== undefined) {
    const date = parseHttpDate(ims);
    if (!Number.isNaN(date) && date <= now && seconds(v.lastModified) <= seconds(date)) return NOT_MODIFIED;
  }
  return PROCEED;
}

/**
 * If-Range (§13.1.5): whether a Range may be honoured. An entity-tag must match strongly; a
 * date must equal Last-Modified exactly. Anything else (weak tag, bad date) means "send it all".
 */
export function ifRangeAllows(header: HeaderLookup, v: Validators): boolean {
  const value = header('if-range');
  if (value === undefined) return true;
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === v.etag;
  const date = parseHttpDate(trimmed);
  return !Number.isNaN(date) && seconds(date) === seconds(v.lastModified);
}
