// Validators of a file version: a strong ETag from size and modification time, and Last-Modified.

/**
 * `"<size hex>-<mtime µs hex>"`, like nginx's size+mtime tag (no inode, so every host behind a
 * load balancer computes the same tag for the same deployed file). Cheaper than hashing content,
 * and any write changes the mtime. A `suffix` marks another encoding of the same file.
 */
export function etagFor(size: number, mtimeMs: number, suffix = ''): string {
  return `"${size.toString(16)}-${Math.round(mtimeMs * 1000).toString(16)}${suffix}"`;
}

/** Last-Modified as an IMF-fixdate (whole seconds). */
export function lastModifiedFor(mtimeMs: number): string {
  return new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString();
}
