/**
 * Which destinations the aggregator may connect to. By default it refuses addresses that
 * would let a client reach the aggregator's own host or network rather than the internet:
 * unspecified, loopback, private (RFC 1918, RFC 4193 ULA), shared CGN space (RFC 6598),
 * link-local (RFC 3927, RFC 4291), multicast and broadcast, reserved and documentation
 * ranges, and cloud metadata endpoints (169.254.169.254 is link-local already; fd00:ec2::254
 * is inside the ULA block; 100.100.100.200 is inside CGN space). Operators widen it with an
 * allow-list of CIDRs and may add their own refusals; deny wins over allow, allow over the
 * defaults. IPv4-mapped IPv6 addresses are judged as IPv4.
 */
import { cidrContains, parseCidr, unmapIpv4, type Cidr, type IpBytes } from '../protocol/ip.js';

const DEFAULT_REFUSED: readonly string[] = [
  '0.0.0.0/8', // "this network" (RFC 791, RFC 1122)
  '10.0.0.0/8', // private (RFC 1918)
  '100.64.0.0/10', // shared address space (RFC 6598), includes 100.100.100.200 (metadata)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local (RFC 3927), includes 169.254.169.254 (metadata)
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments (RFC 6890)
  '192.0.2.0/24', // TEST-NET-1 (RFC 5737)
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking (RFC 2544)
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
  '::/128', // unspecified
  '::1/128', // loopback
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215)
  '100::/64', // discard-only (RFC 6666)
  '2001:db8::/32', // documentation (RFC 3849)
  'fc00::/7', // unique local (RFC 4193), includes fd00:ec2::254 (metadata)
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated, RFC 3879)
  'ff00::/8', // multicast
];

export type DestinationVerdict = { allowed: true } | { allowed: false; reason: string };

export class DestinationPolicy {
  private readonly refused: Cidr[];

  constructor(
    private readonly allow: readonly Cidr[] = [],
    private readonly deny: readonly Cidr[] = [],
  ) {
    this.refused = DEFAULT_REFUSED.map((t) => {
      const c = parseCidr(t);
      if (c === undefined) throw new Error(`bad built-in prefix ${t}`);
      return c;
    });
  }

  check(address: IpBytes): DestinationVerdict {
    const ip = unmapIpv4(address);
    const denied = this.deny.find((c) => cidrContains(c, ip));
    if (denied) return { allowed: false, reason: `destination in denied range ${denied.text}` };
    if (this.allow.some((c) => cidrContains(c, ip))) return { allowed: true };
    const refused = this.refused.find((c) => cidrContains(c, ip));
    if (refused) return { allowed: false, reason: `destination in refused range ${refused.text} (allow it in destinations.allow)` };
    return { allowed: true };
  }
}
