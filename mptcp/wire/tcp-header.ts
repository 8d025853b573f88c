/**
 * TCP header (RFC 9293 §3.1): representation, parser, emitter and checksum over the IPv4 or
 * IPv6 pseudo-header. The representation holds every header field as received (checksum
 * included) so that emit(parse(bytes)) is exact; `fillTcpChecksum` computes the checksum
 * for segments we originate.
 */
import { checkUint, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksumFromSum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, sumVerifies, sumWords } from './checksum.js';
import { IPPROTO_TCP } from './ipv4.js';
import { fail, ok, WireEncodeError, type ParseResult } from './result.js';
import { emitTcpOptions, parseTcpOptions, tcpOptionsLength, type TcpOption } from './tcp-options.js';

export const TCP_MIN_HEADER = 20;

/** Flag bits of byte 13 (RFC 9293 §3.1; CWR/ECE from RFC 3168). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The 4 bits between data offset and flags (reserved; the lowest is AccECN's AE). */
  reserved: number;
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  options: TcpOption[];
}

export interface TcpParsed {
  header: TcpHeader;
  headerLength: number;
  /** Payload bounds within the buffer given to the parser. */
  payloadOffset: number;
  payloadEnd: number;
}

/** Parses the TCP segment occupying [off, end) of `buf`. */
export function parseTcpSegment(buf: Uint8Array, off: number, end: number): ParseResult<TcpParsed> {
  if (off < 0 || end > buf.length || off > end) return fail('tcp', 'bounds', `[${off}, ${end}) is not inside the ${buf.length}-byte buffer`);
  const avail = end - off;
  if (avail < TCP_MIN_HEADER) return fail('tcp', 'header', `needs ${TCP_MIN_HEADER} bytes, have ${avail}`, off);
  const headerLength = (buf[off + 12] >>> 4) * 4;
  if (headerLength < TCP_MIN_HEADER) {
    return fail('tcp', 'dataOffset', `must be at least 5 words (RFC 9293 §3.1), is ${headerLength / 4}`, off + 12);
  }
  if (headerLength > avail) {
    return fail('tcp', 'dataOffset', `header of ${headerLength} bytes exceeds the ${avail}-byte segment`, off + 12);
  }
  const options = parseTcpOptions(buf, off + TCP_MIN_HEADER, off + headerLength);
  if (!options.ok) return options;
  return ok({
    header: {
      srcPort: readU16(buf, off),
      dstPort: readU16(buf, off + 2),
      seq: readU32(buf, off + 4),
      ack: readU32(buf, off + 8),
      reserved: buf[off + 12] & 0x0f,
      flags: buf[off + 13],
      window: readU16(buf, off + 14),
      checksum: readU16(buf, off + 16),
      urgentPointer: readU16(buf, off + 18),
      options: options.value,
    },
    headerLength,
    payloadOffset: off + headerLength,
    payloadEnd: end,
  });
}

export function tcpHeaderLength(h: TcpHeader): number {
  return TCP_MIN_HEADER + ((tcpOptionsLength(h.options) + 3) & ~3);
}

/** Writes the header and options (padded to 4 bytes) at `off`; returns the header length. */
export function emitTcpHeader(h: TcpHeader, buf: Uint8Array, off = 0): number {
  checkUint('tcp', 'srcPort', h.srcPort, 16);
  checkUint('tcp', 'dstPort', h.dstPort, 16);
  checkUint('tcp', 'seq', h.seq, 32);
  checkUint('tcp', 'ack', h.ack, 32);
  checkUint('tcp', 'reserved', h.reserved, 4);
  checkUint('tcp', 'flags', h.flags, 8);
  checkUint('tcp', 'window', h.window, 16);
  checkUint('tcp', 'checksum', h.checksum, 16);
  checkUint('tcp', 'urgentPointer', h.urgentPointer, 16);
  const optLen = emitTcpOptions(h.options, buf, off + TCP_MIN_HEADER);
  const len = TCP_MIN_HEADER + optLen;
  if (len > 60) throw new WireEncodeError('tcp', 'options', 'header exceeds 60 bytes');
  writeU16(buf, off, h.srcPort);
  writeU16(buf, off + 2, h.dstPort);
  writeU32(buf, off + 4, h.seq);
  writeU32(buf, off + 8, h.ack);
  buf[off + 12] = ((len >>> 2) << 4) | h.reserved;
  buf[off + 13] = h.flags;
  writeU16(buf, off + 14, h.window);
  writeU16(buf, off + 16, h.checksum);
  writeU16(buf, off + 18, h.urgentPointer);
  return len;
}

/** Pseudo-header sum for a TCP segment between `src` and `dst` (4 or 16 bytes each). */
export function tcpPseudoHeaderSum(src: Uint8Array, dst: Uint8Array, segmentLength: number): number {
  return src.length === 4
    ? ipv4PseudoHeaderSum(src, dst, IPPROTO_TCP, segmentLength)
    : ipv6PseudoHeaderSum(src, dst, IPPROTO_TCP, segmentLength);
}

/** Computes and writes the checksum of the segment in [off, end); returns it. */
export function fillTcpChecksum(buf: Uint8Array, off: number, end: number, src: Uint8Array, dst: Uint8Array): number {
  writeU16(buf, off + 16, 0);
  const c = checksumFromSum(sumWords(buf, off, end, tcpPseudoHeaderSum(src, dst, end - off)));
  writeU16(buf, off + 16, c);
  return c;
}

export function tcpChecksumValid(buf: Uint8Array, off: number, end: number, src: Uint8Array, dst: Uint8Array): boolean {
  return sumVerifies(sumWords(buf, off, end, tcpPseudoHeaderSum(src, dst, end - off)));
}
