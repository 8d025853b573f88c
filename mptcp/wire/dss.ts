/**
 * DSS (RFC 8684 §3.3) on the hot path: read into and write from a reusable `DssFields`
 * struct, with 64-bit values as two u32 halves. One DSS rides on nearly every MPTCP data
 * segment, so this code allocates nothing and touches no BigInt.
 *
 * Layout after kind, length and byte 2 (subtype 0x2 | reserved nibble), byte 3 = flags:
 *   [Data ACK: 4 or 8] [DSN: 4 or 8, subflow seq: 4, data-level length: 2, checksum: 0 or 2]
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import {
  DSS_FLAG_ACK,
  DSS_FLAG_ACK64,
  DSS_FLAG_DSN64,
  DSS_FLAG_MAPPING,
  MptcpSubtype,
  TCPOPT_MPTCP,
} from './mptcp-option-types.js';

export class DssFields {
  /** Byte 2's low nibble (reserved). */
  reserved = 0;
  /** Byte 3: F m M a A (and 3 reserved high bits). */
  flags = 0;
  dataAckHi = 0;
  dataAckLo = 0;
  dsnHi = 0;
  dsnLo = 0;
  subflowSeq = 0;
  dataLength = 0;
  hasChecksum = false;
  checksum = 0;

  clear(): void {
    this.reserved = 0;
    this.flags = 0;
    this.dataAckHi = this.dataAckLo = 0;
    this.dsnHi = this.dsnLo = 0;
    this.subflowSeq = this.dataLength = 0;
    this.hasChecksum = false;
    this.checksum = 0;
  }
}

/** Option length implied by the flags, without (false) or with (true) a checksum. */
export function dssLength(flags: number, hasChecksum: boolean): number {
  let n = 4;
  if (flags & DSS_FLAG_ACK) n += flags & DSS_FLAG_ACK64 ? 8 : 4;
  if (flags & DSS_FLAG_MAPPING) n += (flags & DSS_FLAG_DSN64 ? 8 : 4) + 6 + (hasChecksum ? 2 : 0);
  return n;
}

/**
 * Reads a DSS whose kind byte is at `off` and whose length byte is `len`. Returns null on
 * success, or the rule broken (a string: the caller wraps it in a WireError, so that the
 * success path allocates nothing).
 */
export function readDss(buf: Uint8Array, off: number, len: number, out: DssFields): string | null {
  const flags = buf[off + 3];
  const base = dssLength(flags, false);
  const hasChecksum = (flags & DSS_FLAG_MAPPING) !== 0 && len === base + 2;
  if (len !== base && !hasChecksum) {
    return flags & DSS_FLAG_MAPPING
      ? `length ${len} does not match flags 0x${flags.toString(16)}: must be ${base} or ${base + 2} with a checksum (RFC 8684 §3.3)`
      : `length ${len} does not match flags 0x${flags.toString(16)}: must be ${base} (RFC 8684 §3.3)`;
  }
  out.reserved = buf[off + 2] & 0x0f;
  out.flags = flags;
  let p = off + 4;
  out.dataAckHi = out.dataAckLo = 0;
  if (flags & DSS_FLAG_ACK) {
    if (flags & DSS_FLAG_ACK64) {
      out.dataAckHi = readU32(buf, p);
      p += 4;
    }
    out.dataAckLo = readU32(buf, p);
    p += 4;
  }
  out.dsnHi = out.dsnLo = out.subflowSeq = out.dataLength = out.checksum = 0;
  out.hasChecksum = hasChecksum;
  if (flags & DSS_FLAG_MAPPING) {
    if (flags & DSS_FLAG_DSN64) {
      out.dsnHi = readU32(buf, p);
      p += 4;
    }
    out.dsnLo = readU32(buf, p);
    out.subflowSeq = readU32(buf, p + 4);
    out.dataLength = readU16(buf, p + 8);
    if (hasChecksum) out.checksum = readU16(buf, p + 10);
  }
  return null;
}

/** Writes the DSS described by `f` at `off` (kind byte first); returns its length. */
export function writeDss(buf: Uint8Array, off: number, f: DssFields): number {
  const flags = f.flags;
  const len = dssLength(flags, f.hasChecksum && (flags & DSS_FLAG_MAPPING) !== 0);
  buf[off] = TCPOPT_MPTCP;
  buf[off + 1] = len;
  buf[off + 2] = (MptcpSubtype.DSS << 4) | (f.reserved & 0x0f);
  buf[off + 3] = flags;
  let p = off + 4;
  if (flags & DSS_FLAG_ACK) {
    if (flags & DSS_FLAG_ACK64) {
      writeU32(buf, p, f.dataAckHi);
      p += 4;
    }
    writeU32(buf, p, f.dataAckLo);
    p += 4;
  }
  if (flags & DSS_FLAG_MAPPING) {
    if (flags & DSS_FLAG_DSN64) {
      writeU32(buf, p, f.dsnHi);
      p += 4;
    }
    writeU32(buf, p, f.dsnLo);
    writeU32(buf, p + 4, f.subflowSeq);
    writeU16(buf, p + 8, f.dataLength);
    p += 10;
    if (f.hasChecksum) {
      writeU16(buf, p, f.checksum);
      p += 2;
    }
  }
  return p - off;
}
