// Built-in answers without a file behind them: a small HTML page per status, and redirect pages
// that link to their target. Every page PWS generates itself goes out with a Content-Security-
// Policy that allows nothing but its own style: it runs no script and loads nothing.

import crypto from 'node:crypto';
import { reason } from '../http/status';
import type { Reply, ReplyHeaders } from './reply';

export const HTML = 'text/html; charset=utf-8';

/** The style of every generated page (pages, redirects, listings), allowed by its hash. */
const PAGE_STYLE =
  'body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}a{color:#06c}table{border-collapse:collapse}td{padding:.15rem 1.5rem .15rem 0}td:nth-child(2){text-align:right}';
const styleHash = crypto.createHash('sha256').update(PAGE_STYLE).digest('base64');

/** The Content-Security-Policy of generated pages: nothing but their own inline style. */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${styleHash}'`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** `s` with the five characters that mean something in HTML text and attributes escaped. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The head of a generated page titled `title` (already escaped). */
export function pageHead(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${PAGE_STYLE}</style></head>`;
}

/** "404 Not Found": a status with its reason phrase. */
function heading(status: number): string {
  const phrase = reason(status);
  return phrase === '' ? String(status) : `${status} ${phrase}`;
}

const pages = new Map<number, Buffer>();

/** The built-in page body for `status`, made once per status. */
export function page(status: number): Buffer {
  let body = pages.get(status);
  if (body === undefined) {
    body = Buffer.from(`${pageHead(heading(status))}<body><h1>${heading(status)}</h1></body></html>\n`);
    pages.set(status, body);
  }
  return body;
}

/** A reply with the built-in page of `status`, and `headers` besides Content-Type and the CSP. */
export function errorReply(status: number, headers: ReplyHeaders = {}): Reply {
  return { status, headers: { contentType: HTML, contentSecurityPolicy: PAGE_CSP, ...headers }, body: page(status) };
}

/**
 * A redirect: Location and a page that links to it, for the rare client that does not follow.
 * `location` must already be a safe URL (built by http/location or written by the site's owner);
 * it is escaped for the page.
 */
export function redirectReply(status: number, location: string, headers: ReplyHeaders = {}): Reply {
  const href = escapeHtml(location);
  const body = Buffer.from(`${pageHead(heading(status))}<body><h1>${heading(status)}</h1><p>Moved to <a href="${href}">${href}</a>.</p></body></html>\n`);
  return { status, headers: { contentType: HTML, contentSecurityPolicy: PAGE_CSP, location, ...headers }, body };
}
