// Content-Type of a file from its name: mime-types' table, charset=utf-8 on text types.

import mime from 'mime-types';

/** RFC 9110 §8.3: a recipient may sniff when the type is missing; a generic type forbids that guess. */
export const UNKNOWN_TYPE = 'application/octet-stream';

/** The Content-Type value for `fileName`, e.g. "text/html; charset=utf-8" or "image/png". */
export function contentTypeFor(fileName: string): string {
  const type = mime.lookup(fileName);
  if (type === false) return UNKNOWN_TYPE;
  return mime.contentType(type) || type;
}
