// What the static handler serves from: the root, the site options, the caches and the boundary.

import crypto from 'node:crypto';
import type { Config } from '../config';
import type { CompressionCache } from './compress';
import type { ReplyCache } from './reply-cache';
import type { SiteFiles } from './site-files';
import { siteRoot, type SiteRoot } from './files';

/** The site options of the Config that the static handler reads. */
export type SiteOptions = Pick<
  Config,
  | 'cacheControl'
  | 'immutablePattern'
  | 'spaFallback'
  | 'directoryListing'
  | 'cors'
  | 'headerRules'
  | 'compression'
  | 'compressionMinBytes'
  | 'compressionMaxBytes'
  | 'maxRanges'
  | 'cacheMaxFileBytes'
  | 'cleanUrls'
  | 'trailingSlash'
>;

export interface Site {
  /**
   * The release folder served: its real path (STATIC_DIR with its symlinks resolved), and the
   * identity it had when the Site was made (files.ts).
   */
  root: SiteRoot;
  options: SiteOptions;
  compressed: CompressionCache;
  /** multipart/byteranges boundary, random per worker. */
  boundary: string;
  replies: ReplyCache;
  /** The release's `_redirects` and `_headers`, compiled. */
  files: SiteFiles;
}

/** Files up to this size are read whole and sent with their head in one write (larger ones too when cacheable). */
export const SMALL_FILE_BYTES = 64 * 1024;

/** The Site of the release folder `rootReal`, with its compiled site files. */
export function createSite(rootReal: string, options: SiteOptions, compressed: CompressionCache, replies: ReplyCache, files: SiteFiles): Site {
  return { root: siteRoot(rootReal), options, compressed, boundary: crypto.randomBytes(12).toString('hex'), replies, files };
}
