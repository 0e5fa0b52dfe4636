// On-the-fly compression: which types are worth it, and a bounded LRU of results per file version.

import zlib from 'node:zlib';
import { promisify } from 'node:util';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

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

export type Coding = 'br' | 'gzip';

/**
 * Compressed bytes of file versions, computed once and reused, evicted least-recently-used past
 * `maxBytes`. Keys name a file version (path + ETag) and a coding; a version that changes gets a
 * new key, and its old entry ages out. Concurrent requests for a result being computed share it.
 */
export class CompressionCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.bytes;
  }

  /** The compressed form of the version `key`, computing it from `read()` the first time. */
  async get(key: string, coding: Coding, read: () => Promise<Buffer>): Promise<Buffer> {
    const id = `${coding}:${key}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, hit); // most recently used last
      return hit;
    }
    let work = this.pending.get(id);
    if (work === undefined) {
      work = (async () => {
        const input = await read();
        return coding === 'br'
          ? brotli(input, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length } })
          : gzip(input, { level: 6 });
      })();
      this.pending.set(id, work);
      work.then(
        (out) => {
          this.pending.delete(id);
          this.store(id, out);
        },
        () => this.pending.delete(id),
      );
    }
    return work;
  }

  private store(id: string, out: Buffer): void {
    if (out.length > this.maxBytes) return;
    this.entries.set(id, out);
    this.bytes += out.length;
    for (const [oldId, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldId);
      this.bytes -= old.length;
    }
  }
}
