import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIPv4, isIPv6, type LookupFunction } from 'node:net';

/**
 * The addresses the platform never calls on a caller's behalf: a provider's base URL is chosen by
 * users, and the gateway calls it from inside the platform, so it must not reach the platform's
 * own network (loopback, private ranges, link-local and its cloud metadata, carrier-grade NAT,
 * multicast and reserved ranges, IPv4 addresses written as IPv6).
 */
const internal = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  internal.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address. */
function embeddedIPv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const [high, low] = [parseInt(match[2]!, 16), parseInt(match[3]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether an IP address (v4 or v6, without brackets) is one the platform must not call. */
export function isInternalAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIPv4(ip)) return internal.check(ip, 'ipv4');
  if (!isIPv6(ip)) return false;
  const v4 = embeddedIPv4(ip);
  return v4 !== undefined ? internal.check(v4, 'ipv4') : internal.check(ip, 'ipv6');
}

/** A host name resolved to an internal address: the connection is refused before it is made. */
export class InternalAddressError extends Error {
  readonly code = 'EINTERNALADDRESS';
  constructor(readonly hostname: string) {
    super(`${hostname} resolves to an internal address`);
    this.name = 'InternalAddressError';
  }
}

/**
 * A socket `lookup` that connects to public addresses only. A base URL's host name passed the
 * check of its name when it was saved, but its DNS can answer anything, and change its answer
 * later (DNS rebinding): this checks each address as the connection is made. An IP address in
 * the URL is not looked up: the base URL's schema refuses internal ones.
 */
export const publicAddressesOnly: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    if (!addresses.length || addresses.some((a) => isInternalAddress(a.address)))
      return callback(new InternalAddressError(hostname), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};
