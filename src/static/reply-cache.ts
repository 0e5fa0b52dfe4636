// The per-worker hot cache: whole responses for small files, ready to write.
//
// A reply of the static handler is a pure function of the normalised path, the few request
// fields that negotiation reads, and the file version. So a reply is kept under a key made of
// exactly those — never of raw client input it does not depend on: not the query (a reply that
// depends on it, a directory redirect or a listing, is cached for requests without one only),
// not If-None-Match or If-Modified-Since (evaluated against the cached 200's validators on every
// hit, as nginx's not-modified filter runs on a cached representation), and Accept-Encoding,
// Origin and Accept only as far as they change the answer. Every entry counts its key, fields
// and a fixed overhead in CACHE_MAX_BYTES, and the number of entries is capped.
//
// An entry is reused as it is for CACHE_VALIDATE_MS. Then a reply made from one file is
// revalidated with a single stat of its path (same device, inode, size and mtime: same version;
// nginx's open_file_cache does the like), any other reply (404, redirect, listing) takes the full
// path again, and every reply does after MAX_AGE_MS, so that changes a stat cannot see (a new
// precompressed sibling) are picked up too. The wire bytes of a cached reply (head and body in
// one Buffer) are built once per second, when Date changes, and per connection mode; a hit costs
// a Map lookup and one socket write.

import { acceptsHtml, encodingProfile } from '../http/negotiate';
import { decodeTarget } from '../http/target';
import type { CorsPolicy } from '../site/cors';
import type { FileVersion } from './files';
import type { Reply } from './handler';

export interface CachedReply {
  reply: Reply;
  /** The 304 answer derived from `reply`, made on first use (only for replies with validators). */
  notModified: Reply | null;
  /** Body bytes (0 without a body). */
  size: number;
  key: string;
  createdAt: number;
  /** Bytes this entry holds: body, key, fields, wire buffers and a fixed overhead, for the budget. */
  held: number;
  validatedAt: number;
  /** Second of the Date value in `wire`. */
  second: number;
  /** Prebuilt head (+ body) per connection mode (see modeIndex), for `second`. */
  wire: Array<Buffer | undefined>;
}

/** What of the site's configuration decides which request fields a reply depends on. */
export interface KeyPolicy {
  cors: CorsPolicy | null;
  /** Whether SPA_FALLBACK is on (then Accept decides between the app's page and a 404). */
  spa: boolean;
}

/**
 * Bytes an entry is charged beyond its body, key, field text and wire bytes: the entry, reply,
 * version and validator objects, the field tuples, the wire Buffers' objects and the Map slot.
 * Chosen so that the charge matches what an entry really takes: `npm run cache-overhead` prints
 * both for 20,000 entries shaped like 8 KiB file replies (about 1.6 KB each beyond the body).
 */
export const ENTRY_OVERHEAD_BYTES = 800;
/** Most entries one cache holds, whatever their size. */
export const MAX_ENTRIES = 50_000;

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
  for (let i = 0; i < names.length; i++) {
    switch (names[i]) {
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

/**
 * Index of a connection mode in CachedReply.wire: HEAD or not × keep-alive, close, 1.0
 * keep-alive, for the 200 (0-5) and for its 304 (6-11).
 */
export function modeIndex(headOnly: boolean, keepAlive: boolean, http10: boolean, notModified = false): number {
  return (notModified ? 6 : 0) + (headOnly ? 3 : 0) + (!keepAlive ? 1 : http10 ? 2 : 0);
}

const CACHEABLE_STATUS = new Set([200, 301, 404]);
const MAX_AGE_MS = 60_000;

/**
 * A copy of `s` that holds only its own characters. A key is often a slice of the request-target
 * (the path before the query), and V8 keeps a slice of 13 characters or more as a view of the
 * whole string: stored as it is, a key would keep an 8 KB target alive while charged for its
 * path. Copied through a Buffer, it is a string of its own.
 */
function ownCopy(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf16le').toString('utf16le');
  }
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** Bytes charged for the fields of a reply: their text and a tuple each. */
function fieldBytes(reply: Reply): number {
  let n = 0;
  for (const [name, value] of reply.fields) n += 2 * (name.length + String(value).length) + 32;
  return n;
}

export interface ReplyCacheOptions {
  /** CACHE_MAX_BYTES: everything the entries hold, keys and overhead included; 0 turns the cache off. */
  maxBytes: number;
  /** CACHE_MAX_FILE_BYTES: the largest body kept. */
  maxFileBytes: number;
  /** CACHE_VALIDATE_MS. */
  validateMs: number;
  /** Whether a file version is still what its path names (a stat); passed in, for tests. */
  stillValid?: (v: FileVersion) => boolean;
  policy?: KeyPolicy;
  maxEntries?: number;
}

export class ReplyCache {
  private readonly entries = new Map<string, CachedReply>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxFileBytes: number;
  private readonly validateMs: number;
  private readonly stillValid: (v: FileVersion) => boolean;
  private readonly policy: KeyPolicy;
  private readonly maxEntries: number;

  constructor(options: ReplyCacheOptions) {
    this.maxBytes = options.maxBytes;
    this.maxFileBytes = options.maxFileBytes;
    this.validateMs = options.validateMs;
    this.stillValid = options.stillValid ?? (() => false);
    this.policy = options.policy ?? { cors: null, spa: false };
    this.maxEntries = options.maxEntries ?? MAX_ENTRIES;
  }

  /** cacheKey under this cache's policy. */
  keyOf(target: string, names: readonly string[], values: readonly string[]): string | null {
    return cacheKey(target, names, values, this.policy);
  }

  /** Whether the cache stores anything at all (CACHE_MAX_BYTES > 0). */
  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /**
   * A fresh entry for `key`, or undefined (absent, or stale and not revalidated: dropped). An
   * entry whose reply depends on the query is only given to a request without one.
   */
  get(key: string, now: number, hasQuery = false): CachedReply | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (hasQuery && entry.reply.dependsOnQuery === true) return undefined;
    if (now - entry.validatedAt > this.validateMs) {
      const { version } = entry.reply;
      if (version === undefined || now - entry.createdAt > MAX_AGE_MS || !this.stillValid(version)) {
        this.remove(key, entry);
        return undefined;
      }
      entry.validatedAt = now;
      this.entries.delete(key); // re-inserted last: the least recently validated stay first
      this.entries.set(key, entry);
    }
    return entry;
  }

  /**
   * Keeps `reply` under `key` if it is cacheable: a 200, 301 or 404 with a whole Buffer body (or
   * none) of at most CACHE_MAX_FILE_BYTES, and not a reply that depends on a query the request had.
   */
  set(key: string, reply: Reply, now: number, hasQuery = false): void {
    if (!CACHEABLE_STATUS.has(reply.status) || this.maxBytes === 0) return;
    if (reply.noStore === true || (hasQuery && reply.dependsOnQuery === true)) return;
    const { body } = reply;
    if (body !== null && !Buffer.isBuffer(body)) return;
    const size = body === null ? 0 : body.length;
    if (size > this.maxFileBytes) return;
    const held = size + 2 * key.length + fieldBytes(reply) + ENTRY_OVERHEAD_BYTES;
    if (held > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    key = ownCopy(key);
    this.entries.set(key, { key, reply, notModified: null, size, held, createdAt: now, validatedAt: now, second: -1, wire: [] });
    this.bytes += held;
    // Least recently validated first: Map order is insertion order, and entries are re-inserted
    // whenever they are revalidated, so the oldest keys are the coldest.
    for (const [oldKey, e] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.remove(oldKey, e);
    }
  }

  /** Keeps the 304 answer of `entry` (charged like its fields). */
  setNotModified(entry: CachedReply, reply: Reply): void {
    entry.notModified = reply;
    this.account(entry, fieldBytes(reply));
  }

  /** Stores the wire bytes of `entry` for connection mode `mode` (null clears all, for a new second). */
  setWire(entry: CachedReply, mode: number | null, wire: Buffer | null): void {
    if (mode === null) {
      for (const w of entry.wire) if (w !== undefined) this.account(entry, -w.length);
      entry.wire.length = 0;
      return;
    }
    const old = entry.wire[mode];
    if (old !== undefined) this.account(entry, -old.length);
    if (wire !== null) {
      entry.wire[mode] = wire;
      this.account(entry, wire.length);
    }
  }

  private account(entry: CachedReply, delta: number): void {
    entry.held += delta;
    if (this.entries.get(entry.key) === entry) this.bytes += delta;
  }

  private remove(key: string, entry: CachedReply): void {
    this.entries.delete(key);
    this.bytes -= entry.held;
  }
}
