// The per-worker hot cache: whole responses for small files, ready to write.
//
// A reply of the static handler is a pure function of the request target, the few request
// fields that negotiation and preconditions read, and the file version. So a reply for a key
// made of exactly those is reused as it is for CACHE_VALIDATE_MS. Then a reply made from one
// file is revalidated with a single stat of its path (same device, inode, size and mtime: same
// version; nginx's open_file_cache does the like), any other reply (404, redirect, listing)
// takes the full path again, and every reply does after MAX_AGE_MS, so that changes a stat
// cannot see (a new precompressed sibling) are picked up too. The wire bytes of a
// cached reply (head and body in one Buffer) are built once per second, when Date changes, and
// per connection mode; a hit costs a Map lookup and one socket write.

import type { FileVersion } from './files';
import type { Reply } from './handler';

export interface CachedReply {
  reply: Reply;
  /** Body bytes (0 without a body). */
  size: number;
  key: string;
  createdAt: number;
  /** Bytes this entry holds: body plus prebuilt wire buffers, for the cache's budget. */
  held: number;
  validatedAt: number;
  /** Second of the Date value in `wire`. */
  second: number;
  /** Prebuilt head (+ body) per connection mode (see modeIndex), for `second`. */
  wire: Array<Buffer | undefined>;
}

/** Request fields a cacheable reply may depend on; a request with any other condition is not cached. */
const KEY_FIELDS = ['accept-encoding', 'if-none-match', 'if-modified-since', 'origin', 'accept'] as const;
/** Fields that make a request uncacheable: ranges and the preconditions that can fail with 412. */
const UNCACHEABLE_FIELDS = new Set(['range', 'if-range', 'if-match', 'if-unmodified-since']);

/** What marks each key field in a key: a line break and the field's place in KEY_FIELDS. */
const KEY_TAGS = new Map<string, string>(KEY_FIELDS.map((name, i) => [name, `\n${i + 1}`]));

/**
 * The cache key of a GET/HEAD (method excluded: HEAD differs only in the bytes written), or null
 * when the request carries a field whose effect is not captured by the key.
 */
export function cacheKey(target: string, names: readonly string[], values: readonly string[]): string | null {
  let key = target;
  for (let i = 0; i < names.length; i++) {
    const tag = KEY_TAGS.get(names[i]);
    if (tag !== undefined) key += tag + values[i];
    else if (UNCACHEABLE_FIELDS.has(names[i])) return null;
  }
  return key;
}

/** Index of a connection mode in CachedReply.wire: HEAD or not × keep-alive, close, 1.0 keep-alive. */
export function modeIndex(headOnly: boolean, keepAlive: boolean, http10: boolean): number {
  return (headOnly ? 3 : 0) + (!keepAlive ? 1 : http10 ? 2 : 0);
}

const CACHEABLE_STATUS = new Set([200, 301, 304, 404]);
const MAX_AGE_MS = 60_000;

export class ReplyCache {
  private readonly entries = new Map<string, CachedReply>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxFileBytes: number,
    private readonly validateMs: number,
    /** Whether a file version is still what its path names (a stat); passed in, for tests. */
    private readonly stillValid: (v: FileVersion) => boolean = () => false,
    private readonly maxEntries = 100_000,
  ) {}

  get byteSize(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** A fresh entry for `key`, or undefined (absent, or stale and not revalidated: dropped). */
  get(key: string, now: number): CachedReply | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
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

  /** Keeps `reply` under `key` if it is cacheable: a whole Buffer body (or none) of a small file. */
  set(key: string, reply: Reply, now: number): void {
    if (!CACHEABLE_STATUS.has(reply.status) || this.maxBytes === 0) return;
    const { body } = reply;
    if (body !== null && !Buffer.isBuffer(body)) return;
    const size = body === null ? 0 : body.length;
    if (size > this.maxFileBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    this.entries.set(key, { key, reply, size, held: size, createdAt: now, validatedAt: now, second: -1, wire: [] });
    this.bytes += size;
    // Least recently validated first: Map order is insertion order, and entries are re-inserted
    // whenever they are revalidated, so the oldest keys are the coldest.
    for (const [oldKey, e] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.remove(oldKey, e);
    }
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
