/**
 * IPv4 header (RFC 791): representation, parser and emitter, plus checksum helpers.
 * Options are kept as opaque bytes (we never originate any); the header checksum is a field
 * of the representation so that emit(parse(bytes)) is exact, and `fillIpv4Checksum`
 * computes it for headers we originate.
 */
import { checkUint, readU16, writeU16 } from './bytes.js';
import { internetChecksum, sumVerifies, sumWords } from './checksum.js';
import { fail, ok, WireEncodeError, type ParseResult } from './result.js';

export const IPV4_MIN_HEADER = 20;
export const IPPROTO_TCP = 6;

export interface Ipv4Header {
  /** The whole second byte: DSCP (6 bits) and ECN (2 bits). */
  tos: number;
  totalLength: number;
  identification: number;
  /** 3 bits: reserved (0x4), DF (0x2), MF (0x1). */
  flags: number;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Header option bytes (a multiple of 4 long, at most 40). */
  options: Uint8Array;
}

export const IPV4_FLAG_DF = 0x2;
export const IPV4_FLAG_MF = 0x1;

/** Parsed header plus where the payload is, relative to the start of `buf`. */
export interface Ipv4Parsed {
  header: Ipv4Header;
  headerLength: number;
  /** Payload end per Total Length (frames may carry link-layer padding after it). */
  payloadEnd: number;
}

export function parseIpv4Header(buf: Uint8Array, off = 0): ParseResult<Ipv4Parsed> {
  const avail = buf.length - off;
  if (avail < IPV4_MIN_HEADER) {
    return fail('ipv4', 'header', `needs ${IPV4_MIN_HEADER} bytes, have ${avail}`, off);
  }
  const version = buf[off] >>> 4;
  if (version !== 4) return fail('ipv4', 'version', `must be 4, is ${version}`, off);
  const headerLength = (buf[off] & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER) {
    return fail('ipv4', 'IHL', `must be at least 5 words (RFC 791), is ${headerLength / 4}`, off);
  }
  if (headerLength > avail) {
    return fail('ipv4', 'IHL', `header of ${headerLength} bytes exceeds the ${avail} available`, off);
  }
  const totalLength = readU16(buf, off + 2);
  if (totalLength < headerLength) {
    return fail('ipv4', 'totalLength', `${totalLength} is shorter than the header (${headerLength})`, off + 2);
  }
  if (totalLength > avail) {
    return fail('ipv4', 'totalLength', `${totalLength} exceeds the ${avail} bytes captured`, off + 2);
  }
  const flagsFrag = readU16(buf, off + 6);
  const header: Ipv4Header = {
    tos: buf[off + 1],
    totalLength,
    identification: readU16(buf, off + 4),
    flags: flagsFrag >>> 13,
    fragmentOffset: flagsFrag & 0x1fff,
    ttl: buf[off + 8],
    protocol: buf[off + 9],
    checksum: readU16(buf, off + 10),
    src: buf.slice(off + 12, off + 16),
    dst: buf.slice(off + 16, off + 20),
    options: buf.slice(off + 20, off + headerLength),
  };
  return ok({ header, headerLength, payloadEnd: off + totalLength });
}

export function ipv4HeaderLength(h: Ipv4Header): number {
  return IPV4_MIN_HEADER + h.options.length;
}

/** Writes the header as given (checksum included) at `off`; returns its length. */
export function emitIpv4Header(h: Ipv4Header, buf: Uint8Array, off = 0): number {
  const len = ipv4HeaderLength(h);
  if (h.options.length % 4 !== 0 || h.options.length > 40) {
    throw new WireEncodeError('ipv4', 'options', 'must be a multiple of 4 bytes, at most 40');
  }
  if (h.src.length !== 4 || h.dst.length !== 4) {
    throw new WireEncodeError('ipv4', 'address', 'IPv4 addresses are 4 bytes');
  }
  checkUint('ipv4', 'totalLength', h.totalLength, 16);
  checkUint('ipv4', 'flags', h.flags, 3);
  checkUint('ipv4', 'fragmentOffset', h.fragmentOffset, 13);
  checkUint('ipv4', 'tos', h.tos, 8);
  checkUint('ipv4', 'identification', h.identification, 16);
  checkUint('ipv4', 'ttl', h.ttl, 8);
  checkUint('ipv4', 'protocol', h.protocol, 8);
  checkUint('ipv4', 'checksum', h.checksum, 16);
  buf[off] = 0x40 | (len >>> 2);
  buf[off + 1] = h.tos;
  writeU16(buf, off + 2, h.totalLength);
  writeU16(buf, off + 4, h.identification);
  writeU16(buf, off + 6, (h.flags << 13) | h.fragmentOffset);
  buf[off + 8] = h.ttl;
  buf[off + 9] = h.protocol;
  writeU16(buf, off + 10, h.checksum);
  buf.set(h.src, off + 12);
  buf.set(h.dst, off + 16);
  buf.set(h.options, off + 20);
  return len;
}

/**
 * Hot-path writer for the 20-byte header we originate (no options, DF set, not a fragment),
 * checksum included; no allocation. Returns 20.
 */
export function writeIpv4Header(
  buf: Uint8Array,
  off: number,
  tos: number,
  totalLength: number,
  identification: number,
  ttl: number,
  protocol: number,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  buf[off] = 0x45;
  buf[off + 1] = tos;
  writeU16(buf, off + 2, totalLength);
  writeU16(buf, off + 4, identification);
  buf[off + 6] = IPV4_FLAG_DF << 5;
  buf[off + 7] = 0;
  buf[off + 8] = ttl;
  buf[off + 9] = protocol;
  buf[off + 10] = buf[off + 11] = 0;
  buf[off + 12] = src[0];
  buf[off + 13] = src[1];
  buf[off + 14] = src[2];
  buf[off + 15] = src[3];
  buf[off + 16] = dst[0];
  buf[off + 17] = dst[1];
  buf[off + 18] = dst[2];
  buf[off + 19] = dst[3];
  writeU16(buf, off + 10, internetChecksum(buf, off, off + IPV4_MIN_HEADER));
  return IPV4_MIN_HEADER;
}

/** Computes and writes the header checksum of the header at `off`; returns it. */
export function fillIpv4Checksum(buf: Uint8Array, off = 0): number {
  const len = (buf[off] & 0x0f) * 4;
  writeU16(buf, off + 10, 0);
  const c = internetChecksum(buf, off, off + len);
  writeU16(buf, off + 10, c);
  return c;
}

export function ipv4ChecksumValid(buf: Uint8Array, off = 0): boolean {
  const len = (buf[off] & 0x0f) * 4;
  return sumVerifies(sumWords(buf, off, off + len));
}
