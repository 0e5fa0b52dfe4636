// On-the-fly compression: which types are worth it, and a bounded LRU of results per file version.

import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { Coding } from '../http/negotiate';
import { whenSent } from '../in-flight';
import { BudgetMap } from './budget-map';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
/**
 * node:zlib's zstd (Node 22.15+, 23.8+); undefined on older runtimes, which then serve only
 * precompressed `.zst` files. Typed here because @types/node follows the oldest supported Node.
 */
type ZstdCompress = (input: Buffer, options: { params: Record<number, number> }, done: (err: Error | null, out: Buffer) => void) => void;
const zstdCompress = (zlib as unknown as { zstdCompress?: ZstdCompress }).zstdCompress;
const zstd = zstdCompress === undefined ? undefined : promisify(zstdCompress);
/** ZSTD_c_compressionLevel (zstd.h); zstd's default level 3 is fast and beats gzip -6 on size. */
const ZSTD_C_COMPRESSION_LEVEL = 100;
const ZSTD_LEVEL = 3;

/** The codings this runtime can compress with here (zstd needs Node 22.15+). */
export const ON_THE_FLY: readonly Coding[] = zstd === undefined ? ['br', 'gzip'] : ['br', 'zstd', 'gzip'];

const COMPRESSIBLE_APPLICATION = new Set([
  'application/javascript', 'application/json', 'application/xml', 'application/wasm',
  'application/manifest+json', 'application/xhtml+xml', 'application/rss+xml', 'application/atom+xml',
  'application/ld+json', 'application/geo+json', 'application/x-javascript',
]);

/** Whether a Content-Type is text-like enough to gain from compression (images, video, fonts are not). */
export function isCompressible(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    COMPRESSIBLE_APPLICATION.has(type) ||
    type.endsWith('+json') ||
    type.endsWith('+xml') ||
    type === 'image/svg+xml' ||
    type === 'font/ttf' ||
    type === 'font/otf'
  );
}

export type { Coding };

/** Bytes an entry is charged beyond its result and key (objects, Map slot; an over-estimate). */
export const COMPRESSED_ENTRY_OVERHEAD_BYTES = 256;
/** Most results one cache holds, whatever their size. */
export const COMPRESSED_MAX_ENTRIES = 10_000;
/**
 * Compressions running at once per worker; more wait their turn. Each holds its input (at most
 * COMPRESSION_MAX_BYTES) and its output, so this bounds that memory (and the CPU a burst of
 * requests for many large text files can take) whatever the number of clients.
 */
export const MAX_CONCURRENT_COMPRESSIONS = 2;

interface Compressed {
  readonly key: string;
  out: Buffer;
  /** What the entry is charged: result, key and overhead. */
  held: number;
}

/**
 * Compressed bytes of file versions, computed once and reused, evicted least-recently-used past
 * `maxBytes` or `maxEntries`. Keys name a file version (path + ETag) and a coding — files of the
 * site, never raw client input; a version that changes gets a new key, and its old entry ages
 * out. Concurrent requests for a result being computed share it.
 *
 * The budget counts results, keys and a fixed overhead per entry — and an evicted result for as
 * long as a socket is still sending it (src/in-flight.ts), so that stalled clients cannot keep
 * evicted results alive beyond it. A result that does not fit (the budget is taken by results
 * still being sent) is not kept, and get() answers null: the caller sends the file uncompressed.
 */
export class CompressionCache {
  private readonly entries: BudgetMap<Compressed>;
  private readonly pending = new Map<string, Promise<Buffer | null>>();
  /** Evicted results still being sent: charged until sent. */
  private draining = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Results reused, and results computed (or joined while computing), for the metrics. */
  hits = 0;
  misses = 0;

  constructor(maxBytes: number, maxEntries = COMPRESSED_MAX_ENTRIES) {
    // An evicted result stays charged while a socket is still sending it.
    this.entries = new BudgetMap<Compressed>(maxBytes, maxEntries, (e, release) => {
      const stillSent = whenSent(e.out, () => {
        this.draining -= e.held;
        release();
      });
      if (stillSent) this.draining += e.held;
      return stillSent;
    });
  }

  /** Bytes charged: entries, and evicted results still being sent. */
  get size(): number {
    return this.entries.bytes;
  }

  get count(): number {
    return this.entries.count;
  }

  /** Evicted results that sockets are still sending. */
  get inFlight(): number {
    return this.draining;
  }

  /**
   * The compressed form of the version `key`, computing it from `read()` the first time; null
   * when the result could not be kept within the budget (send the identity instead).
   */
  async get(key: string, coding: Coding, read: () => Promise<Buffer>): Promise<Buffer | null> {
    const id = `${coding}:${key}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      this.hits++;
      this.entries.touch(hit); // most recently used last
      return hit.out;
    }
    this.misses++;
    let work = this.pending.get(id);
    if (work === undefined) {
      const computed = this.turn(async () => {
        const input = await read();
        if (coding === 'br') return brotli(input, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length } });
        if (coding === 'zstd' && zstd !== undefined) return zstd(input, { params: { [ZSTD_C_COMPRESSION_LEVEL]: ZSTD_LEVEL } });
        return gzip(input, { level: 6 });
      });
      work = computed.then(
        (out) => {
          this.pending.delete(id);
          return this.store(id, out) ? out : null;
        },
        (err: unknown) => {
          this.pending.delete(id);
          throw err;
        },
      );
      this.pending.set(id, work);
    }
    return work;
  }

  /** Runs `job` once fewer than MAX_CONCURRENT_COMPRESSIONS are running. */
  private async turn<T>(job: () => Promise<T>): Promise<T> {
    // A finishing job hands its slot straight to the next in line: the count never overshoots.
    if (this.running >= MAX_CONCURRENT_COMPRESSIONS) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }

  /** Compressions running now (for tests). */
  get active(): number {
    return this.running;
  }

  /** Keeps `out` under `id`, evicting the least recently used; false if it cannot be kept. */
  private store(id: string, out: Buffer): boolean {
    return this.entries.add({ key: id, out, held: out.length + 2 * id.length + COMPRESSED_ENTRY_OVERHEAD_BYTES });
  }
}
