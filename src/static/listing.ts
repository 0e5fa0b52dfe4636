// Directory listings (DIRECTORY_LISTING=on): entries read from disk, rendered as HTML or JSON.

import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml, pageHead } from '../contract/error-page';

export interface Entry {
  name: string;
  directory: boolean;
  size: number;
  modified: number;
}

/** Reads a folder's visible entries: dotfiles hidden, folders first, then by name. */
export async function readEntries(dir: string): Promise<Entry[]> {
  const names = await fs.promises.readdir(dir);
  const entries: Entry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    try {
      const st = await fs.promises.stat(path.join(dir, name));
      if (!st.isFile() && !st.isDirectory()) continue;
      entries.push({ name, directory: st.isDirectory(), size: st.isFile() ? st.size : 0, modified: st.mtimeMs });
    } catch {
      // a dangling symlink or an entry removed meanwhile: not listed
    }
  }
  return entries.sort((a, b) => (a.directory !== b.directory ? (a.directory ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}


/**
 * A file name as it may be shown: control characters (C0, DEL, C1) and the bidirectional
 * overrides and isolates that can make `evil\u202Etxt.exe` read as `evilexe.txt` are each
 * replaced by U+FFFD, then the rest is escaped for HTML. The link keeps the real name, encoded.
 */
export function displayName(name: string): string {
  return escapeHtml(name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd'));
}

function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The HTML page listing `entries` of the folder at decoded URL path `urlPath` (ends in "/"). */
export function renderHtml(urlPath: string, entries: readonly Entry[]): string {
  const title = `Index of ${displayName(urlPath)}`;
  const rows: string[] = [];
  if (urlPath !== '/') rows.push('<tr><td><a href="../">../</a></td><td></td><td></td></tr>');
  for (const e of entries) {
    const href = encodeURIComponent(e.name) + (e.directory ? '/' : '');
    const label = displayName(e.name) + (e.directory ? '/' : '');
    const size = e.directory ? '-' : humanSize(e.size);
    const modified = new Date(e.modified).toISOString().replace('T', ' ').slice(0, 19);
    rows.push(`<tr><td><a href="${href}">${label}</a></td><td>${size}</td><td>${modified}</td></tr>`);
  }
  return `${pageHead(title)}<body><h1>${title}</h1>
<table><thead><tr><th align="left">Name</th><th>Size</th><th align="left">Modified (UTC)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}

/** The same listing as JSON: [{name, type, size, modified}]. */
export function renderJson(entries: readonly Entry[]): string {
  return JSON.stringify(
    entries.map((e) => ({ name: e.name, type: e.directory ? 'directory' : 'file', size: e.size, modified: new Date(e.modified).toISOString() })),
  );
}
