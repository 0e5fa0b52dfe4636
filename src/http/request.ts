// Message semantics of a parsed head: Host, body framing and persistence (RFC 9112 §3.2, §6, §9.3).

import { HOST } from './chars';
import { E } from './errors';
import type { RequestHead } from './parser';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;

export interface Framing {
  /** BODY_NONE, BODY_LENGTH or BODY_CHUNKED. */
  body: number;
  /** Declared length when body is BODY_LENGTH. */
  length: number;
  /** Whether the client allows the connection to stay open after this exchange. */
  keepAlive: boolean;
  /** Expect: 100-continue was sent with a body (RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

export function emptyFraming(): Framing {
  return { body: BODY_NONE, length: 0, keepAlive: true, expectContinue: false };
}

/**
 * Checks what a head says about the message around it and fills `out`.
 * Returns 0, or an error code from ./errors. Never throws.
 * Policy: any doubt about where the message ends is an error (a smuggling vector otherwise):
 * a Content-Length that is repeated, a list or not all digits; Transfer-Encoding together
 * with Content-Length, on HTTP/1.0, or with anything but `chunked` last.
 */
export function interpretHead(head: RequestHead, out: Framing): number {
  const { names, values } = head;
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let connectionClose = false;
  let connectionKeepAlive = false;
  let expectContinue = false;

  for (const [i, name] of names.entries()) {
    const value = values[i] ?? '';
    switch (name) {
      case 'host':
        if (++hosts > 1) return E.HOST_DUPLICATE;
        if (!validHost(value)) return E.HOST_INVALID;
        break;
      case 'content-length':
        if (contentLength !== -1) return E.CONTENT_LENGTH_DUPLICATE;
        contentLength = parseLength(value);
        if (contentLength < 0) return E.CONTENT_LENGTH_INVALID;
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection':
        for (const option of value.split(',')) {
          const token = option.trim().toLowerCase();
          if (token === 'close') connectionClose = true;
          else if (token === 'keep-alive') connectionKeepAlive = true;
        }
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
    }
  }

  const http11 = head.versionMinor >= 1;
  if (http11 && hosts === 0) return E.HOST_MISSING;

  out.body = BODY_NONE;
  out.length = 0;
  if (transferEncoding !== null) {
    if (contentLength !== -1) return E.TE_WITH_CONTENT_LENGTH;
    // RFC 9112 §6.1: HTTP/1.0 has no chunked coding, so a TE there is a framing lie.
    if (!http11) return E.TE_INVALID;
    const codings = transferEncoding.split(',');
    const last = codings[codings.length - 1]?.trim();
    // Exactly `chunked`, in lower case: every obfuscated spelling is a known smuggling trick.
    if (last !== 'chunked') return E.TE_INVALID;
    if (codings.length > 1) return E.TE_UNSUPPORTED;
    out.body = BODY_CHUNKED;
  } else if (contentLength > 0) {
    out.body = BODY_LENGTH;
    out.length = contentLength;
  }

  out.keepAlive = http11 ? !connectionClose : connectionKeepAlive && !connectionClose;
  out.expectContinue = expectContinue && out.body !== BODY_NONE && http11;
  return 0;
}

/** Content-Length = 1*DIGIT (RFC 9110 §8.6); -1 if not, or if beyond 2^53. */
export function parseLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function validHost(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (HOST[value.charCodeAt(i) & 0xff] !== 1 || value.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

/** Returns the value of the first field called `name` (lower case), or undefined. */
export function header(head: RequestHead, name: string): string | undefined {
  const i = head.names.indexOf(name);
  return i === -1 ? undefined : head.values[i];
}
