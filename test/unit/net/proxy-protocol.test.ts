// The PROXY protocol header parser: versions 1 and 2 as HAProxy sends them, fed whole, at every
// split point and byte by byte, and what it refuses.

import { describe, expect, it } from '@jest/globals';
import { parseProxyHeader, PROXY_HEADER_MAX_BYTES, PROXY_INVALID, PROXY_NEED_MORE, type ProxyHeader } from '../../../src/net/proxy-protocol';

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A version 2 header: command (0 LOCAL, 1 PROXY), family/transport byte, then the address block. */
function v2(command: number, familyTransport: number, block: number[]): Buffer {
  return Buffer.from([...SIG, 0x20 | command, familyTransport, block.length >> 8, block.length & 0xff, ...block]);
}
const INET_BLOCK = [198, 51, 100, 7, 10, 0, 0, 1, 0xc3, 0x50, 0x00, 0x50]; // 198.51.100.7:50000 → 10.0.0.1:80
const INET6_BLOCK = [
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09],
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
  0xc3,
  0x50,
  0x00,
  0x50,
];
const TLV = [0x05, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]; // PP2_TYPE_UNIQUE_ID "abcd"

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n');

const VALID: Array<[string, Buffer, string | null]> = [
  ['v1 TCP4', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 50000 80\r\n'), '198.51.100.7'],
  ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::9 2001:db8::1 50000 443\r\n'), '2001:db8::9'],
  ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), null],
  ['v1 UNKNOWN with addresses', Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'), null],
  ['v2 PROXY INET', v2(1, 0x11, INET_BLOCK), '198.51.100.7'],
  ['v2 PROXY INET with a TLV', v2(1, 0x11, [...INET_BLOCK, ...TLV]), '198.51.100.7'],
  ['v2 PROXY INET6', v2(1, 0x21, INET6_BLOCK), '2001:db8::9'],
  ['v2 LOCAL (a health check)', v2(0, 0x00, []), null],
  ['v2 LOCAL with an address block', v2(0, 0x11, INET_BLOCK), null],
  ['v2 PROXY UNSPEC', v2(1, 0x00, []), null],
];

describe('parseProxyHeader', () => {
  it.each(VALID)('%s, followed by a request', (_name, header, source) => {
    const r = parseProxyHeader(Buffer.concat([header, REQUEST])) as ProxyHeader;
    expect(r).toEqual({ consumed: header.length, source });
  });

  it.each(VALID)('%s, at every split point: more is needed until the header is whole', (_name, header, source) => {
    for (let cut = 0; cut < header.length; cut++) expect(parseProxyHeader(header.subarray(0, cut))).toBe(PROXY_NEED_MORE);
    expect(parseProxyHeader(header)).toEqual({ consumed: header.length, source });
  });

  it.each([
    ['an HTTP request', REQUEST],
    ['lower case', Buffer.from('proxy TCP4 198.51.100.7 10.0.0.1 1 2\r\n')],
    ['v1 with a bad family', Buffer.from('PROXY UDP4 198.51.100.7 10.0.0.1 1 2\r\n')],
    ['v1 with a family that does not match', Buffer.from('PROXY TCP4 2001:db8::9 2001:db8::1 1 2\r\n')],
    ['v1 with a bad address', Buffer.from('PROXY TCP4 198.51.100.300 10.0.0.1 1 2\r\n')],
    ['v1 with a bad port', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 65536 2\r\n')],
    ['v1 with a leading-zero port', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 080 2\r\n')],
    ['v1 with a missing field', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 1\r\n')],
    ['v1 with two spaces', Buffer.from('PROXY TCP4  198.51.100.7 10.0.0.1 1 2\r\n')],
    ['v1 without CRLF within 107 bytes', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(120)}`)],
    ['v2 version 1', Buffer.from([...SIG, 0x11, 0x11, 0, 12, ...INET_BLOCK])],
    ['v2 command 2', Buffer.from([...SIG, 0x22, 0x11, 0, 12, ...INET_BLOCK])],
    ['v2 INET block too short', v2(1, 0x11, INET_BLOCK.slice(0, 8))],
    ['v2 INET6 block too short', v2(1, 0x21, INET_BLOCK)],
    ['v2 family 4', v2(1, 0x41, INET_BLOCK)],
  ])('refuses %s', (_name, bytes) => {
    expect(parseProxyHeader(bytes)).toBe(PROXY_INVALID);
  });

  it(`refuses a v2 header longer than ${PROXY_HEADER_MAX_BYTES} bytes as soon as its length is known`, () => {
    const length = PROXY_HEADER_MAX_BYTES; // 16 + this > the bound
    const head = Buffer.from([...SIG, 0x21, 0x11, length >> 8, length & 0xff]);
    expect(parseProxyHeader(head)).toBe(PROXY_INVALID);
    const atBound = Buffer.from([...SIG, 0x21, 0x11, (PROXY_HEADER_MAX_BYTES - 16) >> 8, (PROXY_HEADER_MAX_BYTES - 16) & 0xff]);
    expect(parseProxyHeader(atBound)).toBe(PROXY_NEED_MORE);
  });
});
