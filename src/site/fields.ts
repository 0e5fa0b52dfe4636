// The fields a site's configuration adds to every answer: CORS and the headers file.

import type { Reply } from '../contract/reply';
import type { CorsPolicy } from './cors';
import { corsFields } from './cors';
import { headersFor, type HeaderRule } from './headers-file';

export interface FieldOptions {
  cors: CorsPolicy | null;
  headerRules: readonly HeaderRule[];
}

/** Adds the CORS and HEADERS_FILE fields of `urlPath` to `reply`; Vary values join its Vary. */
export function addSiteFields(reply: Reply, options: FieldOptions, origin: string | undefined, urlPath: string): void {
  const fields = [...corsFields(options.cors, origin), ...headersFor(options.headerRules, urlPath)];
  if (fields.length === 0) return;
  const extra = [...(reply.headers.extra ?? [])];
  const vary = [...(reply.headers.vary ?? [])];
  for (const [name, value] of fields) {
    if (name.toLowerCase() !== 'vary') extra.push([name, value]);
    else for (const v of value.split(',')) if (!vary.includes(v.trim())) vary.push(v.trim());
  }
  reply.headers = { ...reply.headers, extra, ...(vary.length > 0 ? { vary } : {}) };
}
