// Who the client is behind a load balancer: TRUSTED_PROXIES names the balancers, whose
// X-Forwarded-For is believed (and whose PROXY protocol header is required when PROXY_PROTOCOL
// is on). Anyone else's X-Forwarded-For is a claim, never the address logged.

import net from 'node:net';

/** The addresses of TRUSTED_PROXIES, ready for lookups. */
export interface TrustedProxies {
  list: net.BlockList;
  /** As configured, for messages. */
  text: string;
}

/**
 * Parses a list of addresses and CIDR blocks (`10.0.0.0/8, 2001:db8::/32, 198.51.100.7`),
 * separated by commas or spaces. Returns the list, or an error message naming the bad entry.
 */
export function parseTrustedProxies(value: string): TrustedProxies | string {
  const list = new net.BlockList();
  const entries = value.split(/[\s,]+/).filter((e) => e !== '');
  if (entries.length === 0) return 'expected addresses or CIDR blocks, e.g. 10.0.0.0/8';
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = net.isIP(address);
    if (family === 0) return `${JSON.stringify(entry)} is not an IP address or CIDR block`;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, type);
      continue;
    }
    const bits = entry.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix <= (family === 4 ? 32 : 128))) return `${JSON.stringify(entry)} has a bad prefix length`;
    list.addSubnet(address, prefix, type);
  }
  return { list, text: entries.join(', ') };
}

/** Whether `address` (as a socket reports it, IPv4-mapped IPv6 included) is a trusted proxy. */
export function isTrusted(trusted: TrustedProxies, address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = net.isIP(address);
  return family !== 0 && trusted.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client behind a trusted `peer`, from the X-Forwarded-For values in arrival order: walking
 * from the right, each hop that is itself a trusted proxy is skipped; the first that is not is the
 * client (nginx's real_ip_recursive). A malformed entry ends the walk at the last good hop, so a
 * client cannot hide behind garbage. Without the field, the peer is the client.
 */
export function forwardedClient(trusted: TrustedProxies, peer: string, forwardedFor: readonly string[]): string {
  let client = peer;
  for (let f = forwardedFor.length - 1; f >= 0; f--) {
    const hops = forwardedFor[f]!.split(',');
    for (let h = hops.length - 1; h >= 0; h--) {
      if (!isTrusted(trusted, client)) return client;
      const hop = hops[h]!.trim();
      if (net.isIP(hop) === 0) return client;
      client = hop;
    }
  }
  return client;
}

/** What clientAddress needs of the request: its fields. */
interface Fields {
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/**
 * The client's address for the log: the peer's (or the PROXY header's, already in `remote`), or,
 * from a trusted proxy without PROXY_PROTOCOL, the one its X-Forwarded-For names.
 */
export function clientAddress(ctx: { trusted: TrustedProxies | null; proxyProtocol: boolean }, remote: string, fromProxy: boolean, req: Fields): string {
  if (!fromProxy || ctx.proxyProtocol || ctx.trusted === null) return remote;
  const forwarded: string[] = [];
  for (let i = 0; i < req.names.length; i++) if (req.names[i] === 'x-forwarded-for') forwarded.push(req.values[i]!);
  return forwarded.length === 0 ? remote : forwardedClient(ctx.trusted, remote, forwarded);
}

/**
 * A peer address as the access log shows it: an IPv4 client of a dual-stack socket
 * (`::ffff:192.0.2.1`) as the IPv4 address it is, as nginx logs it; '-' when unknown.
 */
export function peerAddress(address: string | undefined): string {
  if (address === undefined) return '-';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
