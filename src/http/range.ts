// Range requests (RFC 9110 §14.1-§14.2): parses `Range: bytes=…` into sorted, coalesced spans.

/** The header is not a byte-range set PWS understands: ignore it and send the whole file. */
export const RANGE_MALFORMED = -2;
/** No range overlaps the file: 416 with `Content-Range: bytes *\/size`. */
export const RANGE_UNSATISFIABLE = -1;

/** Inclusive [first, last] byte positions. */
export type Span = [number, number];

/**
 * Parses a Range header against a representation of `size` bytes.
 * Returns the satisfiable spans (sorted, overlapping or adjacent ones merged), or a sentinel:
 * RANGE_MALFORMED for bad syntax, another unit, or more than `maxRanges` ranges (a cap against
 * requests for thousands of tiny parts; then the whole file is sent, as nginx does);
 * RANGE_UNSATISFIABLE when the syntax is fine but no range overlaps the file.
 */
export function parseRange(header: string, size: number, maxRanges: number): Span[] | number {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return RANGE_MALFORMED;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > maxRanges) return RANGE_MALFORMED;
  const spans: Span[] = [];
  let any = false;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue; // "bytes=0-1, ,2-3": empty list elements are allowed (§5.6.1)
    any = true;
    const dash = spec.indexOf('-');
    if (dash === -1) return RANGE_MALFORMED;
    const a = spec.slice(0, dash);
    const b = spec.slice(dash + 1);
    if (a === '') {
      // suffix-range: the last n bytes
      const n = digits(b);
      if (n < 0) return RANGE_MALFORMED;
      if (n > 0 && size > 0) spans.push([Math.max(0, size - n), size - 1]);
      continue;
    }
    const first = digits(a);
    if (first < 0) return RANGE_MALFORMED;
    let last = size - 1;
    if (b !== '') {
      last = digits(b);
      if (last < 0 || last < first) return RANGE_MALFORMED;
    }
    if (first < size) spans.push([first, Math.min(last, size - 1)]);
  }
  if (!any) return RANGE_MALFORMED;
  if (spans.length === 0) return RANGE_UNSATISFIABLE;
  spans.sort((x, y) => x[0] - y[0]);
  const merged: Span[] = [];
  for (const span of spans) {
    const top = merged[merged.length - 1];
    if (top !== undefined && span[0] <= top[1] + 1) top[1] = Math.max(top[1], span[1]);
    else merged.push(span);
  }
  return merged;
}

/** 1*DIGIT as a number, or -1 (also beyond 2^53). */
function digits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(s);
}
