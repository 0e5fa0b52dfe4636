// The static handler: a decoded GET/HEAD → a reply and what a cache needs to keep it. No socket here.
//
// It maps the path to a file (resolve/files), then composes the separate policies: the site's
// `_redirects` rules, clean URLs and the trailing-slash form, the file's reply (file-reply:
// representation, preconditions, ranges), the SPA fallback, listings, the site's 404 page, and
// the fields of the site's configuration (CORS, `_headers`, the headers file).

import { errorReply, HTML, PAGE_CSP, redirectReply } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import type { HeaderLookup } from '../http/conditional';
import { encodePath, safeQuery } from '../http/location';
import { acceptsHtml } from '../http/negotiate';
import { decodeTarget, urlPath, type DecodedTarget } from '../http/target';
import { addSiteFields } from '../site/fields';
import { findRule, withQuery, type RuleMatch } from '../site/redirects';
import { siteHeadersFor } from '../site/site-headers';
import { errnoStatus, notFound, pageReply } from './errors';
import { fileReply, type Produced } from './file-reply';
import { openUnder } from './files';
import { readEntries, renderHtml, renderJson } from './listing';
import { isHidden } from './resolve';
import type { Site } from './site';
import { isSiteFile, SITE_FILE_NAMES } from './site-files';

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
 * errnoStatus (nginx's table), and only an unexpected one is logged. CORS, `_headers` and
 * HEADERS_FILE fields are added to every answer.
 */
export async function serveStatic(req: StaticRequest, site: Site): Promise<Produced> {
  const path = urlPath(req.target);
  let produced: Produced;
  try {
    produced = await answer(req, site, path);
  } catch (err) {
    produced = { reply: errorReply(errnoStatus(err)), cache: null };
  }
  addSiteFields(produced.reply, site.options, req.header('origin'), path, siteHeadersFor(site.files.headers, req.target.segments));
  return produced;
}

/** Nothing at the path; or something the path names that cannot be served (a folder without index). */
const MISSING = 0;
const UNSERVABLE = 1;

/**
 * The order of precedence: the root wall (hidden paths, the site files), a forced `_redirects`
 * rule, what is at the path, any other matching rule, the SPA fallback, the 404 page.
 */
async function answer(req: StaticRequest, site: Site, urlPath: string): Promise<Produced> {
  const { segments } = req.target;
  if (isHidden(segments) || isSiteFile(segments)) return { reply: notFound(site), cache: {} };
  const rule = site.files.redirects.rules.length === 0 ? null : findRule(site.files.redirects, segments);
  if (rule?.rule.force === true) return applyRule(req, site, rule, urlPath);
  const found = await atPath(req, site, urlPath);
  if (typeof found !== 'number') return found;
  if (rule !== null) return applyRule(req, site, rule, urlPath);
  // A 404 for a path that names nothing depends on the path alone: it may be cached.
  return found === MISSING ? missing(req, site, urlPath) : { reply: notFound(site), cache: {} };
}

/** A 301 to `segments` in the given slash form, the query kept; it depends on the query. */
function moved(req: StaticRequest, segments: readonly string[], trailingSlash: boolean): Produced {
  // From the decoded, normalised path, re-encoded: never the raw target (see http/location).
  const location = encodePath(segments, trailingSlash) + safeQuery(req.target.query);
  return { reply: redirectReply(301, location), cache: { dependsOnQuery: true } };
}

/**
 * What is at the path: a file, a folder's index or listing, a clean-URL page, or a redirect to
 * the canonical form of one of them (TRAILING_SLASH, CLEAN_URLS); else MISSING or UNSERVABLE.
 */
async function atPath(req: StaticRequest, site: Site, urlPath: string): Promise<Produced | number> {
  const { target } = req;
  const { segments } = target;
  const { trailingSlash: form, cleanUrls, directoryListing } = site.options;
  const opened = openUnder(site.root, segments);
  if (opened.kind === 'directory') {
    const indexSegments = [...segments, 'index.html'];
    const index = openUnder(site.root, indexSegments);
    if (index.kind !== 'file' && !directoryListing && cleanUrls) {
      // A folder with nothing to serve (assets only, say): the page of the same name answers.
      const page = await cleanPage(req, site, urlPath);
      if (page !== MISSING) return page;
    }
    if (segments.length > 0 && target.trailingSlash === (form === 'never')) {
      if (index.kind === 'file') index.handle.close();
      return moved(req, segments, form !== 'never');
    }
    if (index.kind === 'file') return fileReply(req, site, index, indexSegments, urlPath);
    if (directoryListing) return listing(opened.realPath, urlPath, target.query, segments.length === 0);
    return UNSERVABLE;
  }
  if (opened.kind === 'file') {
    // "/file.txt/" names a directory that does not exist.
    if (target.trailingSlash) {
      opened.handle.close();
      return UNSERVABLE;
    }
    if (!cleanUrls || !(segments[segments.length - 1] as string).endsWith('.html')) return fileReply(req, site, opened, segments, urlPath);
    let canonical: ReturnType<typeof cleanForm>;
    try {
      canonical = cleanForm(site, segments);
    } catch (err) {
      opened.handle.close();
      throw err;
    }
    if (canonical !== null) {
      opened.handle.close();
      return moved(req, canonical.segments, canonical.folder ? form !== 'never' : form === 'always');
    }
    // Served under its own name because something answers at the clean URL: that can change.
    return unversioned(await fileReply(req, site, opened, segments, urlPath));
  }
  return cleanUrls ? cleanPage(req, site, urlPath) : MISSING;
}

/**
 * CLEAN_URLS: `/about` is about.html, in the slash form TRAILING_SLASH asks for, and `/index`
 * is its folder; MISSING when there is no such page.
 */
async function cleanPage(req: StaticRequest, site: Site, urlPath: string): Promise<Produced | number> {
  const { segments } = req.target;
  const form = site.options.trailingSlash;
  const last = segments[segments.length - 1];
  if (last === undefined || last.endsWith('.html')) return MISSING;
  const pageSegments = [...segments.slice(0, -1), `${last}.html`];
  const page = openUnder(site.root, pageSegments);
  if (page.kind !== 'file') return MISSING;
  if (last === 'index' || req.target.trailingSlash !== (form === 'always')) {
    page.handle.close();
    return last === 'index' ? moved(req, segments.slice(0, -1), form !== 'never') : moved(req, segments, form === 'always');
  }
  // Kept by the cache without the file's version: a file appearing at the clean path itself must
  // be noticed, so the whole lookup runs again once the entry is due for a check.
  return unversioned(await fileReply(req, site, page, pageSegments, urlPath));
}

/** What `segments` name, with any descriptor opened to find out closed again. */
function kindAt(site: Site, segments: readonly string[]): 'file' | 'directory' | 'missing' {
  const opened = openUnder(site.root, segments);
  if (opened.kind === 'file') opened.handle.close();
  return opened.kind;
}

/**
 * With CLEAN_URLS, the URL a `.html` file is served under when it differs from its own: `index.html`
 * → its folder, `about.html` → `/about` (unless a file there, or a folder that serves something,
 * would answer instead); else null.
 */
function cleanForm(site: Site, segments: readonly string[]): { segments: string[]; folder: boolean } | null {
  const last = segments[segments.length - 1] as string;
  const stem = last.slice(0, -'.html'.length);
  // `x.html.html` would be sent to `/x.html`, which names another file.
  if (stem === '' || stem.endsWith('.html')) return null;
  const parent = segments.slice(0, -1);
  if (last === 'index.html') return { segments: parent, folder: true };
  const clean = [...parent, stem];
  const there = kindAt(site, clean);
  if (there === 'missing') return { segments: clean, folder: false };
  if (there === 'directory' && !site.options.directoryListing && kindAt(site, [...clean, 'index.html']) !== 'file') return { segments: clean, folder: false };
  return null;
}

/** A produced reply whose cache entry is revalidated by the full lookup, not by one file's stat. */
function unversioned(produced: Produced): Produced {
  if (produced.cache === null) return produced;
  const { validators, dependsOnQuery } = produced.cache;
  return { reply: produced.reply, cache: { validators, dependsOnQuery } };
}

/**
 * Applies a `_redirects` rule: a redirect to its target with the query kept; a rewrite (200)
 * serving the target's file (or folder index) under the requested URL; or the target's page with
 * 404. A target that names nothing is the site's 404.
 */
async function applyRule(req: StaticRequest, site: Site, match: RuleMatch, urlPath: string): Promise<Produced> {
  const { status } = match.rule;
  if (status !== 200 && status !== 404) {
    return { reply: redirectReply(status, withQuery(match.target, safeQuery(req.target.query))), cache: { dependsOnQuery: true } };
  }
  const target = decodeTarget(match.target);
  if (typeof target === 'number' || isHidden(target.segments) || isSiteFile(target.segments)) return { reply: notFound(site), cache: {} };
  if (status === 404) return { reply: pageReply(site, target.segments, 404) ?? notFound(site), cache: {} };
  let segments = target.segments;
  let opened = openUnder(site.root, segments);
  if (opened.kind === 'directory') {
    segments = [...segments, 'index.html'];
    opened = openUnder(site.root, segments);
  }
  if (opened.kind !== 'file') return { reply: notFound(site), cache: {} };
  return unversioned(await fileReply(req, site, opened, segments, urlPath));
}

/** SPA_FALLBACK: an extension-less path from a client that accepts HTML gets the app's page. */
async function missing(req: StaticRequest, site: Site, urlPath: string): Promise<Produced> {
  const fallback = site.options.spaFallback;
  const last = req.target.segments[req.target.segments.length - 1] ?? '';
  if (fallback === null || last.includes('.')) return { reply: notFound(site), cache: {} };
  // The answer depends on Accept here (the app's page or a 404): say so to caches in front.
  let produced: Produced | null = null;
  if (acceptsHtml(req.header('accept'))) {
    const file = openUnder(site.root, fallback);
    if (file.kind === 'file') produced = await fileReply(req, site, file, fallback, urlPath);
  }
  produced ??= { reply: notFound(site), cache: {} };
  const { reply } = produced;
  reply.headers = { ...reply.headers, vary: [...(reply.headers.vary ?? []), 'Accept'] };
  return produced;
}

async function listing(dir: string, urlPath: string, query: string, root: boolean): Promise<Produced> {
  // The site files are never served, so a listing of the root does not offer them.
  const entries = (await readEntries(dir)).filter((e) => !(root && SITE_FILE_NAMES.has(e.name)));
  const json = new URLSearchParams(query.slice(1)).get('format') === 'json';
  const reply: Reply = json
    ? { status: 200, headers: { contentType: 'application/json; charset=utf-8', cacheControl: 'no-cache' }, body: Buffer.from(renderJson(entries)) }
    : { status: 200, headers: { contentType: HTML, cacheControl: 'no-cache', contentSecurityPolicy: PAGE_CSP }, body: Buffer.from(renderHtml(urlPath, entries)) };
  return { reply, cache: { dependsOnQuery: true } };
}
