// Location values PWS builds (RFC 9110 §10.2.2): from the normalised, decoded path, re-encoded;
// never from the raw request-target. Pure; no I/O.
//
// Why: a raw target such as `//evil.example/..%2fsub` names the folder `sub`, but echoed as
// `//evil.example/..%2fsub/` it is a network-path reference that every browser resolves to
// another host (an open redirect), and raw `<`, `>` or `"` in it is markup in a redirect page.

import { hexValue } from './chars';

/**
 * Bytes that stand for themselves in a path segment (RFC 3986 §3.3 pchar without "%"):
 * unreserved, sub-delims, ":" and "@". Everything else is percent-encoded as UTF-8.
 */
const PCHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@") PCHAR[c.charCodeAt(0)] = 1;

/** Query bytes besides pct-encoded triplets (§3.4): pchar, "/" and "?". */
const QUERY = new Uint8Array(128);
QUERY.set(PCHAR);
QUERY[0x2f] = 1;
QUERY[0x3f] = 1;

/** Percent-encodes one decoded path segment: only pchar bytes stay as they are. */
export function encodeSegment(segment: string): string {
  let plain = true;
  for (let i = 0; i < segment.length && plain; i++) {
    const c = segment.charCodeAt(i);
    plain = c < 0x80 && PCHAR[c] === 1;
  }
  if (plain) return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    out += byte < 0x80 && PCHAR[byte] === 1 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The absolute path of decoded, normalised `segments` (none empty, `.` or `..`), with a final
 * `/` when `trailingSlash`. It starts with exactly one `/` (segments are never empty, so `//`
 * cannot occur) and holds no byte that needs percent-encoding.
 */
export function encodePath(segments: readonly string[], trailingSlash: boolean): string {
  if (segments.length === 0) return '/';
  let out = '';
  for (const s of segments) out += `/${encodeSegment(s)}`;
  return trailingSlash ? `${out}/` : out;
}

/**
 * `query` (with its leading `?`, or '') if every byte after the `?` is valid query syntax
 * (RFC 3986 §3.4, with well-formed %XX escapes); otherwise '' — the query is dropped rather
 * than repaired, since a client that sent an invalid one has no claim to see it echoed.
 */
export function safeQuery(query: string): string {
  if (query.length <= 1 || query.charCodeAt(0) !== 0x3f) return '';
  for (let i = 1; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= query.length || hexValue(query.charCodeAt(i + 1)) < 0 || hexValue(query.charCodeAt(i + 2)) < 0) return '';
      i += 2;
    } else if (c >= 0x80 || QUERY[c] !== 1) {
      return '';
    }
  }
  return query;
}

/**
 * The host of an authority (a Host value, or an absolute-form target's), without its port, if
 * it is one a redirect may name: a DNS name or IPv4 address (letters, digits, `-`, `.`), or an
 * IPv6 literal in brackets; the port, if any, all digits. Anything else — userinfo, `%`,
 * sub-delims, an empty name — is null: PWS never builds an absolute Location from it.
 */
export function redirectHost(authority: string): string | null {
  let end = authority.length;
  let host: string;
  if (authority.charCodeAt(0) === 0x5b) {
    const close = authority.indexOf(']');
    if (close < 2 || !/^[0-9A-Fa-f:.]+$/.test(authority.slice(1, close))) return null;
    host = authority.slice(0, close + 1);
    end = close + 1;
  } else {
    const colon = authority.indexOf(':');
    if (colon !== -1) end = colon;
    host = authority.slice(0, end);
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) || host.includes('..')) return null;
  }
  if (end < authority.length && !/^:\d{0,5}$/.test(authority.slice(end))) return null;
  return host;
}
