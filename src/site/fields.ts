// The fields a site's configuration adds to every answer: CORS, the site's `_headers` file and
// the operator's HEADERS_FILE.

import type { Reply, ReplyHeaders } from '../contract/reply';
import type { CorsPolicy } from './cors';
import { corsFields } from './cors';
import { headersFor, type HeaderRule } from './headers-file';

export interface FieldOptions {
  cors: CorsPolicy | null;
  headerRules: readonly HeaderRule[];
}

/**
 * Adds the CORS fields, then `siteFields` (the `_headers` fields of this path), then the
 * HEADERS_FILE fields of `urlPath` to `reply`. A HEADERS_FILE field replaces a `_headers` field of
 * the same name (the operator's configuration wins over the site's file), and a CORS field
 * (with CORS on) replaces both; Cache-Control and
 * Content-Type replace the ones PWS computed; Vary values join the reply's Vary; and
 * X-Content-Type-Options is left out, since every response already says nosniff.
 */
export function addSiteFields(
  reply: Reply,
  options: FieldOptions,
  origin: string | undefined,
  urlPath: string,
  siteFields: ReadonlyArray<readonly [string, string]> = [],
): void {
  const configured = headersFor(options.headerRules, urlPath);
  const cors = corsFields(options.cors, origin);
  if (cors.length === 0 && siteFields.length === 0 && configured.length === 0) return;
  // CORS decides its own fields; HEADERS_FILE replaces what `_headers` says of the same name.
  const corsNames = new Set(cors.map(([name]) => name.toLowerCase()));
  const overridden = new Set([...corsNames, ...configured.map(([name]) => name.toLowerCase())]);
  const fields = [
    ...cors,
    ...siteFields.filter(([name]) => !overridden.has(name.toLowerCase())),
    ...configured.filter(([name]) => !corsNames.has(name.toLowerCase())),
  ];
  const headers: ReplyHeaders = { ...reply.headers };
  const extra = [...(headers.extra ?? [])];
  const vary = [...(headers.vary ?? [])];
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    if (key === 'vary') {
      for (const v of value.split(',')) if (v.trim() !== '' && !vary.includes(v.trim())) vary.push(v.trim());
    } else if (key === 'cache-control') {
      headers.cacheControl = value;
    } else if (key === 'content-type') {
      headers.contentType = value;
    } else if (key !== 'x-content-type-options') {
      extra.push([name, value]);
    }
  }
  reply.headers = { ...headers, extra, ...(vary.length > 0 ? { vary } : {}) };
}
