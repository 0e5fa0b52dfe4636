// The TLS port's front door: a connection whose first byte starts a TLS record goes on to node:tls;
// one that starts like an HTTP request is told, as nginx tells it, to use https.

import net from 'node:net';
import type tls from 'node:tls';
import { HTML } from '../contract/error-page';
import type { Reply } from '../contract/reply';
import { replyHead } from './writer';

/** The content type of a TLS handshake record (RFC 8446 §5.1): every ClientHello starts with it. */
const HANDSHAKE_RECORD = 0x16;
/** Every request method PWS could answer starts with an upper-case letter (RFC 9110 §9). */
const A = 0x41;
const Z = 0x5a;

/** nginx's answer to the same mistake ("400 The plain HTTP request was sent to HTTPS port"). */
const PLAIN_HTTP: Reply = {
  status: 400,
  headers: { contentType: HTML, extra: [['Content-Security-Policy', "default-src 'none'"]] },
  body: Buffer.from(
    '<!doctype html><title>400 Bad Request</title><h1>400 Bad Request</h1>\n' +
      '<p>The plain HTTP request was sent to HTTPS port. Use an https:// address.</p>\n',
  ),
};

export interface DoorTimeouts {
  /** How long a new connection may take to send its first byte (HEADERS_TIMEOUT_MS, as a handshake gets). */
  firstByteMs: number;
  /** How long a connection answered 400 may go on sending before it is destroyed (KEEP_ALIVE_TIMEOUT_MS, as for any closing connection). */
  lingerMs: number;
}

export interface TlsPort {
  /** The listener: it accepts, and hands TLS connections to the TLS server (which never listens). */
  readonly server: net.Server;
  /** Destroys every connection at the door past its deadline: called by the server's sweep. */
  sweep(now: number): void;
  /** Destroys every connection still at the door. */
  destroyAll(): void;
}

/**
 * A listener in front of `tlsServer` that reads each connection's first bytes: a TLS record is
 * put back and the socket handed over, the handshake's own timeout starting then; a request
 * line gets a 400 page (Connection: close) and the connection closes once the client does, or
 * after `lingerMs`; anything else is closed unanswered. Until its first byte, a connection has
 * `firstByteMs`. A connection at the door is not counted towards MAX_CONNECTIONS, as one in
 * its handshake is not.
 */
export function tlsPort(tlsServer: tls.Server, timeouts: DoorTimeouts): TlsPort {
  /** The connections at the door (first byte awaited, or answered and closing) and their deadlines. */
  const waiting = new Map<net.Socket, number>();

  function onReadable(this: net.Socket): void {
    // Everything buffered so far; null only at the end of the stream.
    const chunk = this.read() as Buffer | null;
    if (chunk === null) {
      this.destroy();
      return;
    }
    const first = chunk[0]!;
    if (first === HANDSHAKE_RECORD) handOver(this, chunk);
    else if (first >= A && first <= Z) refuse(this);
    else this.destroy();
  }

  /**
   * node:tls feeds what a socket has buffered to the TLS handle on the next tick (initRead in
   * _tls_wrap), so the chunk must still be buffered then, and read by nobody else. Here the
   * 'readable' listener was the socket's only reader and is gone, so the socket is not flowing.
   * Peeking with 'data' instead breaks the handshake: a flowing socket emits the put-back chunk
   * to no one before initRead runs (the ClientHello is lost; the handshake waits and times out),
   * and a 'data' listener left attached gets it again from initRead's read().
   */
  function handOver(socket: net.Socket, chunk: Buffer): void {
    waiting.delete(socket);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    socket.unshift(chunk);
    tlsServer.emit('connection', socket);
  }

  /**
   * Answers at the first letter; what the client sends after is read and dropped until it closes,
   * so that its rest of the request does not turn our close into a reset that loses the answer.
   */
  function refuse(socket: net.Socket): void {
    waiting.set(socket, Date.now() + timeouts.lingerMs);
    socket.on('end', onEnd);
    socket.end(Buffer.concat([replyHead(PLAIN_HTTP, false, false), PLAIN_HTTP.body as Buffer]));
    socket.resume();
  }

  function onConnection(socket: net.Socket): void {
    waiting.set(socket, Date.now() + timeouts.firstByteMs);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('readable', onReadable);
  }

  function onClose(this: net.Socket): void {
    waiting.delete(this);
  }

  // The allowHalfOpen listener leaves a closed client's socket open: our side has ended already.
  function onEnd(this: net.Socket): void {
    this.destroy();
  }

  function onError(this: net.Socket): void {
    this.destroy();
  }

  // Half-open as the TLS server was: a TLSSocket takes allowHalfOpen from the socket it wraps.
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  return {
    server,
    sweep(now) {
      for (const [socket, deadline] of waiting) if (now > deadline) socket.destroy();
    },
    destroyAll() {
      for (const socket of waiting.keys()) socket.destroy();
    },
  };
}
