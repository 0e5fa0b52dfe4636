// Built-in answers without a file behind them: a small HTML page per status.

import type { Reply, ReplyHeaders } from './reply';

export const HTML = 'text/html; charset=utf-8';

const pages = new Map<number, Buffer>();

/** The built-in page body for `status`, made once per status. */
export function page(status: number): Buffer {
  let body = pages.get(status);
  if (body === undefined) {
    body = Buffer.from(`<!doctype html><title>${status}</title><h1>${status}</h1>\n`);
    pages.set(status, body);
  }
  return body;
}

/** A reply with the built-in page of `status`, and `headers` besides Content-Type. */
export function errorReply(status: number, headers: ReplyHeaders = {}): Reply {
  return { status, headers: { contentType: HTML, ...headers }, body: page(status) };
}
