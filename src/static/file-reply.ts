// The reply for one file: representation, preconditions (RFC 9110 §13), ranges (§14), and
// whether the body is read now or streamed by the writer.

import path from 'node:path';
import { errorReply, HTML, page } from '../contract/error-page';
import type { FileBody, Reply, ReplyHeaders, Span } from '../contract/reply';
import { evaluatePreconditions, ifRangeAllows, NOT_MODIFIED, PRECONDITION_FAILED, type HeaderLookup, type Validators } from '../http/conditional';
import { parseRange, RANGE_MALFORMED, RANGE_UNSATISFIABLE } from '../http/range';
import { isCompressible } from './compress';
import { readWhole } from './files';
import { contentTypeFor } from './mime';
import type { CacheInfo } from './reply-cache';
import { identityOf, negotiate, type OpenFile, type Representation } from './representation';
import { SMALL_FILE_BYTES, type Site } from './site';
import { lastModifiedFor } from './validators';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A reply of the static handler, and what a cache needs to keep it (null: must not be kept). */
export interface Produced {
  reply: Reply;
  cache: CacheInfo | null;
}

/**
 * The 304 for a 200 of a file (RFC 9110 §15.4.5): the validators and caching fields of the 200,
 * not its content fields, and no body. A file body still open is closed.
 */
export function notModified(reply: Reply): Reply {
  const { body } = reply;
  if (body !== null && !Buffer.isBuffer(body)) body.file.close();
  const { lastModified, etag, cacheControl, vary, extra } = reply.headers;
  return { status: 304, headers: { lastModified, etag, cacheControl, vary, extra }, body: null };
}

/** What a file reply is asked with. */
export interface FileRequest {
  header: HeaderLookup;
  /** Whether a 200 of a small file will be kept by the reply cache (see StaticRequest). */
  cacheable: boolean;
}

export async function fileReply(req: FileRequest, site: Site, file: OpenFile, segments: readonly string[], urlPath: string): Promise<Produced> {
  const { options } = site;
  const opened: OpenFile[] = [file];
  // Every descriptor opened for this reply is closed, except the one a streamed body sends from.
  const release = (keep: OpenFile | null): void => {
    for (const f of opened) if (f !== keep) f.handle.close();
  };
  try {
    const type = contentTypeFor(path.basename(file.realPath));
    const compressible = isCompressible(type);
    const identity = identityOf(file);

    // A Range applies to the identity representation only (see README); a malformed one is ignored.
    const rangeHeader = req.header('range');
    const spans: Span[] | number = rangeHeader === undefined ? RANGE_MALFORMED : parseRange(rangeHeader, file.size, options.maxRanges);

    let rep: Representation = identity;
    let varies = compressible;
    let degraded = false;
    if (spans === RANGE_MALFORMED) {
      const negotiated = await negotiate(req.header, site, file, segments, compressible);
      if (negotiated === null) {
        release(null);
        // The refusal depends on Accept-Encoding like any other answer here.
        return { reply: errorReply(406, { vary: ['Accept-Encoding'] }), cache: null };
      }
      opened.push(...negotiated.opened);
      rep = negotiated.rep;
      varies ||= negotiated.siblings;
      degraded = negotiated.degraded;
    }

    const mtime = rep.file.mtimeMs;
    const headers: ReplyHeaders = {
      contentType: type,
      ...(rep.encoding === null ? { acceptRanges: 'bytes' as const } : { contentEncoding: rep.encoding }),
      lastModified: lastModifiedFor(mtime),
      etag: rep.etag,
      cacheControl: options.immutablePattern?.test(urlPath) ? IMMUTABLE : options.cacheControl,
      ...(varies ? { vary: ['Accept-Encoding'] } : {}),
    };
    const validators: Validators = { etag: rep.etag, lastModified: mtime };
    const version = rep.file.version;

    const pre = evaluatePreconditions(req.header, validators);
    if (pre === NOT_MODIFIED) {
      release(null);
      return { reply: notModified({ status: 200, headers, body: null }), cache: null };
    }
    if (pre === PRECONDITION_FAILED) {
      release(null);
      return { reply: errorReply(412), cache: null };
    }

    if ((typeof spans !== 'number' || spans === RANGE_UNSATISFIABLE) && ifRangeAllows(req.header, { etag: identity.etag, lastModified: file.mtimeMs })) {
      if (spans === RANGE_UNSATISFIABLE) {
        release(null);
        return { reply: { status: 416, headers: { contentType: HTML, contentRange: `bytes */${file.size}` }, body: page(416) }, cache: null };
      }
      if (typeof spans !== 'number') {
        release(file);
        return { reply: partial(site, file, type, headers, spans), cache: null };
      }
    }

    if (rep.bytes !== null) {
      release(null);
      return { reply: { status: 200, headers, body: rep.bytes }, cache: degraded ? null : { version, validators } };
    }
    release(rep.file);
    const whole = req.cacheable ? Math.max(SMALL_FILE_BYTES, options.cacheMaxFileBytes) : SMALL_FILE_BYTES;
    const body = bodyOf(rep.file, [[0, rep.file.size - 1]], rep.file.size, whole);
    return { reply: { status: 200, headers, body }, cache: degraded ? null : { version, validators } };
  } catch (err) {
    release(null);
    throw err;
  }
}

/** 206 for one span, or multipart/byteranges (RFC 9110 §14.6) for several. */
function partial(site: Site, file: OpenFile, type: string, headers: ReplyHeaders, spans: Span[]): Reply {
  if (spans.length === 1) {
    const [first, last] = spans[0] as Span;
    return { status: 206, headers: { ...headers, contentRange: `bytes ${first}-${last}/${file.size}` }, body: bodyOf(file, spans, last - first + 1, SMALL_FILE_BYTES) };
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
  return { status: 206, headers: { ...headers, contentType: `multipart/byteranges; boundary=${site.boundary}` }, body: bodyOf(file, parts, length, SMALL_FILE_BYTES) };
}

/** A file of at most `wholeUpTo` bytes is read now (one write later); a larger one is streamed by the writer. */
function bodyOf(file: OpenFile, parts: Array<Span | Buffer>, length: number, wholeUpTo: number): Buffer | FileBody {
  if (file.size > wholeUpTo) return { file: file.handle, size: length, parts };
  try {
    const whole = readWhole(file.handle);
    const [only] = parts;
    if (parts.length === 1 && only !== undefined && !Buffer.isBuffer(only) && only[0] === 0 && only[1] === file.size - 1) return whole;
    return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : whole.subarray(p[0], p[1] + 1))));
  } finally {
    file.handle.close();
  }
}
