// Which methods PWS serves: GET and HEAD go on to the site; OPTIONS is answered here when CORS is
// on (preflights); a method PWS knows but does not serve is 405 with Allow; any other is 501.

import { errorReply } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import type { Handler, Request } from '../contract/request';
import { decodeTarget, urlPath } from '../http/target';
import { preflightFields } from './cors';
import { addSiteFields, type FieldOptions } from './fields';

/** Methods of RFC 9110 (and PATCH) that PWS knows but does not serve: 405, not 501. */
const KNOWN_METHODS = new Set(['POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/**
 * `next` for GET and HEAD; the method policy for everything else. With CORS on, OPTIONS is
 * answered as a preflight — or, with `preflights` false (the HTTPS redirect port), passed on to
 * `next` like GET.
 */
export function withMethods(options: FieldOptions, next: Handler, preflights = true): Handler {
  const allow = options.cors === null ? 'GET, HEAD' : 'GET, HEAD, OPTIONS';
  return (req) => {
    const { method } = req;
    if (method === 'GET' || method === 'HEAD') return next(req);
    if (method === 'OPTIONS' && options.cors !== null) return preflights ? preflight(req, options) : next(req);
    // RFC 9110 §15.6.2: 501 for a method the server does not recognise.
    return KNOWN_METHODS.has(method) ? errorReply(405, { allow }) : errorReply(501);
  };
}

/** OPTIONS with CORS on: 204 with Allow, and the preflight fields when it is one. */
function preflight(req: Request, options: FieldOptions): Reply {
  const reply: Reply = { status: 204, headers: { allow: 'GET, HEAD, OPTIONS' }, body: null };
  if (req.header('access-control-request-method') !== undefined) {
    reply.headers = { ...reply.headers, extra: preflightFields(req.header('access-control-request-headers')) };
  }
  const target = req.target === '*' ? null : decodeTarget(req.target);
  if (typeof target === 'number') return errorReply(400);
  addSiteFields(reply, options, req.header('origin'), target === null ? '/' : urlPath(target));
  return reply;
}
