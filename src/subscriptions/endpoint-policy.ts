/**
 * Which notification endpoints the server may call (no server-side request forgery): https only, and
 * never an address on the server's own networks (loopback, private, link-local, shared, multicast,
 * reserved), unless SUBSCRIPTION_ALLOW_PRIVATE is set (development and tests: it also allows http).
 * The host name is resolved before each delivery, every address it resolves to must be allowed, and
 * the connection then goes to the address that was checked (see rest-hook.ts), so a DNS answer that
 * changes between the check and the connection (DNS rebinding) cannot redirect it.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface EndpointPolicy {
  /** SUBSCRIPTION_ALLOW_PRIVATE: private addresses and plain http are allowed. */
  allowPrivate: boolean;
}

export interface ResolvedEndpoint {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** A refused endpoint: the reason is safe to show to the client and to log (no patient data). */
export class EndpointRefused extends Error {}

/** IANA special-purpose address registries (RFC 6890 and updates): none of these is a public endpoint. */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space (RFC 6598, carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** BlockList judges an IPv4 address written as IPv6 (::ffff:10.0.0.1) by the IPv4 rules. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL without brackets around an IPv6 literal. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Checks what can be checked without the network: scheme, form, and a literal address. Throws EndpointRefused. */
export function checkEndpointUrl(endpoint: string, policy: EndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new EndpointRefused(`The endpoint "${endpoint}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    throw new EndpointRefused('The endpoint must be an https URL');
  }
  if (url.username || url.password) throw new EndpointRefused('The endpoint must not carry credentials; send them in channel.header');
  const host = hostOf(url);
  if (!policy.allowPrivate) {
    if (isIP(host) && !isPublicAddress(host)) throw new EndpointRefused(`The endpoint's address ${host} is not a public address`);
    if (/^localhost\.?$/i.test(host) || /\.localhost\.?$/i.test(host)) throw new EndpointRefused('The endpoint must not be on localhost');
  }
  return url;
}

/** Resolves the endpoint's host and checks every address; the first is the one to connect to. */
export async function resolveEndpoint(endpoint: string, policy: EndpointPolicy): Promise<ResolvedEndpoint> {
  const url = checkEndpointUrl(endpoint, policy);
  const host = hostOf(url);
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (error) {
      throw new EndpointRefused(`The endpoint's host could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})`);
    }
  }
  if (addresses.length === 0) throw new EndpointRefused("The endpoint's host resolves to no address");
  if (!policy.allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) throw new EndpointRefused(`The endpoint's host resolves to ${refused.address}, which is not a public address`);
  }
  const [first] = addresses;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
