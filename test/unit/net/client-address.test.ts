// TRUSTED_PROXIES and the client behind them: only a trusted peer's X-Forwarded-For is believed,
// read from the right past every trusted hop.

import { describe, expect, it } from '@jest/globals';
import { forwardedClient, isTrusted, parseTrustedProxies, peerAddress, type TrustedProxies } from '../../../src/net/client-address';

const trusted = parseTrustedProxies('10.0.0.0/8, 198.51.100.10 2001:db8:1::/48') as TrustedProxies;

describe('parseTrustedProxies', () => {
  it('reads addresses and CIDR blocks of both families', () => {
    expect(trusted.text).toBe('10.0.0.0/8, 198.51.100.10, 2001:db8:1::/48');
    for (const a of ['10.1.2.3', '198.51.100.10', '2001:db8:1::5', '::ffff:10.9.9.9']) expect(isTrusted(trusted, a)).toBe(true);
    for (const a of ['11.0.0.1', '198.51.100.11', '2001:db8:2::5', undefined, 'nonsense']) expect(isTrusted(trusted, a)).toBe(false);
  });

  it.each([
    ['', 'expected addresses or CIDR blocks'],
    ['10.0.0.0/33', '"10.0.0.0/33" has a bad prefix length'],
    ['2001:db8::/129', 'has a bad prefix length'],
    ['10.0.0.0/x', 'has a bad prefix length'],
    ['example.com', '"example.com" is not an IP address or CIDR block'],
    ['10.0.0.1, 300.1.1.1', '"300.1.1.1" is not an IP address'],
  ])('refuses %j', (value, message) => {
    expect(parseTrustedProxies(value)).toEqual(expect.stringContaining(message));
  });
});

describe('forwardedClient', () => {
  it.each([
    ['no field: the peer', '10.0.0.1', [], '10.0.0.1'],
    ['one hop', '10.0.0.1', ['203.0.113.9'], '203.0.113.9'],
    ['trusted hops skipped from the right', '10.0.0.1', ['203.0.113.9, 10.2.2.2, 198.51.100.10'], '203.0.113.9'],
    ['a spoofed left part ignored', '10.0.0.1', ['1.1.1.1, 203.0.113.9'], '203.0.113.9'],
    ['several fields, in order', '10.0.0.1', ['203.0.113.9', '10.3.3.3'], '203.0.113.9'],
    ['garbage stops the walk at the last good hop', '10.0.0.1', ['203.0.113.9, not-an-ip'], '10.0.0.1'],
    ['IPv6 client', '10.0.0.1', ['2001:db8:9::1'], '2001:db8:9::1'],
    ['every hop trusted: the leftmost', '10.0.0.1', ['10.4.4.4, 10.5.5.5'], '10.4.4.4'],
  ])('%s', (_name, peer, fields, client) => {
    expect(forwardedClient(trusted, peer, fields)).toBe(client);
  });

  it('believes nothing from a peer that is not trusted', () => {
    expect(forwardedClient(trusted, '203.0.113.50', ['1.2.3.4'])).toBe('203.0.113.50');
  });
});

describe('peerAddress', () => {
  it('shows an IPv4 client of a dual-stack socket as IPv4, and leaves everything else', () => {
    expect(peerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(peerAddress('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(peerAddress('::ffff:abcd')).toBe('::ffff:abcd');
    expect(peerAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(peerAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(peerAddress(undefined)).toBe('-');
  });
});
