// The static handler: a decoded GET/HEAD → a reply and what a cache needs to keep it. No socket here.
//
// It maps the path to a file (resolve/files), then composes the separate policies: the file's
// reply (file-reply: representation, preconditions, ranges), the SPA fallback, listings, the
// site's 404 page, and the fields of the site's configuration (CORS, the headers file).

import { errorReply, HTML, page } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import type { HeaderLookup } from '../http/conditional';
import { encodePath, safeQuery } from '../http/location';
import { acceptsHtml } from '../http/negotiate';
import { urlPath, type DecodedTarget } from '../http/target';
import { addSiteFields } from '../site/fields';
import { errnoStatus, notFound } from './errors';
import { fileReply, type Produced } from './file-reply';
import { openUnder } from './files';
import { readEntries, renderHtml, renderJson } from './listing';
import { isHidden } from './resolve';
import type { Site } from './site';

export interface StaticRequest {
  target: DecodedTarget;
  header: HeaderLookup;
  /**
   * Whether a 200 of a small file will be kept by the reply cache. Only then is a file over
   * SMALL_FILE_BYTES read whole (the cache shares those bytes); otherwise it is streamed, so a
   * reply that is not shared never holds more than a stream chunk of the file in memory.
   */
  cacheable: boolean;
}

/**
 * Answers a GET or HEAD. Never throws: a file-system error becomes its status through
 * errnoStatus (nginx's table), and only an unexpected one is logged. CORS and HEADERS_FILE fields
 * are added to every answer.
 */
export async function serveStatic(req: StaticRequest, site: Site): Promise<Produced> {
  const path = urlPath(req.target);
  let produced: Produced;
  try {
    produced = await answer(req, site, path);
  } catch (err) {
    produced = { reply: errorReply(errnoStatus(err)), cache: null };
  }
  addSiteFields(produced.reply, site.options, req.header('origin'), path);
  return produced;
}

async function answer(req: StaticRequest, site: Site, urlPath: string): Promise<Produced> {
  const { target } = req;
  // A 404 for a path that names nothing depends on the path alone: it may be cached.
  const missingHere = (): Produced => ({ reply: notFound(site), cache: {} });
  if (isHidden(target.segments)) return missingHere();
  const opened = openUnder(site.rootReal, target.segments);
  if (opened.kind === 'missing') return missing(req, site, urlPath);
  if (opened.kind === 'directory') {
    if (!target.trailingSlash) {
      // From the decoded, normalised path, re-encoded: never the raw target (see http/location).
      const location = encodePath(target.segments, true) + safeQuery(target.query);
      return { reply: { status: 301, headers: { contentType: HTML, location }, body: page(301) }, cache: { dependsOnQuery: true } };
    }
    const indexSegments = [...target.segments, 'index.html'];
    const index = openUnder(site.rootReal, indexSegments);
    if (index.kind === 'file') return fileReply(req, site, index, indexSegments, urlPath);
    if (site.options.directoryListing) return listing(opened.realPath, urlPath, target.query);
    return missingHere();
  }
  // "/file.txt/" names a directory that does not exist.
  if (target.trailingSlash) {
    opened.handle.close();
    return missingHere();
  }
  return fileReply(req, site, opened, target.segments, urlPath);
}

/** SPA_FALLBACK: an extension-less path from a client that accepts HTML gets the app's page. */
async function missing(req: StaticRequest, site: Site, urlPath: string): Promise<Produced> {
  const fallback = site.options.spaFallback;
  const last = req.target.segments[req.target.segments.length - 1] ?? '';
  if (fallback === null || last.includes('.')) return { reply: notFound(site), cache: {} };
  // The answer depends on Accept here (the app's page or a 404): say so to caches in front.
  let produced: Produced | null = null;
  if (acceptsHtml(req.header('accept'))) {
    const file = openUnder(site.rootReal, fallback);
    if (file.kind === 'file') produced = await fileReply(req, site, file, fallback, urlPath);
  }
  produced ??= { reply: notFound(site), cache: {} };
  const { reply } = produced;
  reply.headers = { ...reply.headers, vary: [...(reply.headers.vary ?? []), 'Accept'] };
  return produced;
}

async function listing(dir: string, urlPath: string, query: string): Promise<Produced> {
  const entries = await readEntries(dir);
  const json = new URLSearchParams(query.slice(1)).get('format') === 'json';
  const reply: Reply = json
    ? { status: 200, headers: { contentType: 'application/json; charset=utf-8', cacheControl: 'no-cache' }, body: Buffer.from(renderJson(entries)) }
    : { status: 200, headers: { contentType: HTML, cacheControl: 'no-cache' }, body: Buffer.from(renderHtml(urlPath, entries)) };
  return { reply, cache: { dependsOnQuery: true } };
}
