// The handler contract, request side: what a protocol reader hands a handler, and the handler's shape.

import type { Reply } from './reply';

/** A request as any protocol presents it. Field names are lower case. */
export interface Request {
  method: string;
  /** The request-target exactly as sent (origin or absolute form, `*`, ...). */
  target: string;
  /** The value of the first field called `name`, or undefined. */
  header(name: string): string | undefined;
  /** Every field name and value, in arrival order; values[i] belongs to names[i]. */
  readonly names: readonly string[];
  readonly values: readonly string[];
  /**
   * Whether the request came through a trusted proxy (TRUSTED_PROXIES): the client reached the
   * site at the proxy's public address and ports, not at PWS's own.
   */
  readonly proxied: boolean;
}

/**
 * Maps a request to a reply. A reply that is ready at once (a cached one) is returned as it is,
 * with no promise, so that the hot path costs no microtask. May throw or reject only on a bug.
 */
export type Handler = (req: Request) => Reply | Promise<Reply>;
