/**
 * The per-segment hot path: read a TCP segment's header and the options a data path needs
 * (timestamps, SACK, DSS) into a reusable `SegmentView`, and write a data segment's header
 * with timestamps and DSS, without allocating and without BigInt.
 *
 * This is the "packet view" to tcp-header.ts's "representation" (as in smoltcp): engines
 * use it for every segment; handshake and control options (MP_CAPABLE, MP_JOIN, ADD_ADDR,
 * ...) are rare, so the view only records where they are and the control path parses them
 * with the full codec (parseMptcpOption). The same strictness applies as there: framing
 * errors reject the segment, a known option with a bad length is ignored and counted.
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { DssFields, readDss, writeDss } from './dss.js';
import { MptcpSubtype, TCPOPT_MPTCP } from './mptcp-option-types.js';
import {
  TCPOPT_EOL,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED,
  TCPOPT_TIMESTAMPS,
  TCPOPT_WINDOW_SCALE,
} from './tcp-options.js';

export const MAX_SACK_BLOCKS = 4;
/** At most 40 bytes of options, so at most 13 three-byte MPTCP options. */
const MAX_CONTROL_OPTIONS = 13;

export class SegmentView {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  headerLength = 0;
  payloadOffset = 0;
  payloadLength = 0;

  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsval = 0;
  tsecr = 0;
  sackCount = 0;
  readonly sackLeft = new Uint32Array(MAX_SACK_BLOCKS);
  readonly sackRight = new Uint32Array(MAX_SACK_BLOCKS);

  hasDss = false;
  readonly dss = new DssFields();
  /** Offsets (in the scanned buffer) of MPTCP options other than DSS, for the control path. */
  controlCount = 0;
  readonly controlOffsets = new Int32Array(MAX_CONTROL_OPTIONS);
  /** Known options ignored for a bad length (RFC-conformant receivers skip them). */
  ignoredOptions = 0;
  /** Why the segment was rejected, when scanSegment returned false. */
  error = '';
}

function reject(v: SegmentView, why: string): false {
  v.error = why;
  return false;
}

/**
 * Scans the TCP segment in [off, end) of `buf` into `v`. Returns false (with v.error set) for
 * a segment that cannot be processed: shorter than its header, or with broken option framing.
 */
export function scanSegment(buf: Uint8Array, off: number, end: number, v: SegmentView): boolean {
  if (end - off < 20) return reject(v, 'segment shorter than 20 bytes');
  const hl = (buf[off + 12] >>> 4) << 2;
  if (hl < 20 || off + hl > end) return reject(v, 'bad data offset');
  v.srcPort = readU16(buf, off);
  v.dstPort = readU16(buf, off + 2);
  v.seq = readU32(buf, off + 4);
  v.ack = readU32(buf, off + 8);
  v.flags = buf[off + 13];
  v.window = readU16(buf, off + 14);
  v.headerLength = hl;
  v.payloadOffset = off + hl;
  v.payloadLength = end - off - hl;
  v.mss = v.windowScale = -1;
  v.sackPermitted = v.hasTimestamps = v.hasDss = false;
  v.sackCount = v.controlCount = v.ignoredOptions = 0;
  v.error = '';

  let p = off + 20;
  const optEnd = off + hl;
  while (p < optEnd) {
    const kind = buf[p];
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= optEnd) return reject(v, 'option without length byte');
    const len = buf[p + 1];
    if (len < 2 || p + len > optEnd) return reject(v, 'option length out of bounds');
    switch (kind) {
      case TCPOPT_TIMESTAMPS:
        if (len === 10) {
          v.hasTimestamps = true;
          v.tsval = readU32(buf, p + 2);
          v.tsecr = readU32(buf, p + 6);
        } else v.ignoredOptions++;
        break;
      case TCPOPT_SACK:
        if (len >= 10 && (len - 2) % 8 === 0) {
          for (let q = p + 2; q < p + len && v.sackCount < MAX_SACK_BLOCKS; q += 8) {
            v.sackLeft[v.sackCount] = readU32(buf, q);
            v.sackRight[v.sackCount] = readU32(buf, q + 4);
            v.sackCount++;
          }
        } else v.ignoredOptions++;
        break;
      case TCPOPT_MSS:
        if (len === 4) v.mss = readU16(buf, p + 2);
        else v.ignoredOptions++;
        break;
      case TCPOPT_WINDOW_SCALE:
        if (len === 3) v.windowScale = buf[p + 2];
        else v.ignoredOptions++;
        break;
      case TCPOPT_SACK_PERMITTED:
        if (len === 2) v.sackPermitted = true;
        else v.ignoredOptions++;
        break;
      case TCPOPT_MPTCP:
        if (len >= 4 && buf[p + 2] >>> 4 === MptcpSubtype.DSS) {
          // A second DSS in one segment is not meaningful; the first one wins.
          if (!v.hasDss && readDss(buf, p, len, v.dss) === null) v.hasDss = true;
          else v.ignoredOptions++;
        } else if (len >= 3) {
          v.controlOffsets[v.controlCount++] = p;
        } else v.ignoredOptions++;
        break;
      default:
        break;
    }
    p += len;
  }
  return true;
}

/** Bytes of NOP, NOP, timestamps: the 12-byte aligned form every stack sends (RFC 7323 App. A). */
export const TIMESTAMPS_ALIGNED_LENGTH = 12;

/**
 * Writes a TCP header at `off` for a data path segment: fixed header, then (when
 * `withTimestamps`) NOP NOP TS, then the DSS in `dss` when given, zero-padded to 4 bytes.
 * Returns the header length. The checksum field is left zero; fill it when the payload is
 * in place (tcp-header.ts fillTcpChecksum).
 */
export function writeDataSegmentHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  withTimestamps: boolean,
  tsval: number,
  tsecr: number,
  dss: DssFields | null,
): number {
  let p = off + 20;
  if (withTimestamps) {
    buf[p] = TCPOPT_NOP;
    buf[p + 1] = TCPOPT_NOP;
    buf[p + 2] = TCPOPT_TIMESTAMPS;
    buf[p + 3] = 10;
    writeU32(buf, p + 4, tsval);
    writeU32(buf, p + 8, tsecr);
    p += 12;
  }
  if (dss !== null) p += writeDss(buf, p, dss);
  while ((p - off) & 3) buf[p++] = TCPOPT_EOL;
  const hl = p - off;
  writeU16(buf, off, srcPort);
  writeU16(buf, off + 2, dstPort);
  writeU32(buf, off + 4, seq);
  writeU32(buf, off + 8, ack);
  buf[off + 12] = (hl >>> 2) << 4;
  buf[off + 13] = flags;
  writeU16(buf, off + 14, window);
  writeU16(buf, off + 16, 0);
  writeU16(buf, off + 18, 0);
  return hl;
}
