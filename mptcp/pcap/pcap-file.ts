/**
 * Capture files, pure and in memory: `parseCaptureFile` detects and reads classic pcap
 * (micro- or nanosecond magic, either byte order) and pcapng (delegated to ./pcapng.ts), and
 * `writePcap` emits classic little-endian nanosecond pcap. Used by `mptcp-proxy decode` and
 * by tests that hand our own segments to Wireshark. No I/O: callers read and write the file.
 *
 * Contract (see ../wire/result.ts): parsing never throws. A bad magic or corrupt header or
 * record is an error; a file that merely stops in the middle of a record returns the
 * packets before the cut plus `truncated`. Packet data are views into the input.
 */
import { fail, ok, WireEncodeError, type ParseResult } from '../wire/result.js';
import { MAX_CAPTURE_LENGTH, type CaptureFile, type CapturedPacket } from './capture-types.js';
import { parsePcapng } from './pcapng.js';

export * from './capture-types.js';

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
/** Alexey Kuznetzov's "modified" pcap: different record header, not supported. */
const MAGIC_MODIFIED = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const NS_PER_S = 1_000_000_000n;

export function parseCaptureFile(bytes: Uint8Array): ParseResult<CaptureFile> {
  if (bytes.length < 4) {
    return fail('pcap', 'magic', `file is ${bytes.length} bytes, too short for a capture file's 4-byte magic number`, 0);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = dv.getUint32(0, false);
  if (be === PCAPNG_SHB) return parsePcapng(bytes, dv);
  const le = dv.getUint32(0, true);
  if (be === MAGIC_MICRO || be === MAGIC_NANO) return parseClassic(bytes, dv, false, be === MAGIC_NANO);
  if (le === MAGIC_MICRO || le === MAGIC_NANO) return parseClassic(bytes, dv, true, le === MAGIC_NANO);
  if (be === MAGIC_MODIFIED || le === MAGIC_MODIFIED) {
    return fail('pcap', 'magic', 'modified (Kuznetzov) pcap, magic a1b2cd34, is not supported: convert with editcap -F pcap', 0);
  }
  return fail(
    'pcap',
    'magic',
    `0x${be.toString(16).padStart(8, '0')} is neither a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) nor a pcapng Section Header Block (0a0d0d0a)`,
    0,
  );
}

function parseClassic(bytes: Uint8Array, dv: DataView, le: boolean, nano: boolean): ParseResult<CaptureFile> {
  const n = bytes.length;
  if (n < GLOBAL_HEADER) return fail('pcap', 'header', `file ends after ${n} bytes of the ${GLOBAL_HEADER}-byte global header`, 0);
  const major = dv.getUint16(4, le);
  const minor = dv.getUint16(6, le);
  if (major !== 2) return fail('pcap', 'versionMajor', `version ${major}.${minor}: classic pcap is version 2.4`, 4);
  if (minor > 4) return fail('pcap', 'versionMinor', `version ${major}.${minor}: no pcap minor version above 4 exists`, 6);
  const snaplen = dv.getUint32(16, le);
  const network = dv.getUint32(20, le);
  // Bits 0-15: link type; 16-25: reserved (must be 0); 26-31: FCS length and flag.
  if ((network & 0x03ff0000) !== 0) {
    return fail('pcap', 'linkType', `0x${network.toString(16)}: bits 16-25 of the link-type field are reserved and must be zero`, 20);
  }
  const linkType = network & 0xffff;
  const limit = snaplen === 0 ? MAX_CAPTURE_LENGTH : Math.min(snaplen, MAX_CAPTURE_LENGTH);
  const limitName = limit === snaplen ? `the snaplen ${snaplen}` : `the ${MAX_CAPTURE_LENGTH}-byte maximum`;
  const fracLimit = nano ? 1_000_000_000 : 1_000_000;
  const fracToNs = nano ? 1n : 1000n;
  const packets: CapturedPacket[] = [];
  const truncated = (field: string, rule: string, offset: number): ParseResult<CaptureFile> =>
    ok({ format: 'pcap', packets, truncated: { layer: 'pcap', field, rule, offset } });

  let off = GLOBAL_HEADER;
  while (off < n) {
    const index = packets.length + 1;
    const f = `record[${index}]`;
    if (n - off < RECORD_HEADER) {
      return truncated(`${f}.header`, `file ends ${n - off} bytes into the ${RECORD_HEADER}-byte record header`, off);
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    const origlen = dv.getUint32(off + 12, le);
    if (frac >= fracLimit) {
      return fail('pcap', `${f}.timestampFraction`, `${frac} is not below ${fracLimit} (${nano ? 'nano' : 'micro'}seconds)`, off + 4);
    }
    if (caplen > limit) return fail('pcap', `${f}.capturedLength`, `${caplen} exceeds ${limitName}`, off + 8);
    if (origlen < caplen) return fail('pcap', `${f}.originalLength`, `${origlen} is less than the captured length ${caplen}`, off + 12);
    const start = off + RECORD_HEADER;
    if (n - start < caplen) {
      return truncated(`${f}.data`, `record holds ${caplen} captured bytes but the file ends after ${n - start}`, start);
    }
    packets.push({
      index,
      linkType,
      timestampNs: BigInt(sec) * NS_PER_S + BigInt(frac) * fracToNs,
      originalLength: origlen,
      data: bytes.subarray(start, start + caplen),
    });
    off = start + caplen;
  }
  return ok({ format: 'pcap', packets });
}

export interface PcapWritePacket {
  readonly data: Uint8Array;
  /** Nanoseconds since the Unix epoch; must fit pcap's unsigned 32-bit seconds. */
  readonly timestampNs: bigint;
  /** Length on the wire; defaults to `data.length`. */
  readonly originalLength?: number;
}

function checkU32(field: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) {
    throw new WireEncodeError('pcap', field, `${v} is not an integer in ${min}..${0xffffffff}`);
  }
}

/**
 * Classic pcap, little-endian, nanosecond timestamps (magic a1b23c4d), version 2.4.
 * Throws WireEncodeError for values the format cannot hold, including a packet longer than
 * the snaplen (default and maximum useful value: 256 KiB), which no reader would accept.
 */
export function writePcap(packets: readonly PcapWritePacket[], linkType: number, opts: { snaplen?: number } = {}): Uint8Array {
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new WireEncodeError('pcap', 'linkType', `${linkType} is not a 16-bit link type`);
  }
  const snaplen = opts.snaplen ?? MAX_CAPTURE_LENGTH;
  checkU32('snaplen', snaplen, 1);
  const limit = Math.min(snaplen, MAX_CAPTURE_LENGTH);
  let total = GLOBAL_HEADER;
  for (const p of packets) total += RECORD_HEADER + p.data.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC_NANO, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  // thiszone (8) and sigfigs (12) stay 0, as every modern writer leaves them.
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, linkType, true);
  let off = GLOBAL_HEADER;
  packets.forEach((p, i) => {
    const f = `packets[${i}]`;
    const caplen = p.data.length;
    if (caplen > limit) {
      throw new WireEncodeError('pcap', `${f}.data`, `${caplen} bytes exceed the snaplen ${limit}; raise opts.snaplen (max ${MAX_CAPTURE_LENGTH})`);
    }
    const origlen = p.originalLength ?? caplen;
    checkU32(`${f}.originalLength`, origlen, caplen);
    const sec = p.timestampNs / NS_PER_S;
    if (p.timestampNs < 0n || sec > 0xffffffffn) {
      throw new WireEncodeError('pcap', `${f}.timestampNs`, `${p.timestampNs} is outside pcap's unsigned 32-bit seconds since 1970`);
    }
    dv.setUint32(off, Number(sec), true);
    dv.setUint32(off + 4, Number(p.timestampNs % NS_PER_S), true);
    dv.setUint32(off + 8, caplen, true);
    dv.setUint32(off + 12, origlen, true);
    out.set(p.data, off + RECORD_HEADER);
    off += RECORD_HEADER + caplen;
  });
  return out;
}
