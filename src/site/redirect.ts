// HTTP_REDIRECT_PORT: every request gets 308 to the same path over HTTPS.

import { errorReply, redirectReply } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import type { Handler } from '../contract/request';
import { encodePath, redirectHost, safeQuery } from '../http/location';
import { decodeTarget } from '../http/target';

/**
 * The handler of HTTP_REDIRECT_PORT: 308 to the same path on the host the client asked for (the
 * absolute-form target's, else Host; RFC 9112 §3.2.2) and the HTTPS port. The host must pass
 * redirectHost and the path is re-encoded from its decoded segments, so the Location can only name
 * this request's own host; without a usable host the answer is 400. Through a trusted proxy, the
 * port is the default one. Such a reply depends on the
 * Host field, so it must never be cached: it carries no cache information, and nothing caches it.
 */
export function redirectToHttps(httpsPort: () => number): Handler {
  return (req): Reply => {
    const target = decodeTarget(req.target);
    if (typeof target === 'number') return errorReply(400);
    const host = redirectHost(target.authority ?? req.header('host') ?? '');
    if (host === null) return errorReply(400);
    // Through a trusted proxy the client reached the proxy's public ports: HTTPS is on 443 there,
    // whatever port PWS itself listens on behind it.
    const port = req.proxied ? 443 : httpsPort();
    const authority = port === 443 ? host : `${host}:${port}`;
    const location = `https://${authority}${encodePath(target.segments, target.trailingSlash)}${safeQuery(target.query)}`;
    return redirectReply(308, location);
  };
}
