/**
 * pcapng reader (draft-ietf-opsawg-pcapng): Section Header Blocks in either byte order,
 * Interface Description Blocks (link type, snaplen, if_tsresol, if_tsoffset), Enhanced,
 * Simple and obsolete Packet Blocks; every other block type is skipped. Interfaces are
 * numbered per section, as the format says. Called by `parseCaptureFile`, which owns format
 * detection; packet data is returned as views into the input, never copied.
 */
import { fail, ok, type ParseResult, type WireError } from '../wire/result.js';
import { MAX_CAPTURE_LENGTH, type CaptureFile, type CapturedPacket } from './capture-types.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_OPB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const SHB_MIN = 28;
/** Wireshark's upper bound on any block; larger lengths are corruption, not big blocks. */
const MAX_BLOCK = 16 * 1024 * 1024;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Iface {
  readonly linkType: number;
  /** 0 = no limit. */
  readonly snaplen: number;
  /** Timestamp units to nanoseconds: units * mul / div + offsetNs. */
  readonly mul: bigint;
  readonly div: bigint;
  readonly offsetNs: bigint;
}

export function parsePcapng(bytes: Uint8Array, dv: DataView): ParseResult<CaptureFile> {
  const n = bytes.length;
  const packets: CapturedPacket[] = [];
  let ifaces: Iface[] = [];
  let le = false;
  let off = 0;
  const cut = (field: string, rule: string, offset: number): ParseResult<CaptureFile> =>
    ok({ format: 'pcapng', packets, truncated: { layer: 'pcap', field, rule, offset } });

  while (off < n) {
    const left = n - off;
    const isShb = left >= 4 && dv.getUint32(off, false) === BT_SHB;
    const minimum = isShb ? SHB_MIN : 12;
    if (left < minimum) {
      const rule = `file ends ${left} bytes into a ${isShb ? 'Section Header Block' : 'block header'} (at least ${minimum} bytes)`;
      return off === 0 ? fail('pcap', 'shb', rule, 0) : cut('block', rule, off);
    }
    if (isShb) {
      const magic = dv.getUint32(off + 8, false);
      if (magic === BYTE_ORDER_MAGIC) le = false;
      else if (magic === BYTE_ORDER_MAGIC_SWAPPED) le = true;
      else return fail('pcap', 'shb.byteOrderMagic', `0x${hex32(magic)} is not 1a2b3c4d in either byte order`, off + 8);
    }
    const type = dv.getUint32(off, le);
    const total = dv.getUint32(off + 4, le);
    if (total < minimum || total % 4 !== 0 || total > MAX_BLOCK) {
      return fail('pcap', 'block.totalLength', `${total} must be a multiple of 4 between ${minimum} and ${MAX_BLOCK} (block type 0x${hex32(type)})`, off + 4);
    }
    if (total > left) {
      const rule = `block of ${total} bytes (type 0x${hex32(type)}) but the file ends after ${left}`;
      return off === 0 ? fail('pcap', 'shb', rule, 0) : cut(packetBlock(type) ? `packet[${packets.length + 1}]` : 'block', rule, off);
    }
    const trailer = dv.getUint32(off + total - 4, le);
    if (trailer !== total) {
      return fail('pcap', 'block.trailingTotalLength', `${trailer} differs from the leading total length ${total}`, off + total - 4);
    }
    const body = off + 8;
    const end = off + total - 4;
    if (type === BT_SHB) {
      const err = checkShb(dv, body, le);
      if (err !== undefined) return { ok: false, error: err };
      ifaces = [];
    } else if (type === BT_IDB) {
      const r = readIdb(dv, body, end, le);
      if (!r.ok) return r;
      ifaces.push(r.value);
    } else if (packetBlock(type)) {
      const r = readPacket(bytes, dv, type, body, end, le, ifaces, packets.length + 1);
      if (!r.ok) return r;
      packets.push(r.value);
    }
    off += total;
  }
  return ok({ format: 'pcapng', packets });
}

function packetBlock(type: number): boolean {
  return type === BT_EPB || type === BT_SPB || type === BT_OPB;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}

function checkShb(dv: DataView, body: number, le: boolean): WireError | undefined {
  const major = dv.getUint16(body + 4, le);
  const minor = dv.getUint16(body + 6, le);
  if (major !== 1) {
    return { layer: 'pcap', field: 'shb.versionMajor', rule: `version ${major}.${minor}: only pcapng 1.x is defined`, offset: body + 4 };
  }
  // 1.2 was written by old tools and means 1.0; other minors are unknown formats.
  if (minor !== 0 && minor !== 2) {
    return { layer: 'pcap', field: 'shb.versionMinor', rule: `version ${major}.${minor}: expected 1.0 (or the legacy 1.2)`, offset: body + 6 };
  }
  return undefined;
}

function readIdb(dv: DataView, body: number, end: number, le: boolean): ParseResult<Iface> {
  if (end - body < 8) return fail('pcap', 'idb', `body is ${end - body} bytes; an Interface Description Block needs 8`, body);
  const linkType = dv.getUint16(body, le);
  const snaplen = dv.getUint32(body + 4, le);
  let mul = 1000n; // default resolution 10^-6 s
  let div = 1n;
  let offsetNs = 0n;
  let o = body + 8;
  while (end - o >= 4) {
    const code = dv.getUint16(o, le);
    const len = dv.getUint16(o + 2, le);
    if (code === OPT_ENDOFOPT) break;
    const value = o + 4;
    if (len > end - value) return fail('pcap', 'idb.options', `option ${code} of ${len} bytes runs past the end of the block`, o + 2);
    if (code === OPT_IF_TSRESOL) {
      if (len !== 1) return fail('pcap', 'idb.if_tsresol', `option length ${len}; if_tsresol is 1 byte`, o + 2);
      const r = dv.getUint8(value);
      const exp = BigInt(r & 0x7f);
      if (r & 0x80) {
        mul = 1_000_000_000n;
        div = 1n << exp;
      } else if (exp <= 9n) {
        mul = 10n ** (9n - exp);
        div = 1n;
      } else {
        mul = 1n;
        div = 10n ** (exp - 9n);
      }
    } else if (code === OPT_IF_TSOFFSET) {
      if (len !== 8) return fail('pcap', 'idb.if_tsoffset', `option length ${len}; if_tsoffset is 8 bytes`, o + 2);
      offsetNs = dv.getBigInt64(value, le) * 1_000_000_000n;
    }
    o = value + ((len + 3) & ~3);
  }
  return ok({ linkType, snaplen, mul, div, offsetNs });
}

function readPacket(
  bytes: Uint8Array,
  dv: DataView,
  type: number,
  body: number,
  end: number,
  le: boolean,
  ifaces: readonly Iface[],
  index: number,
): ParseResult<CapturedPacket> {
  const f = `packet[${index}]`;
  const fixed = type === BT_SPB ? 4 : 20;
  if (end - body < fixed) return fail('pcap', `${f}.block`, `body is ${end - body} bytes; this packet block needs ${fixed}`, body);
  const ifid = type === BT_EPB ? dv.getUint32(body, le) : type === BT_OPB ? dv.getUint16(body, le) : 0;
  const iface = ifaces[ifid];
  if (iface === undefined) {
    return fail('pcap', `${f}.interfaceId`, `interface ${ifid} has no Interface Description Block in this section (${ifaces.length} defined)`, body);
  }
  const room = end - (body + fixed);
  let caplen: number;
  let origlen: number;
  let timestampNs = 0n;
  if (type === BT_SPB) {
    origlen = dv.getUint32(body, le);
    caplen = Math.min(origlen, room, iface.snaplen === 0 ? Infinity : iface.snaplen);
  } else {
    caplen = dv.getUint32(body + 12, le);
    origlen = dv.getUint32(body + 16, le);
    if (caplen > room) return fail('pcap', `${f}.capturedLength`, `${caplen} bytes do not fit in the ${room} bytes of the block`, body + 12);
    if (iface.snaplen !== 0 && caplen > iface.snaplen) {
      return fail('pcap', `${f}.capturedLength`, `${caplen} exceeds the interface snaplen ${iface.snaplen}`, body + 12);
    }
    if (origlen < caplen) return fail('pcap', `${f}.originalLength`, `${origlen} is less than the captured length ${caplen}`, body + 16);
    const units = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
    timestampNs = (units * iface.mul) / iface.div + iface.offsetNs;
  }
  if (caplen > MAX_CAPTURE_LENGTH) {
    return fail('pcap', `${f}.capturedLength`, `${caplen} exceeds the ${MAX_CAPTURE_LENGTH}-byte maximum`, type === BT_SPB ? body : body + 12);
  }
  const start = body + fixed;
  return ok({ index, linkType: iface.linkType, timestampNs, originalLength: origlen, data: bytes.subarray(start, start + caplen) });
}
