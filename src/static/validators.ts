// Validators of a file version: a strong ETag from size and modification time, and Last-Modified.

/**
 * `"<size hex>-<mtime µs hex>"`, like nginx's size+mtime tag (no inode, so every host behind a
 * load balancer computes the same tag for the same deployed file). Cheaper than hashing content,
 * and any write changes the mtime. A `suffix` marks another encoding of the same file.
 */
export function etagFor(size: number, mtimeMs: number, suffix = ''): string {
  return `"${size.toString(16)}-${Math.round(mtimeMs * 1000).toString(16)}${suffix}"`;
}

let lastSecond = NaN;
let lastText = '';

/**
 * Last-Modified as an IMF-fixdate (whole seconds). The last one made is kept: the files of one
 * deploy mostly share their second, and formatting a date costs more than the rest of the field.
 */
export function lastModifiedFor(mtimeMs: number): string {
  const second = Math.floor(mtimeMs / 1000);
  if (second !== lastSecond) {
    lastText = new Date(second * 1000).toUTCString();
    lastSecond = second;
  }
  return lastText;
}
