// One HTTP/1.1 client connection: its states, the context it runs in, and its per-connection
// state object (net/machine.ts moves it between the states).

import type net from 'node:net';
import type { AccessLog } from '../access-log';
import type { RareWarning } from '../log';
import type { H2Context } from './h2';
import type { FileSource } from '../contract/reply';
import type { ChunkedDecoder } from '../http/chunked';
import { isTrusted, peerAddress, type TrustedProxies } from './client-address';
import { emptyHead, type ParseLimits } from '../http/parser';
import { emptyFraming, header } from '../http/request';

export const READ_HEAD = 0;
export const READ_BODY = 1;
export const RESPONDING = 2;
export const CLOSING = 3;
export const CLOSED = 4;
/** A reply was handed over and the socket's queue is above OUTPUT_QUEUE_BYTES: waiting for 'drain'. */
export const BACKED_UP = 5;

/** What the machine reports to whoever answers requests (net/dispatch.ts). */
export interface ConnectionEvents {
  /** A whole request has arrived (head complete, body skipped): answer it, then finishResponse. */
  request(conn: Connection): void;
  /** A request failed to parse or frame, with an error code from http/errors: answer it. */
  error(conn: Connection, code: number): void;
  /** Something threw while handling socket data: a bug, not the client's doing. */
  bug(conn: Connection, err: unknown): void;
  /** The socket closed while a response was being sent. */
  cutShort(conn: Connection): void;
}

export interface ConnectionContext extends H2Context {
  limits: ParseLimits;
  /** OUTPUT_QUEUE_BYTES: above this many queued bytes, the next request waits for 'drain'. */
  outputQueueBytes: number;
  events: ConnectionEvents;
  accessLog: AccessLog | null;
  /** Worker id for log lines (cluster worker id, or 0). */
  worker: number;
  /** True while the worker retires (lame duck, then drain): every response closes its connection. */
  retiring: boolean;
  /** When the drain began (the listener closed), or 0: from then on idle connections are closed. */
  drainingSince: number;
  connections: Set<Connection>;
  /** TRUSTED_PROXIES, or null: whose X-Forwarded-For (or PROXY header) names the client. */
  trusted: TrustedProxies | null;
  /** PROXY_PROTOCOL: every connection (from a trusted proxy) starts with a PROXY header. */
  proxyProtocol: boolean;
  /** Connections closed for want of a PROXY header. */
  badProxyHeaders: RareWarning;
}

export class Connection {
  state = READ_HEAD;
  /** Received bytes not yet consumed, or null. */
  pending: Buffer | null = null;
  readonly head = emptyHead();
  readonly framing = emptyFraming();
  bodyRemaining = 0;
  chunked: ChunkedDecoder | null = null;
  /** The open file of a streamed response; closed with the socket if the response is cut short. */
  file: FileSource | null = null;
  /** Resumes a streamed response waiting for the socket to drain (or to close). */
  drainWaiter: (() => void) | null = null;
  /** When the current phase started: first byte of a head, last body byte, idle since, or write progress. */
  since = Date.now();
  /** Whether bytes of the next head have arrived (distinguishes "idle" from "slow head"). */
  headStarted = false;
  /** socket.bytesWritten at the last sweep, to detect a client that stopped reading. */
  writtenAtSweep = 0;
  peerEnded = false;
  inAdvance = false;
  served = 0;
  // The request being answered, for the access log and error reports.
  seq = 0;
  start = 0;
  /** performance.now() at the start, for the request time in the log. */
  startHr = 0;
  status = 0;
  /** Body bytes of the current response: planned, or sent so far while streaming. */
  bytes = 0;
  /** Whether any byte of the current response has been written. */
  headWritten = false;
  /** The peer's address, or the client's from a PROXY header ('-' when the access log is off). */
  remote: string;
  /** Whether the peer is a trusted proxy (its X-Forwarded-For is believed). */
  readonly fromProxy: boolean;
  /** PROXY_PROTOCOL: the header has not been read yet. */
  awaitingProxy: boolean;
  readonly headLimit: number;

  constructor(
    readonly socket: net.Socket,
    readonly ctx: ConnectionContext,
  ) {
    this.headLimit = ctx.limits.maxUriBytes + ctx.limits.maxHeaderBytes + 64;
    // Only the access log needs the peer's address; asking costs a getpeername(2) and a string.
    this.remote = ctx.accessLog === null ? '-' : peerAddress(socket.remoteAddress);
    // Under PROXY_PROTOCOL only trusted peers get this far (net/server.ts).
    this.fromProxy = ctx.proxyProtocol || (ctx.trusted !== null && isTrusted(ctx.trusted, socket.remoteAddress));
    this.awaitingProxy = ctx.proxyProtocol;
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  // The contract's Request, over the current head: no object per request.
  get method(): string {
    return this.head.method;
  }

  get target(): string {
    return this.head.target;
  }

  get names(): readonly string[] {
    return this.head.names;
  }

  get values(): readonly string[] {
    return this.head.values;
  }

  header(name: string): string | undefined {
    return header(this.head, name);
  }

  get proxied(): boolean {
    return this.fromProxy;
  }
}
