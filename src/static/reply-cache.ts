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

import type { Reply, ReplyHeaders, WireSlot } from '../contract/reply';
import type { Validators } from '../http/conditional';
import { BudgetMap } from './budget-map';
import { cacheKey, type KeyPolicy } from './cache-key';
import type { FileVersion } from './files';

/**
 * What a cache needs to keep a reply and give it again: the file version it was made from (to
 * revalidate with one stat), its validators (to answer conditional requests itself), and whether
 * it depends on the query. A producer that does not give it has its replies never cached: a reply
 * that depends on anything else (the Host of a redirect) cannot end up under a key that ignores it.
 */
export interface CacheInfo {
  version?: FileVersion;
  validators?: Validators;
  dependsOnQuery?: boolean;
}

/**
 * A cached reply's room for what writers make of it (the contract's WireSlot): one head buffer per
 * HTTP/1.1 writer mode and the HTTP/2 fields, all made in the same second of Date, charged to the
 * entry (a charge past the cache's budget evicts, see BudgetMap.charge). What was made for an
 * earlier second is given only for that second, and dropped, with its charge, at the first write
 * in a later one.
 */
class EntryWire implements WireSlot {
  private second = -1;
  private readonly bufs: Array<Buffer | undefined> = [];
  private fields: object | undefined = undefined;
  private fieldsBytes = 0;

  constructor(private readonly charge: (delta: number) => void) {}

  get(mode: number, second: number): Buffer | undefined {
    return second === this.second ? this.bufs[mode] : undefined;
  }

  set(mode: number, second: number, wire: Buffer): void {
    this.enter(second);
    const old = this.bufs[mode];
    this.bufs[mode] = wire;
    this.charge(wire.length - (old?.length ?? 0));
  }

  getFields(second: number): object | undefined {
    return second === this.second ? this.fields : undefined;
  }

  setFields(second: number, fields: object, bytes: number): void {
    this.enter(second);
    this.charge(bytes - this.fieldsBytes);
    this.fields = fields;
    this.fieldsBytes = bytes;
  }

  /** A new second: what was made for an earlier one is let go and its charge returned. */
  private enter(second: number): void {
    if (second === this.second) return;
    let freed = this.fieldsBytes;
    for (const b of this.bufs) if (b !== undefined) freed += b.length;
    this.bufs.length = 0;
    this.fields = undefined;
    this.fieldsBytes = 0;
    this.second = second;
    this.charge(-freed);
  }
}

export interface CachedReply {
  key: string;
  /** The reply handed out on every hit (the same object: writers memoise per reply). */
  reply: Reply;
  info: CacheInfo;
  /** The 304 answer derived from `reply`, made on first use (only for replies with validators). */
  notModified: Reply | null;
  /** Body bytes (0 without a body). */
  size: number;
  createdAt: number;
  /** Bytes this entry holds: body, key, fields, wire buffers and a fixed overhead, for the budget. */
  held: number;
  validatedAt: number;
}

/**
 * Bytes an entry is charged beyond its body, key, field text and wire bytes: the entry, reply,
 * version and validator objects, the field tuples, the wire Buffers' objects and the Map slot.
 * Chosen so that the charge matches what an entry really takes: `npm run cache-overhead` prints
 * both for 20,000 entries shaped like 8 KiB file replies (about 1.6 KB each beyond the body).
 */
export const ENTRY_OVERHEAD_BYTES = 900;
/** Most entries one cache holds, whatever their size. */
export const MAX_ENTRIES = 50_000;

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

/** Bytes charged for the fields of a reply: their text and a slot each. */
function fieldBytes(headers: ReplyHeaders): number {
  let n = 0;
  for (const value of Object.values(headers) as unknown[]) {
    if (typeof value === 'string') n += 2 * value.length + 32;
    else if (typeof value === 'number') n += 32;
    else if (Array.isArray(value)) for (const v of value as unknown[]) n += 2 * (Array.isArray(v) ? (v as string[]).join('').length : String(v).length) + 32;
  }
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
  /** Where lookups are counted; shared by the caches of successive releases, so counts only grow. */
  counts?: LookupCounts;
}

/** Lookups answered and not answered by a cache, for the metrics. */
export interface LookupCounts {
  hits: number;
  misses: number;
}

export class ReplyCache {
  private readonly entries: BudgetMap<CachedReply>;
  private readonly maxBytes: number;
  private readonly maxFileBytes: number;
  private readonly validateMs: number;
  private readonly stillValid: (v: FileVersion) => boolean;
  private readonly policy: KeyPolicy;
  readonly counts: LookupCounts;

  constructor(options: ReplyCacheOptions) {
    this.counts = options.counts ?? { hits: 0, misses: 0 };
    this.maxBytes = options.maxBytes;
    this.maxFileBytes = options.maxFileBytes;
    this.validateMs = options.validateMs;
    this.stillValid = options.stillValid ?? (() => false);
    this.policy = options.policy ?? { cors: null, spa: false };
    this.entries = new BudgetMap(options.maxBytes, options.maxEntries ?? MAX_ENTRIES);
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
    return this.entries.bytes;
  }

  get count(): number {
    return this.entries.count;
  }

  /**
   * A fresh entry for `key`, or undefined (absent, or stale and not revalidated: dropped). An
   * entry whose reply depends on the query is only given to a request without one.
   */
  get(key: string, now: number, hasQuery = false): CachedReply | undefined {
    const entry = this.lookup(key, now, hasQuery);
    if (entry === undefined) this.counts.misses++;
    else this.counts.hits++;
    return entry;
  }

  private lookup(key: string, now: number, hasQuery: boolean): CachedReply | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (hasQuery && entry.info.dependsOnQuery === true) return undefined;
    if (now - entry.validatedAt > this.validateMs) {
      const { version } = entry.info;
      if (version === undefined || now - entry.createdAt > MAX_AGE_MS || !this.stillValid(version)) {
        this.entries.remove(entry);
        return undefined;
      }
      entry.validatedAt = now;
      // The least recently validated go first: the oldest keys are the coldest.
      this.entries.touch(entry);
    }
    return entry;
  }

  /**
   * Keeps `reply` under `key` if it is cacheable: its producer said what it depends on (`info`),
   * it is a 200, 301 or 404 with a whole Buffer body (or none) of at most CACHE_MAX_FILE_BYTES,
   * and it does not depend on a query the request had. Returns the entry, or null. The reply
   * object is then the entry's: it gains a wire slot.
   */
  set(key: string, reply: Reply, info: CacheInfo, now: number, hasQuery = false): CachedReply | null {
    if (!CACHEABLE_STATUS.has(reply.status) || this.maxBytes === 0) return null;
    if (hasQuery && info.dependsOnQuery === true) return null;
    const { body } = reply;
    if (body !== null && !Buffer.isBuffer(body)) return null;
    const size = body === null ? 0 : body.length;
    if (size > this.maxFileBytes) return null;
    const own = ownCopy(key);
    const entry: CachedReply = { key: own, reply, info, notModified: null, size, held: 0, createdAt: now, validatedAt: now };
    entry.held = size + 2 * own.length + fieldBytes(reply.headers) + ENTRY_OVERHEAD_BYTES;
    if (!this.entries.add(entry)) return null;
    reply.wire = new EntryWire((delta) => this.entries.charge(entry, delta));
    return entry;
  }

  /** Keeps the 304 answer of `entry` (charged like its fields), with a wire slot of its own. */
  setNotModified(entry: CachedReply, reply: Reply): Reply {
    reply.wire = new EntryWire((delta) => this.entries.charge(entry, delta));
    entry.notModified = reply;
    this.entries.charge(entry, fieldBytes(reply.headers));
    return reply;
  }
}
