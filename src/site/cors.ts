// CORS (Fetch standard): which origins may read responses, and the answer to a preflight.

export type CorsPolicy = { kind: 'any' } | { kind: 'list'; origins: ReadonlySet<string> };

/** Parses CORS: `*`, or a comma-separated list of origins (scheme://host[:port]). Throws on a bad origin. */
export function parseCors(value: string): CorsPolicy {
  if (value.trim() === '*') return { kind: 'any' };
  const origins = new Set<string>();
  for (const raw of value.split(',')) {
    const origin = raw.trim();
    if (origin === '') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`"${origin}" is not an origin`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
      throw new Error(`"${origin}" is not an origin like https://example.com`);
    }
    origins.add(url.origin);
  }
  if (origins.size === 0) throw new Error('expected * or a list of origins');
  return { kind: 'list', origins };
}

/** Headers a cross-origin script may read beyond the safelisted ones (ranges, validators). */
const EXPOSE = 'Content-Range, Accept-Ranges, Content-Encoding, ETag, Last-Modified';

/**
 * CORS fields for a response to a request with `origin` (undefined when it sent none).
 * A list policy always adds `Vary: Origin`, since the answer depends on the Origin header.
 */
export function corsFields(policy: CorsPolicy | null, origin: string | undefined): Array<[string, string]> {
  if (policy === null) return [];
  if (policy.kind === 'any')
    return [
      ['Access-Control-Allow-Origin', '*'],
      ['Access-Control-Expose-Headers', EXPOSE],
    ];
  const fields: Array<[string, string]> = [['Vary', 'Origin']];
  if (origin !== undefined && policy.origins.has(origin)) {
    fields.push(['Access-Control-Allow-Origin', origin], ['Access-Control-Expose-Headers', EXPOSE]);
  }
  return fields;
}

/** Extra fields of a preflight answer (the request carried Access-Control-Request-Method). */
export function preflightFields(requestHeaders: string | undefined): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS'],
    ['Access-Control-Max-Age', '86400'],
  ];
  // Any request header is harmless to a static server that ignores them; echo what was asked.
  if (requestHeaders !== undefined && /^[\w\-, ]*$/.test(requestHeaders) && requestHeaders.trim() !== '') {
    fields.push(['Access-Control-Allow-Headers', requestHeaders.trim()]);
  }
  return fields;
}
