// The static handler: a decoded GET/HEAD/OPTIONS request → a Reply. No socket here.
//
// It maps the path to a file (resolve/files), then composes the separate policies:
// content negotiation (negotiate), preconditions (conditional), ranges (range), and the site
// options (cache control, SPA fallback, listings, CORS, extra headers).

import crypto from 'node:crypto';
import path from 'node:path';
import { evaluatePreconditions, ifRangeAllows, NOT_MODIFIED, PRECONDITION_FAILED, type HeaderLookup, type Validators } from '../http/conditional';
import { encodePath, safeQuery } from '../http/location';
import { acceptsHtml, chooseEncoding, mentions, type Encoding } from '../http/negotiate';
import { parseRange, RANGE_MALFORMED, RANGE_UNSATISFIABLE, type Span } from '../http/range';
import type { DecodedTarget } from '../http/target';
import { log } from '../log';
import type { Config } from '../config';
import { corsFields, preflightFields } from '../site/cors';
import { headersFor } from '../site/headers-file';
import { CompressionCache, isCompressible, type Coding } from './compress';
import type { ReplyCache } from './reply-cache';
import { CHANGED, isAbsent, openUnder, readWhole, type FileRef, type FileVersion, type Opened } from './files';
import { readEntries, renderHtml, renderJson } from './listing';
import { contentTypeFor } from './mime';
import { isHidden } from './resolve';
import { etagFor, lastModifiedFor } from './validators';

export type FieldList = Array<[string, string | number]>;

/**
 * A file body: the open handle (the sender closes it), the Content-Length, and what to send in
 * order: byte spans of the file and literal buffers (the multipart/byteranges delimiters).
 */
export interface FileBody {
  handle: FileRef;
  size: number;
  parts: Array<Span | Buffer>;
  /** The version the head describes: streaming stops if the file stops matching it. */
  version: FileVersion;
}

export interface Reply {
  status: number;
  fields: FieldList;
  /** Buffer bodies are sent whole; file bodies are streamed; null has no body (length 0). */
  body: Buffer | FileBody | null;
  /** The file version the reply was made from, when it depends on nothing else (for the cache). */
  version?: FileVersion;
  /** Validators of a 200 of a file, so that a cache can answer If-None-Match/-Modified-Since itself. */
  validators?: Validators;
  /** Set when the reply depends on the query (a redirect that keeps it, a listing format). */
  dependsOnQuery?: true;
  /** Set when the reply must not be cached at all (a degraded answer under memory pressure). */
  noStore?: true;
}

/** The site options of the Config that the handler reads. */
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
>;

export interface Site {
  /** Real path of STATIC_DIR (symlinks resolved once at start). */
  rootReal: string;
  options: SiteOptions;
  compressed: CompressionCache;
  /** multipart/byteranges boundary, random per worker. */
  boundary: string;
  replies: ReplyCache;
}

export interface StaticRequest {
  method: string;
  target: DecodedTarget;
  header: HeaderLookup;
  /**
   * Whether a 200 of a small file will be kept by the reply cache. Only then is a file over
   * SMALL_FILE_BYTES read whole (the cache shares those bytes); otherwise it is streamed, so a
   * reply that is not shared never holds more than a stream chunk of the file in memory.
   */
  cacheable?: boolean;
}

/** Files up to this size are read whole and sent with their head in one write (larger ones too when cacheable). */
export const SMALL_FILE_BYTES = 64 * 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const HTML = 'text/html; charset=utf-8';

export function createSite(rootReal: string, options: SiteOptions, compressionCacheBytes: number, replies: ReplyCache): Site {
  return { rootReal, options, compressed: new CompressionCache(compressionCacheBytes), boundary: crypto.randomBytes(12).toString('hex'), replies };
}

/**
 * Answers a request. Never throws: a file-system error becomes its status through errnoStatus
 * (nginx's table), and only an unexpected one is logged. CORS and HEADERS_FILE fields are added
 * to every answer, and all Vary values are merged into one field.
 */
export async function serveStatic(req: StaticRequest, site: Site): Promise<Reply> {
  const { target } = req;
  const urlPath = `/${target.segments.join('/')}${target.trailingSlash && target.segments.length > 0 ? '/' : ''}`;
  let reply: Reply;
  try {
    reply = await answer(req, site, urlPath);
  } catch (err) {
    reply = errorReply(errnoStatus(err));
  }
  const { options } = site;
  reply.fields.push(...corsFields(options.cors, req.header('origin')), ...headersFor(options.headerRules, urlPath));
  return mergeVary(reply);
}

async function answer(req: StaticRequest, site: Site, urlPath: string): Promise<Reply> {
  const { target } = req;
  if (req.method === 'OPTIONS') {
    const fields: FieldList = [['Allow', 'GET, HEAD, OPTIONS']];
    if (req.header('access-control-request-method') !== undefined) fields.push(...preflightFields(req.header('access-control-request-headers')));
    return { status: 204, fields, body: null };
  }
  if (isHidden(target.segments)) return notFound(site);
  const opened = await openUnder(site.rootReal, target.segments);
  if (opened.kind === 'missing') return missing(req, site, urlPath);
  if (opened.kind === 'directory') {
    if (!target.trailingSlash) {
      // From the decoded, normalised path, re-encoded: never the raw target (see http/location).
      const location = encodePath(target.segments, true) + safeQuery(target.query);
      return { status: 301, fields: [['Content-Type', HTML], ['Location', location]], body: page(301), dependsOnQuery: true };
    }
    const indexSegments = [...target.segments, 'index.html'];
    const index = await openUnder(site.rootReal, indexSegments);
    if (index.kind === 'file') return fileReply(req, site, index, indexSegments, urlPath);
    if (site.options.directoryListing) return listing(opened.realPath, urlPath, target.query);
    return notFound(site);
  }
  // "/file.txt/" names a directory that does not exist.
  if (target.trailingSlash) {
    await opened.handle.close();
    return notFound(site);
  }
  return fileReply(req, site, opened, target.segments, urlPath);
}

/** SPA_FALLBACK: an extension-less path from a client that accepts HTML gets the app's page. */
async function missing(req: StaticRequest, site: Site, urlPath: string): Promise<Reply> {
  const fallback = site.options.spaFallback;
  const last = req.target.segments[req.target.segments.length - 1] ?? '';
  if (fallback === null || last.includes('.')) return notFound(site);
  // The answer depends on Accept here (the app's page or a 404): say so to caches in front.
  let reply: Reply | null = null;
  if (acceptsHtml(req.header('accept'))) {
    const file = await openUnder(site.rootReal, fallback);
    if (file.kind === 'file') reply = await fileReply(req, site, file, fallback, urlPath);
  }
  reply ??= await notFound(site);
  reply.fields.push(['Vary', 'Accept']);
  return reply;
}

type OpenFile = Extract<Opened, { kind: 'file' }>;

/** One representation of a file: the identity bytes, a precompressed sibling, or compressed bytes. */
interface Representation {
  file: OpenFile;
  encoding: Coding | null;
  etag: string;
  /** Set when the bytes were compressed here; the file handle is then only the source. */
  bytes: Buffer | null;
}

async function fileReply(req: StaticRequest, site: Site, file: OpenFile, segments: string[], urlPath: string): Promise<Reply> {
  const { options } = site;
  const handles: FileRef[] = [file.handle];
  const release = async (keep: FileRef | null): Promise<void> => {
    await Promise.all(handles.filter((h) => h !== keep).map((h) => h.close().catch(() => undefined)));
  };
  try {
    const type = contentTypeFor(path.basename(file.realPath));
    const compressible = isCompressible(type);
    const identity: Representation = { file, encoding: null, etag: etagFor(file.size, file.mtimeMs), bytes: null };

    // A Range applies to the identity representation only (see README); a malformed one is ignored.
    const rangeHeader = req.header('range');
    let spans: Span[] | number = RANGE_MALFORMED;
    if (rangeHeader !== undefined) spans = parseRange(rangeHeader, file.size, options.maxRanges);

    let rep = identity;
    let varies = compressible;
    /** Sent uncompressed for want of memory: not to be cached for everyone who asked the same. */
    let degraded = false;
    if (spans === RANGE_MALFORMED) {
      const negotiated = await negotiate(req, site, file, segments, compressible, identity, handles);
      if (negotiated === null) {
        await release(null);
        return errorReply(406);
      }
      rep = negotiated.rep;
      varies ||= negotiated.siblings;
      degraded = negotiated.degraded === true;
    }

    const mtime = rep.file.mtimeMs;
    const fields: FieldList = [['Content-Type', type]];
    if (rep.encoding !== null) fields.push(['Content-Encoding', rep.encoding]);
    fields.push(
      ['Last-Modified', lastModifiedFor(mtime)],
      ['ETag', rep.etag],
      ['Cache-Control', options.immutablePattern?.test(urlPath) ? IMMUTABLE : options.cacheControl],
    );
    if (rep.encoding === null) fields.push(['Accept-Ranges', 'bytes']);
    if (varies) fields.push(['Vary', 'Accept-Encoding']);

    const validators: Validators = { etag: rep.etag, lastModified: mtime };
    const pre = evaluatePreconditions(req.header, validators);
    if (pre === NOT_MODIFIED) {
      await release(null);
      return notModified({ status: 200, fields, body: null, version: rep.file.version });
    }
    if (pre === PRECONDITION_FAILED) {
      await release(null);
      return errorReply(412);
    }

    if (typeof spans !== 'number' || spans === RANGE_UNSATISFIABLE) {
      if (ifRangeAllows(req.header, { etag: identity.etag, lastModified: file.mtimeMs })) {
        if (spans === RANGE_UNSATISFIABLE) {
          await release(null);
          return { status: 416, fields: [['Content-Type', HTML], ['Content-Range', `bytes */${file.size}`]], body: page(416) };
        }
        if (typeof spans !== 'number') return await partial(site, file, type, fields, spans, release);
      }
    }

    if (rep.bytes !== null) {
      await release(null);
      return { status: 200, fields, body: rep.bytes, version: rep.file.version, validators };
    }
    await release(rep.file.handle);
    const whole = req.cacheable === true ? Math.max(SMALL_FILE_BYTES, options.cacheMaxFileBytes) : SMALL_FILE_BYTES;
    const body = await bodyOf(rep.file, [[0, rep.file.size - 1]], rep.file.size, whole);
    return { status: 200, fields, body, version: rep.file.version, validators, ...(degraded ? { noStore: true as const } : {}) };
  } catch (err) {
    await release(null);
    throw err;
  }
}

/**
 * Chooses the representation for Accept-Encoding among identity, precompressed siblings
 * (`file.br`, `file.gz`) and on-the-fly compression. Returns null when the client accepts none
 * (e.g. `identity;q=0` with nothing compressed to offer); `siblings` tells whether any exist.
 */
async function negotiate(
  req: StaticRequest,
  site: Site,
  file: OpenFile,
  segments: string[],
  compressible: boolean,
  identity: Representation,
  handles: FileRef[],
): Promise<{ rep: Representation; siblings: boolean; degraded?: true } | null> {
  const ae = req.header('accept-encoding');
  if (ae === undefined) return { rep: identity, siblings: false };
  const { options } = site;
  const found = new Map<Coding, OpenFile>();
  // Siblings are looked for only when the client could take them: no extra syscalls otherwise.
  const wanted: Array<[Coding, string]> = [];
  // Decided on the parsed header, as the reply cache's key is (encodingProfile): two headers with
  // one profile look for the same siblings, so they get the same reply, Vary included.
  if (mentions(ae, 'br')) wanted.push(['br', '.br']);
  if (mentions(ae, 'gzip')) wanted.push(['gzip', '.gz']);
  const last = segments[segments.length - 1];
  for (const [coding, ext] of wanted) {
    const sib = await openUnder(site.rootReal, [...segments.slice(0, -1), last + ext]);
    if (sib.kind === 'file') {
      handles.push(sib.handle);
      found.set(coding, sib);
    }
  }
  const onTheFly = options.compression && compressible && file.size >= options.compressionMinBytes && file.size <= options.compressionMaxBytes;
  const available: Encoding[] = [];
  for (const coding of ['br', 'gzip'] as const) if (found.has(coding) || onTheFly) available.push(coding);
  const choice = chooseEncoding(ae, available);
  if (choice === null) return null;
  const siblings = found.size > 0;
  if (choice === 'identity') return { rep: identity, siblings };
  const sib = found.get(choice);
  if (sib !== undefined) {
    return { rep: { file: sib, encoding: choice, etag: etagFor(sib.size, sib.mtimeMs, `-${choice === 'br' ? 'br' : 'gz'}`), bytes: null }, siblings };
  }
  const bytes = await site.compressed.get(`${file.realPath}\0${identity.etag}`, choice, () => readWhole(file.handle, file.version));
  // Not kept: the compression cache's budget is taken by results still being sent. The file goes
  // out uncompressed rather than as bytes no budget counts (RFC 9110 §12.5.3 allows disregarding
  // Accept-Encoding; this happens only under such load).
  if (bytes === null) return { rep: identity, siblings, degraded: true };
  return { rep: { file, encoding: choice, etag: etagFor(file.size, file.mtimeMs, `-${choice === 'br' ? 'br' : 'gz'}`), bytes }, siblings };
}

/** 206 for one span, or multipart/byteranges (RFC 9110 §14.6) for several. */
async function partial(
  site: Site,
  file: OpenFile,
  type: string,
  fields: FieldList,
  spans: Span[],
  release: (keep: FileRef | null) => Promise<void>,
): Promise<Reply> {
  await release(file.handle);
  if (spans.length === 1) {
    const [first, last] = spans[0];
    fields.push(['Content-Range', `bytes ${first}-${last}/${file.size}`]);
    return { status: 206, fields, body: await bodyOf(file, spans, last - first + 1, SMALL_FILE_BYTES) };
  }
  const parts: Array<Span | Buffer> = [];
  let length = 0;
  for (const [i, span] of spans.entries()) {
    const head = Buffer.from(
      `${i === 0 ? '' : '\r\n'}--${site.boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${span[0]}-${span[1]}/${file.size}\r\n\r\n`,
      'latin1',
    );
    parts.push(head, span);
    length += head.length + span[1] - span[0] + 1;
  }
  const tail = Buffer.from(`\r\n--${site.boundary}--\r\n`, 'latin1');
  parts.push(tail);
  length += tail.length;
  fields[0] = ['Content-Type', `multipart/byteranges; boundary=${site.boundary}`];
  return { status: 206, fields, body: await bodyOf(file, parts, length, SMALL_FILE_BYTES) };
}

/** A file of at most `wholeUpTo` bytes is read now (one write later); a larger one is streamed by the sender. */
async function bodyOf(file: OpenFile, parts: Array<Span | Buffer>, length: number, wholeUpTo: number): Promise<Buffer | FileBody> {
  if (file.size > wholeUpTo) return { handle: file.handle, size: length, parts, version: file.version };
  try {
    const whole = await readWhole(file.handle, file.version);
    if (parts.length === 1 && !Buffer.isBuffer(parts[0]) && parts[0][0] === 0 && parts[0][1] === file.size - 1) return whole;
    return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : whole.subarray(p[0], p[1] + 1))));
  } finally {
    await file.handle.close();
  }
}

async function listing(dir: string, urlPath: string, query: string): Promise<Reply> {
  const entries = await readEntries(dir);
  if (new URLSearchParams(query.slice(1)).get('format') === 'json') {
    const fields: FieldList = [['Content-Type', 'application/json; charset=utf-8'], ['Cache-Control', 'no-cache']];
    return { status: 200, fields, body: Buffer.from(renderJson(entries)), dependsOnQuery: true };
  }
  return { status: 200, fields: [['Content-Type', HTML], ['Cache-Control', 'no-cache']], body: Buffer.from(renderHtml(urlPath, entries)), dependsOnQuery: true };
}

/** 404 with the site's error.html as its body, or a built-in page when the site has none. */
async function notFound(site: Site): Promise<Reply> {
  const opened = await openUnder(site.rootReal, ['error.html']).catch(() => null);
  if (opened?.kind === 'file') {
    try {
      if (opened.size <= SMALL_FILE_BYTES) {
        return { status: 404, fields: [['Content-Type', HTML]], body: await readWhole(opened.handle, opened.version) };
      }
    } finally {
      await opened.handle.close();
    }
  }
  return errorReply(404);
}

/** Folds every Vary field of a reply into one, in order, without repeats. */
function mergeVary(reply: Reply): Reply {
  const vary: string[] = [];
  const fields: FieldList = [];
  for (const f of reply.fields) {
    if (f[0] === 'Vary') {
      for (const v of String(f[1]).split(',')) if (!vary.includes(v.trim())) vary.push(v.trim());
    } else {
      fields.push(f);
    }
  }
  if (vary.length > 0) fields.push(['Vary', vary.join(', ')]);
  reply.fields = fields;
  return reply;
}

/**
 * The 304 for a 200 of a file (RFC 9110 §15.4.5): the validators and caching fields of the 200,
 * not its content fields, and no body. A file body still open is closed.
 */
export function notModified(reply: Reply): Reply {
  const { body } = reply;
  if (body !== null && !Buffer.isBuffer(body)) void body.handle.close().catch(() => undefined);
  const fields = reply.fields.filter(([n]) => n !== 'Content-Type' && n !== 'Content-Encoding' && n !== 'Accept-Ranges');
  return { status: 304, fields, body: null, version: reply.version };
}

/** A small built-in HTML page for `status`. */
export function errorReply(status: number, extra: FieldList = []): Reply {
  return { status, fields: [['Content-Type', HTML], ...extra], body: page(status) };
}

const pages = new Map<number, Buffer>();
function page(status: number): Buffer {
  let body = pages.get(status);
  if (body === undefined) {
    body = Buffer.from(`<!doctype html><title>${status}</title><h1>${status}</h1>\n`);
    pages.set(status, body);
  }
  return body;
}

let lastWarn = 0;
/** One warning per minute at most: a condition that hits every request must not flood the log. */
function warnRarely(message: string): void {
  const now = Date.now();
  if (now - lastWarn < 60_000) return;
  lastWarn = now;
  log.warn(message);
}

/**
 * nginx's errno table: the status for a file-system error, and whether it is worth a log line.
 * "Not there" is the client's doing and quiet; a permission problem is 403; running out of file
 * descriptors is ours and temporary (503); anything else is a 500 logged loudly.
 */
export function errnoStatus(err: unknown): number {
  if (isAbsent(err)) return 404;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  // Being rewritten right now: nothing consistent to send; the client may retry in a moment.
  if (code === CHANGED) return 503;
  if (code === 'EMFILE' || code === 'ENFILE') {
    warnRarely(`out of file descriptors (${code}); answering 503`);
    return 503;
  }
  log.error(`unexpected file-system error: ${(err as Error).message}`);
  return 500;
}
