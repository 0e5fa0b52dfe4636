// The PROXY protocol header a load balancer (HAProxy's send-proxy / send-proxy-v2) puts before the
// first byte of a connection, naming the client it relays: a pure parser over the bytes received
// so far. Version 1 is one text line, version 2 a binary block (haproxy.org, proxy-protocol.txt).

import net from 'node:net';

/** More bytes are needed to tell. */
export const PROXY_NEED_MORE = -1;
/** Not a valid PROXY header (or one longer than PROXY_HEADER_MAX_BYTES): the connection is closed. */
export const PROXY_INVALID = -2;

/**
 * The longest header accepted. Version 1 is at most 107 bytes; version 2 is 16 bytes plus its
 * addresses (at most 216) and TLVs, which a balancer keeps short (a unique id, TLS facts).
 */
export const PROXY_HEADER_MAX_BYTES = 4096;

export interface ProxyHeader {
  /** Bytes the header took: the HTTP request starts after them. */
  consumed: number;
  /** The client's address, or null when the header names none (LOCAL: the balancer's own health check; UNKNOWN). */
  source: string | null;
}

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Whether the first bytes of `buf` agree with `sig` as far as both go. */
function startsLike(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.compare(sig, 0, n, 0, n) === 0;
}

/** The header at the start of `buf`, PROXY_NEED_MORE, or PROXY_INVALID. */
export function parseProxyHeader(buf: Buffer): ProxyHeader | number {
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < 16 ? PROXY_NEED_MORE : parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return PROXY_INVALID;
}

function parseV1(buf: Buffer): ProxyHeader | number {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return buf.length >= V1_MAX ? PROXY_INVALID : PROXY_NEED_MORE;
  if (end + 2 > V1_MAX) return PROXY_INVALID;
  const parts = buf.toString('latin1', V1_PREFIX.length, end).split(' ');
  const consumed = end + 2;
  // "UNKNOWN" may be followed by anything up to the CRLF; the receiver ignores it.
  if (parts[0] === 'UNKNOWN') return { consumed, source: null };
  if (parts.length !== 5) return PROXY_INVALID;
  const [proto, src, dst, sport, dport] = parts as [string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0 || net.isIP(src) !== family || net.isIP(dst) !== family) return PROXY_INVALID;
  if (!isPort(sport) || !isPort(dport)) return PROXY_INVALID;
  return { consumed, source: src };
}

/** A decimal port, 0 to 65535, without a leading zero (the specification's form). */
function isPort(s: string): boolean {
  return /^(0|[1-9]\d{0,4})$/.test(s) && Number(s) <= 65535;
}

function parseV2(buf: Buffer): ProxyHeader | number {
  const versionCommand = buf[12]!;
  const familyTransport = buf[13]!;
  const length = buf.readUInt16BE(14);
  const consumed = 16 + length;
  if (versionCommand >> 4 !== 2 || consumed > PROXY_HEADER_MAX_BYTES) return PROXY_INVALID;
  const command = versionCommand & 0x0f;
  if (command > 1) return PROXY_INVALID;
  if (buf.length < consumed) return PROXY_NEED_MORE;
  // LOCAL: the balancer speaking for itself (a health check); the socket's peer is the client.
  if (command === 0) return { consumed, source: null };
  const family = familyTransport >> 4;
  if (family === 1) {
    if (length < 12) return PROXY_INVALID;
    return { consumed, source: `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}` };
  }
  if (family === 2) {
    if (length < 36) return PROXY_INVALID;
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(16 + 2 * i).toString(16));
    // Node's own notation (compressed zeros): the same text socket.remoteAddress would show.
    return { consumed, source: new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address };
  }
  // UNSPEC or UNIX: no address worth logging; the header is skipped as the specification says.
  return family === 0 || family === 3 ? { consumed, source: null } : PROXY_INVALID;
}
