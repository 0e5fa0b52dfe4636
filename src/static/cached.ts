// The static site behind the handler contract: the reply cache in front of the static handler.
//
// A hit is answered synchronously with the cached reply object itself (or its 304), so the
// writer can reuse what it serialized. If-None-Match / If-Modified-Since are evaluated here,
// against the cached 200's validators: a cacheable request is passed to the static handler as
// if unconditional, so that its 200 can be kept, and its 304 derived from it.

import { errorReply } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import type { Handler, Request } from '../contract/request';
import { evaluatePreconditions, NOT_MODIFIED, type HeaderLookup } from '../http/conditional';
import { errorInfo } from '../http/errors';
import { decodeTarget } from '../http/target';
import { notModified } from './file-reply';
import { serveStatic } from './handler';
import type { CachedReply } from './reply-cache';
import type { Site } from './site';

/** Whether a request carries one of the two conditionals a cached 200 can answer. */
function isConditional(header: HeaderLookup): boolean {
  return header('if-none-match') !== undefined || header('if-modified-since') !== undefined;
}

/** The cached reply for this request: the 200, or its 304 when the client has it already. */
function fromCache(site: Site, entry: CachedReply, header: HeaderLookup): Reply {
  const { validators } = entry.info;
  if (validators !== undefined && isConditional(header) && evaluatePreconditions(header, validators) === NOT_MODIFIED) {
    return entry.notModified ?? site.replies.setNotModified(entry, notModified(entry.reply));
  }
  return entry.reply;
}

/** A handler serving GET and HEAD from `site`, through its reply cache. */
export function staticSite(site: Site): Handler {
  const { replies } = site;
  return (req: Request): Reply | Promise<Reply> => {
    const header = (name: string): string | undefined => req.header(name);
    // The hot path: a reply cached for this path and what of these request fields it depends on.
    const key = replies.keyOf(req.target, req.names, req.values);
    const hasQuery = key !== null && req.target.includes('?');
    if (key !== null) {
      const hit = replies.get(key, Date.now(), hasQuery);
      if (hit !== undefined) return fromCache(site, hit, header);
    }
    const target = decodeTarget(req.target);
    if (typeof target === 'number') return errorReply(errorInfo(target).status);
    const conditional = key !== null && isConditional(header);
    const produced = serveStatic(
      {
        target,
        header: conditional ? (name) => (name === 'if-none-match' || name === 'if-modified-since' ? undefined : req.header(name)) : header,
        cacheable: key !== null && replies.enabled,
      },
      site,
    );
    return produced.then(({ reply, cache }) => {
      const entry = key !== null && cache !== null ? replies.set(key, reply, cache, Date.now(), hasQuery) : null;
      if (entry !== null) return fromCache(site, entry, header);
      const validators = cache?.validators;
      if (conditional && validators !== undefined && evaluatePreconditions(header, validators) === NOT_MODIFIED) return notModified(reply);
      return reply;
    });
  };
}
