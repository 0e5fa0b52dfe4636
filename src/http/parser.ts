// The HTTP/1.1 request-head parser (RFC 9112 §2-§5): a pure function over bytes.
//
// Contract, after picohttpparser: parseRequestHead(buf, start, end, limits, out) returns
//   > 0  the head is complete; that many bytes (from `start`) were consumed and `out` is filled
//     0  NEED_MORE: the bytes so far are a valid prefix of a head; call again with more
//   < 0  an error code from ./errors (the caller maps it to a status)
// It keeps no state between calls: the caller re-offers the whole unconsumed head. It never
// throws, allocates no strings until the head is complete and uses no regular expressions.
// Syntax is checked as the bytes arrive, and so is the one field that decides framing before
// anything else can: a Content-Length that is repeated or not 1*DIGIT is an error at its line.

import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TARGET, TOKEN } from './chars';
import { E } from './errors';

export const NEED_MORE = 0;

export interface ParseLimits {
  /** Longest request-target, in bytes (exceeded → 414). */
  maxUriBytes: number;
  /** Longest header section (field lines and the final CRLF), in bytes (exceeded → 431). */
  maxHeaderBytes: number;
  /** Most field lines (exceeded → 431). */
  maxHeaders: number;
}

export interface RequestHead {
  method: string;
  target: string;
  versionMinor: number;
  /** Field names, lower-cased, in arrival order; values[i] belongs to names[i]. */
  names: string[];
  /** Field values with surrounding whitespace removed, as latin1 strings (obs-text kept). */
  values: string[];
}

export function emptyHead(): RequestHead {
  return { method: '', target: '', versionMinor: 1, names: [], values: [] };
}

/** Longer than any registered method (the longest, UPDATEREDIRECTREF, is 17). */
const MAX_METHOD_BYTES = 32;
/** RFC 9112 §2.2 asks servers to skip at least one empty line before a request; we allow a few. */
const MAX_LEADING_EMPTY_BYTES = 8;
const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
/** Longest Content-Length accepted: 15 digits stay below 2^53 (request.ts's parseLength agrees). */
const MAX_LENGTH_DIGITS = 15;

// Offsets of the field lines found by the last call: [nameStart, nameEnd, valueStart, valueEnd]*.
// Module scope is safe because the parser is synchronous and never re-entered.
let fieldOffsets = new Int32Array(4 * 128);

export function parseRequestHead(buf: Buffer, start: number, end: number, limits: ParseLimits, out: RequestHead): number {
  let p = start;

  while (p < end && buf[p] === CR) {
    if (p + 1 >= end) return NEED_MORE;
    if (buf[p + 1] !== LF) return E.LINE_ENDING;
    p += 2;
    if (p - start > MAX_LEADING_EMPTY_BYTES) return E.LEADING_EMPTY_LINES;
  }
  const headStart = p;

  // method SP
  while (p < end && TOKEN[buf[p]!] === 1) {
    if (++p - headStart > MAX_METHOD_BYTES) return E.METHOD;
  }
  if (p >= end) return NEED_MORE;
  if (buf[p] !== SP || p === headStart) return buf[p] === LF ? E.LINE_ENDING : E.METHOD;
  const methodEnd = p++;

  // request-target SP
  const targetStart = p;
  while (p < end && TARGET[buf[p]!] === 1) {
    if (++p - targetStart > limits.maxUriBytes) return E.URI_TOO_LONG;
  }
  if (p >= end) return NEED_MORE;
  if (buf[p] !== SP || p === targetStart) return E.TARGET;
  const targetEnd = p++;

  // HTTP-version CRLF, "HTTP/" DIGIT "." DIGIT (§2.3)
  for (let i = 0; i < 5; i++, p++) {
    if (p >= end) return NEED_MORE;
    if (buf[p] !== VERSION_PREFIX[i]) return E.VERSION;
  }
  if (p >= end) return NEED_MORE;
  const major = buf[p++]! - 0x30;
  if (major < 0 || major > 9) return E.VERSION;
  if (p >= end) return NEED_MORE;
  if (buf[p++] !== 0x2e) return E.VERSION;
  if (p >= end) return NEED_MORE;
  const minor = buf[p++]! - 0x30;
  if (minor < 0 || minor > 9) return E.VERSION;
  if (major !== 1) return E.VERSION_UNSUPPORTED;
  if (p >= end) return NEED_MORE;
  if (buf[p] !== CR) return buf[p] === LF ? E.LINE_ENDING : E.VERSION;
  if (++p >= end) return NEED_MORE;
  if (buf[p++] !== LF) return E.LINE_ENDING;

  // *( field-line CRLF ) CRLF (§5)
  const fieldsStart = p;
  let count = 0;
  let sawLength = false;
  for (;;) {
    if (p - fieldsStart > limits.maxHeaderBytes) return E.HEADERS_TOO_LARGE;
    if (p >= end) return needMoreFields(fieldsStart, end, limits);
    const first = buf[p];
    if (first === CR) {
      if (p + 1 >= end) return NEED_MORE;
      if (buf[p + 1] !== LF) return E.LINE_ENDING;
      p += 2;
      break;
    }
    if (first === LF) return E.LINE_ENDING;
    // A line starting with whitespace is obs-fold (or whitespace before the first field):
    // RFC 9112 §5.2 lets a server reject it with 400, which closes a smuggling vector.
    if (first === SP || first === HTAB) return E.OBS_FOLD;

    const nameStart = p;
    while (p < end && TOKEN[buf[p]!] === 1) p++;
    if (p >= end) return needMoreFields(fieldsStart, end, limits);
    // No whitespace between name and colon (§5.1: MUST reject with 400), no empty name.
    if (buf[p] !== COLON || p === nameStart) return E.HEADER_NAME;
    const nameEnd = p++;

    while (p < end && (buf[p] === SP || buf[p] === HTAB)) p++;
    const valueStart = p;
    let valueEnd = p;
    while (p < end) {
      const c = buf[p]!;
      if (c === CR) break;
      if (FIELD_VALUE[c] !== 1) return c === LF ? E.LINE_ENDING : E.HEADER_VALUE;
      p++;
      if (c !== SP && c !== HTAB) valueEnd = p;
    }
    if (p + 1 >= end) return needMoreFields(fieldsStart, end, limits);
    if (buf[p + 1] !== LF) return E.LINE_ENDING;
    p += 2;

    // A Content-Length that is repeated, not all digits or too long leaves the framing in doubt:
    // refused as soon as its line is complete, not at the end of the head (as llhttp does).
    if (isContentLength(buf, nameStart, nameEnd)) {
      if (sawLength) return E.CONTENT_LENGTH_DUPLICATE;
      sawLength = true;
      if (!isLength(buf, valueStart, valueEnd)) return E.CONTENT_LENGTH_INVALID;
    }

    if (count === limits.maxHeaders) return E.TOO_MANY_HEADERS;
    if (4 * count + 4 > fieldOffsets.length) {
      const grown = new Int32Array(fieldOffsets.length * 2);
      grown.set(fieldOffsets);
      fieldOffsets = grown;
    }
    const o = 4 * count++;
    fieldOffsets[o] = nameStart;
    fieldOffsets[o + 1] = nameEnd;
    fieldOffsets[o + 2] = valueStart;
    fieldOffsets[o + 3] = valueEnd;
  }
  if (p - fieldsStart > limits.maxHeaderBytes) return E.HEADERS_TOO_LARGE;

  out.method = buf.toString('latin1', headStart, methodEnd);
  out.target = buf.toString('latin1', targetStart, targetEnd);
  out.versionMinor = minor;
  out.names.length = 0;
  out.values.length = 0;
  for (let i = 0; i < count; i++) {
    const o = 4 * i;
    out.names.push(buf.toString('latin1', fieldOffsets[o], fieldOffsets[o + 1]).toLowerCase());
    out.values.push(buf.toString('latin1', fieldOffsets[o + 2], fieldOffsets[o + 3]));
  }
  return p - start;
}

/** Whether buf[start, end) is the field name Content-Length, in any case. */
function isContentLength(buf: Buffer, start: number, end: number): boolean {
  if (end - start !== CONTENT_LENGTH.length) return false;
  // OR-ing 0x20 lower-cases letters; no other token byte maps onto a letter or "-" that way.
  for (let i = 0; i < CONTENT_LENGTH.length; i++) if ((buf[start + i]! | 0x20) !== CONTENT_LENGTH[i]) return false;
  return true;
}

/** Content-Length = 1*DIGIT (RFC 9110 §8.6), at most MAX_LENGTH_DIGITS long. */
function isLength(buf: Buffer, start: number, end: number): boolean {
  if (end === start || end - start > MAX_LENGTH_DIGITS) return false;
  for (let i = start; i < end; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return false;
  return true;
}

function needMoreFields(fieldsStart: number, end: number, limits: ParseLimits): number {
  return end - fieldsStart > limits.maxHeaderBytes ? E.HEADERS_TOO_LARGE : NEED_MORE;
}
