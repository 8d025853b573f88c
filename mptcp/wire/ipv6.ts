/**
 * IPv6 header (RFC 8200): the fixed 40-byte header and the walk over extension headers to
 * the upper-layer protocol (§4). Extension headers are kept as raw bytes so that emit is
 * exact; we never originate any. ESP (50) cannot be walked past and is reported as the
 * upper-layer protocol; jumbograms (RFC 2675) are refused.
 */
import { checkUint, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { fail, ok, WireEncodeError, type ParseResult } from './result.js';

export const IPV6_HEADER = 40;

export interface Ipv6ExtensionHeader {
  /** Next Header value that introduced this header (0, 43, 44, 51, 60, 135, 139, 140). */
  type: number;
  /** The whole extension header, its own Next Header byte included. */
  bytes: Uint8Array;
}

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** Next Header of the fixed header (the first extension header's type, or the upper layer). */
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  extensionHeaders: Ipv6ExtensionHeader[];
}

export interface Ipv6Parsed {
  header: Ipv6Header;
  /** Protocol of the payload after the last extension header (6 for TCP). */
  upperProtocol: number;
  /** Offset of the upper-layer header within `buf`. */
  upperOffset: number;
  /** Offset just past the payload per Payload Length. */
  payloadEnd: number;
  /** True when a Fragment header is present with a non-zero offset or the M flag. */
  fragmented: boolean;
}

/** Extension header types we can step over, with how each states its length. */
const EXT_8OCTET_UNITS = new Set([0, 43, 60, 135, 139, 140]); // HBH, Routing, DestOpts, Mobility, HIP, Shim6
const EXT_HOP_BY_HOP = 0;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_NO_NEXT = 59;

export function parseIpv6Header(buf: Uint8Array, off = 0): ParseResult<Ipv6Parsed> {
  const avail = buf.length - off;
  if (avail < IPV6_HEADER) return fail('ipv6', 'header', `needs ${IPV6_HEADER} bytes, have ${avail}`, off);
  const version = buf[off] >>> 4;
  if (version !== 6) return fail('ipv6', 'version', `must be 6, is ${version}`, off);
  const word0 = readU32(buf, off);
  const payloadLength = readU16(buf, off + 4);
  if (payloadLength === 0) {
    return fail('ipv6', 'payloadLength', 'zero (jumbogram, RFC 2675) is not supported', off + 4);
  }
  if (IPV6_HEADER + payloadLength > avail) {
    return fail('ipv6', 'payloadLength', `${payloadLength} exceeds the ${avail - IPV6_HEADER} bytes captured`, off + 4);
  }
  const payloadEnd = off + IPV6_HEADER + payloadLength;
  const header: Ipv6Header = {
    trafficClass: (word0 >>> 20) & 0xff,
    flowLabel: word0 & 0xfffff,
    payloadLength,
    nextHeader: buf[off + 6],
    hopLimit: buf[off + 7],
    src: buf.slice(off + 8, off + 24),
    dst: buf.slice(off + 24, off + 40),
    extensionHeaders: [],
  };
  let next = header.nextHeader;
  let p = off + IPV6_HEADER;
  let fragmented = false;
  while (EXT_8OCTET_UNITS.has(next) || next === EXT_FRAGMENT || next === EXT_AH) {
    if (next === EXT_HOP_BY_HOP && p !== off + IPV6_HEADER) {
      return fail('ipv6', 'extension header 0', 'Hop-by-Hop Options must immediately follow the IPv6 header (RFC 8200 §4.1)', p);
    }
    if (p + 8 > payloadEnd) return fail('ipv6', `extension header ${next}`, 'truncated', p);
    let len: number;
    let nonFirstFragment = false;
    if (next === EXT_FRAGMENT) {
      len = 8;
      const offsetFlags = readU16(buf, p + 2);
      if ((offsetFlags & 0xfff8) !== 0 || (offsetFlags & 1) !== 0) fragmented = true;
      nonFirstFragment = (offsetFlags & 0xfff8) !== 0;
    } else if (next === EXT_AH) {
      len = (buf[p + 1] + 2) * 4; // RFC 4302 §2.2: in 4-octet units, minus 2
    } else {
      len = (buf[p + 1] + 1) * 8; // RFC 8200 §4.3: in 8-octet units, not counting the first
    }
    if (p + len > payloadEnd) return fail('ipv6', `extension header ${next}`, `length ${len} overruns the payload`, p);
    header.extensionHeaders.push({ type: next, bytes: buf.slice(p, p + len) });
    next = buf[p];
    p += len;
    // After a non-first fragment's header comes a piece of the Fragmentable Part, not headers
    // (RFC 8200 §4.5): stop, reporting the Next Header the Fragment header names.
    if (nonFirstFragment) break;
  }
  if (next === EXT_NO_NEXT) return ok({ header, upperProtocol: next, upperOffset: payloadEnd, payloadEnd, fragmented });
  return ok({ header, upperProtocol: next, upperOffset: p, payloadEnd, fragmented });
}

export function ipv6HeaderLength(h: Ipv6Header): number {
  let n = IPV6_HEADER;
  for (const e of h.extensionHeaders) n += e.bytes.length;
  return n;
}

/** Writes the fixed header and extension headers as given; returns the bytes written. */
export function emitIpv6Header(h: Ipv6Header, buf: Uint8Array, off = 0): number {
  if (h.src.length !== 16 || h.dst.length !== 16) {
    throw new WireEncodeError('ipv6', 'address', 'IPv6 addresses are 16 bytes');
  }
  checkUint('ipv6', 'trafficClass', h.trafficClass, 8);
  checkUint('ipv6', 'flowLabel', h.flowLabel, 20);
  checkUint('ipv6', 'payloadLength', h.payloadLength, 16);
  checkUint('ipv6', 'nextHeader', h.nextHeader, 8);
  checkUint('ipv6', 'hopLimit', h.hopLimit, 8);
  writeU32(buf, off, (0x6 << 28) + (h.trafficClass << 20) + h.flowLabel);
  writeU16(buf, off + 4, h.payloadLength);
  buf[off + 6] = h.nextHeader;
  buf[off + 7] = h.hopLimit;
  buf.set(h.src, off + 8);
  buf.set(h.dst, off + 24);
  let p = off + IPV6_HEADER;
  for (const e of h.extensionHeaders) {
    buf.set(e.bytes, p);
    p += e.bytes.length;
  }
  return p - off;
}
