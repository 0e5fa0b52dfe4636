// The handler contract, reply side: everything a protocol writer (HTTP/1.1 today, HTTP/2 next) is
// handed to send. Protocol-neutral: no socket, no file-system policy, no HTTP/1.1 syntax.

import type { Span } from '../http/range';

export type { Span };

/**
 * The response fields a handler sets, as a record built once (never a list edited by index).
 * A writer adds what belongs to the message and the connection itself: Server, Date,
 * Content-Length, X-Content-Type-Options, Connection.
 */
export interface ReplyHeaders {
  contentType?: string;
  contentEncoding?: 'br' | 'zstd' | 'gzip';
  contentRange?: string;
  acceptRanges?: 'bytes';
  lastModified?: string;
  etag?: string;
  cacheControl?: string;
  location?: string;
  allow?: string;
  retryAfter?: number;
  /** On pages PWS generates itself (errors, redirects, listings): they may load nothing. */
  contentSecurityPolicy?: string;
  /** Fields from the site's configuration (CORS, the headers file), in order, written after the rest. */
  extra?: ReadonlyArray<readonly [string, string]>;
  /** Request fields the reply depends on, merged without repeats (one Vary field). */
  vary?: readonly string[];
}

/**
 * An open file to send bytes from. The writer reads it, checks after every read that the file
 * still is the version the head describes (a file rewritten meanwhile must not be sent mixed),
 * and closes it when the reply is done or abandoned.
 */
export interface FileSource {
  /** Reads up to `length` bytes at `position` into `buf` at `offset`; resolves with the count. */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Whether the file still has the size and mtime the reply was made from. */
  unchanged(): boolean;
  /** Releases the descriptor; safe to call twice. */
  close(): void;
}

/**
 * A body streamed from a file: `size` bytes (the Content-Length), sent as `parts` in order — byte
 * spans of the file and literal buffers (the delimiters of multipart/byteranges).
 */
export interface FileBody {
  file: FileSource;
  size: number;
  parts: ReadonlyArray<Span | Buffer>;
}

/**
 * Room a cache lends a writer to keep what it makes of a reply, valid for the second of Date it was
 * made in: a serialized head per writer-chosen mode (HTTP/1.1), or the reply's fields mapped once
 * (HTTP/2), charged to the entry at the size the writer states.
 */
export interface WireSlot {
  get(mode: number, second: number): Buffer | undefined;
  set(mode: number, second: number, wire: Buffer): void;
  getFields(second: number): object | undefined;
  setFields(second: number, fields: object, bytes: number): void;
}

export interface Reply {
  status: number;
  headers: ReplyHeaders;
  /** A Buffer is sent whole; a FileBody is streamed; null has no body (length 0). */
  body: Buffer | FileBody | null;
  /** Set by a cache on the replies it hands out again and again (the same object each time). */
  wire?: WireSlot;
}

/** Body length of a reply as Content-Length states it (0 for 204 and 304). */
export function contentLength(reply: Reply): number {
  const { body } = reply;
  if (body === null || reply.status === 204 || reply.status === 304) return 0;
  return Buffer.isBuffer(body) ? body.length : body.size;
}

/** Closes the file of a reply that will not be sent (HEAD, 304, a closed connection). */
export function discardBody(reply: Reply): void {
  const { body } = reply;
  if (body !== null && !Buffer.isBuffer(body)) body.file.close();
}
