// Which representation of a file to send for Accept-Encoding (RFC 9110 §12.5.3): the identity
// bytes, a precompressed sibling (`file.br`, `file.zst`, `file.gz`), or bytes compressed here and cached.

import type { HeaderLookup } from '../http/conditional';
import { chooseEncoding, CODINGS, mentions, type Coding, type Encoding } from '../http/negotiate';
import { ON_THE_FLY } from './compress';
import { openUnder, readWhole, type Opened } from './files';
import type { Site } from './site';
import { etagFor } from './validators';

export type OpenFile = Extract<Opened, { kind: 'file' }>;

/** One representation of a file. */
export interface Representation {
  file: OpenFile;
  encoding: Coding | null;
  etag: string;
  /** Set when the bytes were compressed here; the file handle is then only the source. */
  bytes: Buffer | null;
}

export interface Negotiated {
  rep: Representation;
  /** Whether precompressed siblings exist (the answer then varies on Accept-Encoding). */
  siblings: boolean;
  /** Sent uncompressed for want of memory: not to be cached for everyone who asked the same. */
  degraded: boolean;
  /** Sibling files opened, for the caller to close (all but the one it sends). */
  opened: OpenFile[];
}

export function identityOf(file: OpenFile): Representation {
  return { file, encoding: null, etag: etagFor(file.size, file.mtimeMs), bytes: null };
}

/** Each coding's sibling file extension and ETag suffix (each representation its own ETag). */
const SIBLING: Record<Coding, { ext: string; tag: string }> = { br: { ext: '.br', tag: '-br' }, zstd: { ext: '.zst', tag: '-zst' }, gzip: { ext: '.gz', tag: '-gz' } };

/**
 * Chooses among identity, precompressed siblings and on-the-fly compression. Returns null when
 * the client accepts none (e.g. `identity;q=0` with nothing compressed to offer).
 */
export async function negotiate(header: HeaderLookup, site: Site, file: OpenFile, segments: readonly string[], compressible: boolean): Promise<Negotiated | null> {
  const identity = identityOf(file);
  const ae = header('accept-encoding');
  if (ae === undefined) return { rep: identity, siblings: false, degraded: false, opened: [] };
  const { options } = site;
  const found = new Map<Coding, OpenFile>();
  const opened: OpenFile[] = [];
  // Siblings are looked for only when the client could take them, decided on the parsed header
  // as the reply cache's key is (encodingProfile): one profile, one set of siblings, one Vary.
  const last = segments[segments.length - 1] ?? '';
  for (const coding of CODINGS) {
    if (!mentions(ae, coding)) continue;
    const sib = openUnder(site.root, [...segments.slice(0, -1), last + SIBLING[coding].ext]);
    if (sib.kind === 'file') {
      opened.push(sib);
      found.set(coding, sib);
    }
  }
  const onTheFly = options.compression && compressible && file.size >= options.compressionMinBytes && file.size <= options.compressionMaxBytes;
  const available: Encoding[] = [];
  for (const coding of CODINGS) if (found.has(coding) || (onTheFly && ON_THE_FLY.includes(coding))) available.push(coding);
  const choice = chooseEncoding(ae, available);
  if (choice === null) return null;
  const siblings = found.size > 0;
  if (choice === 'identity') return { rep: identity, siblings, degraded: false, opened };
  const sib = found.get(choice);
  if (sib !== undefined) {
    return { rep: { file: sib, encoding: choice, etag: etagFor(sib.size, sib.mtimeMs, SIBLING[choice].tag), bytes: null }, siblings, degraded: false, opened };
  }
  const bytes = await site.compressed.get(`${file.realPath}\0${identity.etag}`, choice, () => Promise.resolve(readWhole(file.handle)));
  // Not kept: the compression cache's budget is taken by results still being sent. The file goes
  // out uncompressed rather than as bytes no budget counts (RFC 9110 §12.5.3 allows disregarding
  // Accept-Encoding; this happens only under such load).
  if (bytes === null) return { rep: identity, siblings, degraded: true, opened };
  return { rep: { file, encoding: choice, etag: etagFor(file.size, file.mtimeMs, SIBLING[choice].tag), bytes }, siblings, degraded: false, opened };
}
