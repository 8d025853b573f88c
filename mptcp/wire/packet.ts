/**
 * A whole IP packet carrying TCP: the IPv4 or IPv6 header, then the TCP segment. Used by
 * the decode tool and by tests over captures; a stack's receive path, which already knows
 * its address family, calls the header parsers directly.
 */
import { fail, ok, type ParseResult } from './result.js';
import { IPPROTO_TCP, IPV4_FLAG_MF, ipv4ChecksumValid, parseIpv4Header, type Ipv4Header } from './ipv4.js';
import { parseIpv6Header, type Ipv6Header } from './ipv6.js';
import { parseTcpSegment, tcpChecksumValid, type TcpParsed } from './tcp-header.js';

export type IpHeader = { version: 4; header: Ipv4Header } | { version: 6; header: Ipv6Header };

export interface TcpPacket {
  ip: IpHeader;
  src: Uint8Array;
  dst: Uint8Array;
  tcp: TcpParsed;
  /** The TCP segment's bounds in the buffer (header start to payload end). */
  tcpOffset: number;
  tcpEnd: number;
  /** Only for IPv4; IPv6 has no header checksum. */
  ipChecksumValid: boolean | undefined;
  tcpChecksumValid: boolean;
}

/**
 * Parses an IP packet that must carry a whole TCP segment (not a fragment). `what` in the
 * error says why a packet that is fine as IP is not a TCP packet for us.
 */
export function parseTcpPacket(buf: Uint8Array, off = 0): ParseResult<TcpPacket> {
  if (buf.length - off < 1) return fail('ipv4', 'version', 'empty packet', off);
  const version = buf[off] >>> 4;
  let ip: IpHeader;
  let l4: number;
  let end: number;
  let protocol: number;
  let ipChecksumValid: boolean | undefined;
  if (version === 4) {
    const r = parseIpv4Header(buf, off);
    if (!r.ok) return r;
    const h = r.value.header;
    if (h.fragmentOffset !== 0 || (h.flags & IPV4_FLAG_MF) !== 0) {
      return fail('ipv4', 'fragment', 'a fragment; reassembly is not done here', off + 6);
    }
    ip = { version: 4, header: h };
    l4 = off + r.value.headerLength;
    end = r.value.payloadEnd;
    protocol = h.protocol;
    ipChecksumValid = ipv4ChecksumValid(buf, off);
  } else if (version === 6) {
    const r = parseIpv6Header(buf, off);
    if (!r.ok) return r;
    if (r.value.fragmented) return fail('ipv6', 'fragment', 'a fragment; reassembly is not done here', off + 40);
    ip = { version: 6, header: r.value.header };
    l4 = r.value.upperOffset;
    end = r.value.payloadEnd;
    protocol = r.value.upperProtocol;
  } else {
    return fail('ipv4', 'version', `IP version ${version} is neither 4 nor 6`, off);
  }
  if (protocol !== IPPROTO_TCP) {
    return fail(version === 4 ? 'ipv4' : 'ipv6', 'protocol', `carries protocol ${protocol}, not TCP`, off);
  }
  const tcp = parseTcpSegment(buf, l4, end);
  if (!tcp.ok) return tcp;
  const src = ip.header.src;
  const dst = ip.header.dst;
  return ok({
    ip,
    src,
    dst,
    tcp: tcp.value,
    tcpOffset: l4,
    tcpEnd: end,
    ipChecksumValid,
    tcpChecksumValid: tcpChecksumValid(buf, l4, end, src, dst),
  });
}
