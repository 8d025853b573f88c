/**
 * fast-check arbitraries for every representation the wire layer can put on the wire:
 * each MPTCP v1 suboption in each of its legal lengths (RFC 8684 §3), TCP option lists
 * that fit the 40-byte option space (RFC 9293 §3.1), TCP headers, IPv4 headers with
 * options (RFC 791), IPv6 headers with consistent extension-header chains (RFC 8200 §4),
 * and whole IPv4/IPv6 TCP packets with MPTCP options and correct checksums.
 *
 * Every value generated here is one the codec must round-trip exactly: parse(emit(x))
 * deep-equals x. Optional fields are left out (never set to undefined), as the parsers do.
 * Lengths are computed here from the RFC layouts, not with the codec's length functions.
 */
import fc from 'fast-check';
import type {
  AddAddrOption,
  DssOption,
  MpCapableOption,
  MpFailOption,
  MpFastcloseOption,
  MpJoinAckOption,
  MpJoinSynAckOption,
  MpJoinSynOption,
  MpPrioOption,
  MptcpOption,
  MpTcpRstOption,
  RemoveAddrOption,
  UnknownMptcpOption,
} from '../../mptcp/wire/mptcp-option-types.js';
import type { Ipv4Header } from '../../mptcp/wire/ipv4.js';
import { emitIpv4Header, fillIpv4Checksum } from '../../mptcp/wire/ipv4.js';
import type { Ipv6ExtensionHeader, Ipv6Header } from '../../mptcp/wire/ipv6.js';
import { emitIpv6Header } from '../../mptcp/wire/ipv6.js';
import type { TcpHeader } from '../../mptcp/wire/tcp-header.js';
import { emitTcpHeader, fillTcpChecksum } from '../../mptcp/wire/tcp-header.js';
import type { TcpOption } from '../../mptcp/wire/tcp-options.js';

export const u4 = fc.nat({ max: 0xf });
export const u8 = fc.nat({ max: 0xff });
export const u12 = fc.nat({ max: 0xfff });
export const u16 = fc.nat({ max: 0xffff });
export const u32 = fc.nat({ max: 0xffffffff });
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const bytesOf = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

// ---------------------------------------------------------------- MPTCP suboptions

export const mpCapableArb: fc.Arbitrary<MpCapableOption> = fc
  .record({
    version: u4,
    flags: u8,
    fields: fc.nat({ max: 4 }), // 0: SYN (4), 1: SYN/ACK (12), 2: ACK (20), 3: +data (22), 4: +csum (24)
    senderKey: u64,
    receiverKey: u64,
    dataLength: u16,
    checksum: u16,
  })
  .map((r) => {
    const o: MpCapableOption = { subtype: 'MP_CAPABLE', version: r.version, flags: r.flags };
    if (r.fields >= 1) o.senderKey = r.senderKey;
    if (r.fields >= 2) o.receiverKey = r.receiverKey;
    if (r.fields >= 3) o.dataLength = r.dataLength;
    if (r.fields >= 4) o.checksum = r.checksum;
    return o;
  });

export const mpJoinSynArb: fc.Arbitrary<MpJoinSynOption> = fc
  .record({ flags: u4, addressId: u8, receiverToken: u32, senderNonce: u32 })
  .map((r) => ({ subtype: 'MP_JOIN', stage: 'syn', ...r }));

export const mpJoinSynAckArb: fc.Arbitrary<MpJoinSynAckOption> = fc
  .record({ flags: u4, addressId: u8, truncatedHmac: u64, senderNonce: u32 })
  .map((r) => ({ subtype: 'MP_JOIN', stage: 'syn-ack', ...r }));

export const mpJoinAckArb: fc.Arbitrary<MpJoinAckOption> = fc
  .record({ reserved: u12, hmac: bytesOf(20) })
  .map((r) => ({ subtype: 'MP_JOIN', stage: 'ack', ...r }));

/** All 256 flag bytes (the three high bits are reserved and must survive), all field sizes. */
export const dssArb: fc.Arbitrary<DssOption> = fc
  .record({
    reserved: u4,
    flags: u8,
    dataAck: u64,
    dsn: u64,
    subflowSeq: u32,
    dataLength: u16,
    checksum: fc.option(u16, { nil: undefined }),
  })
  .map((r) => {
    const o: DssOption = { subtype: 'DSS', reserved: r.reserved, flags: r.flags };
    if (r.flags & 0x01) o.dataAck = r.flags & 0x02 ? r.dataAck : r.dataAck & 0xffffffffn;
    if (r.flags & 0x04) {
      o.dsn = r.flags & 0x08 ? r.dsn : r.dsn & 0xffffffffn;
      o.subflowSeq = r.subflowSeq;
      o.dataLength = r.dataLength;
      if (r.checksum !== undefined) o.checksum = r.checksum;
    }
    return o;
  });

export const addAddrArb: fc.Arbitrary<AddAddrOption> = fc
  .record({
    flags: u4,
    addressId: u8,
    address: fc.oneof(bytesOf(4), bytesOf(16)),
    port: fc.option(u16, { nil: undefined }),
    truncatedHmac: u64,
  })
  .map((r) => {
    const o: AddAddrOption = { subtype: 'ADD_ADDR', flags: r.flags, addressId: r.addressId, address: r.address };
    if (r.port !== undefined) o.port = r.port;
    if ((r.flags & 0x01) === 0) o.truncatedHmac = r.truncatedHmac;
    return o;
  });

/** 1 to 37 ids: 3 + 37 = 40 bytes, the whole option space. */
export const removeAddrArb: fc.Arbitrary<RemoveAddrOption> = fc
  .record({ reserved: u4, addressIds: fc.array(u8, { minLength: 1, maxLength: 37 }) })
  .map((r) => ({ subtype: 'REMOVE_ADDR', ...r }));

export const mpPrioArb: fc.Arbitrary<MpPrioOption> = u4.map((flags) => ({ subtype: 'MP_PRIO', flags }));

export const mpFailArb: fc.Arbitrary<MpFailOption> = fc
  .record({ reserved: u12, dsn: u64 })
  .map((r) => ({ subtype: 'MP_FAIL', ...r }));

export const mpFastcloseArb: fc.Arbitrary<MpFastcloseOption> = fc
  .record({ reserved: u12, receiverKey: u64 })
  .map((r) => ({ subtype: 'MP_FASTCLOSE', ...r }));

export const mpTcpRstArb: fc.Arbitrary<MpTcpRstOption> = fc
  .record({ flags: u4, reason: u8 })
  .map((r) => ({ subtype: 'MP_TCPRST', ...r }));

/** Subtypes 0x9-0xf (0xf is MP_EXPERIMENTAL): 3 to 40 bytes, kept byte for byte. */
export const unknownMptcpArb: fc.Arbitrary<UnknownMptcpOption> = fc
  .record({ code: fc.integer({ min: 9, max: 15 }), low: u4, rest: fc.uint8Array({ maxLength: 37 }) })
  .map((r) => {
    const body = new Uint8Array(1 + r.rest.length);
    body[0] = (r.code << 4) | r.low;
    body.set(r.rest, 1);
    return { subtype: 'UNKNOWN', code: r.code, body };
  });

/** One arbitrary per suboption shape, so a test can make sure it sees each. */
export const mptcpOptionArbs = {
  MP_CAPABLE: mpCapableArb,
  MP_JOIN_SYN: mpJoinSynArb,
  MP_JOIN_SYN_ACK: mpJoinSynAckArb,
  MP_JOIN_ACK: mpJoinAckArb,
  DSS: dssArb,
  ADD_ADDR: addAddrArb,
  REMOVE_ADDR: removeAddrArb,
  MP_PRIO: mpPrioArb,
  MP_FAIL: mpFailArb,
  MP_FASTCLOSE: mpFastcloseArb,
  MP_TCPRST: mpTcpRstArb,
  UNKNOWN: unknownMptcpArb,
} as const;

export const mptcpOptionArb: fc.Arbitrary<MptcpOption> = fc.oneof(
  ...Object.values(mptcpOptionArbs).map((a) => a as fc.Arbitrary<MptcpOption>),
);

/** Length on the wire of an MPTCP option, from the RFC 8684 §3 layouts. */
export function refMptcpLength(o: MptcpOption): number {
  switch (o.subtype) {
    case 'MP_CAPABLE':
      return o.checksum !== undefined ? 24 : o.dataLength !== undefined ? 22 : o.receiverKey !== undefined ? 20 : o.senderKey !== undefined ? 12 : 4;
    case 'MP_JOIN':
      return { syn: 12, 'syn-ack': 16, ack: 24 }[o.stage];
    case 'DSS': {
      let n = 4;
      if (o.dataAck !== undefined) n += o.flags & 0x02 ? 8 : 4;
      if (o.dsn !== undefined) n += (o.flags & 0x08 ? 8 : 4) + 4 + 2 + (o.checksum !== undefined ? 2 : 0);
      return n;
    }
    case 'ADD_ADDR':
      return 4 + o.address.length + (o.port !== undefined ? 2 : 0) + (o.truncatedHmac !== undefined ? 8 : 0);
    case 'REMOVE_ADDR':
      return 3 + o.addressIds.length;
    case 'MP_PRIO':
      return 3;
    case 'MP_FAIL':
    case 'MP_FASTCLOSE':
      return 12;
    case 'MP_TCPRST':
      return 4;
    case 'UNKNOWN':
      return 2 + o.body.length;
  }
}

// ---------------------------------------------------------------- TCP options

/** Option kinds the codec interprets; an 'unknown' option must use another kind. */
export const KNOWN_TCP_OPTION_KINDS: readonly number[] = [0, 1, 2, 3, 4, 5, 8, 30];

// Plain objects only: fc.record may otherwise produce null-prototype objects, which parsers never do.
const sackBlockArb = fc.record({ left: u32, right: u32 }, { noNullPrototype: true });

/** Any single option except EOL (which can only end a list) and 'invalid' (positional error). */
export const tcpOptionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  u16.map<TcpOption>((mss) => ({ kind: 'mss', mss })),
  u8.map<TcpOption>((shift) => ({ kind: 'window-scale', shift })),
  fc.constant<TcpOption>({ kind: 'sack-permitted' }),
  fc.array(sackBlockArb, { minLength: 1, maxLength: 4 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc.record({ tsval: u32, tsecr: u32 }).map<TcpOption>((t) => ({ kind: 'timestamps', ...t })),
  mptcpOptionArb.map<TcpOption>((option) => ({ kind: 'mptcp', option })),
  mptcpOptionArb.map<TcpOption>((option) => ({ kind: 'mptcp', option })),
  fc
    .record({ type: u8.filter((t) => !KNOWN_TCP_OPTION_KINDS.includes(t)), data: fc.uint8Array({ maxLength: 38 }) })
    .map<TcpOption>((u) => ({ kind: 'unknown', ...u })),
);

export function refTcpOptionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
      return 1 + o.padding.length;
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'mptcp':
      return refMptcpLength(o.option);
    case 'unknown':
    case 'invalid':
      return 2 + o.data.length;
  }
}

/**
 * Option lists that fit in 40 bytes and whose length is a multiple of 4 (else the emitter's
 * zero padding would parse back as an extra EOL). Short lists end with an EOL whose padding
 * fills the last word; the padding bytes are arbitrary (a parser must keep them, RFC 9293
 * §3.1 says only what a sender should put there).
 */
export const tcpOptionListArb: fc.Arbitrary<TcpOption[]> = fc
  .record({
    candidates: fc.array(tcpOptionArb, { maxLength: 14 }),
    padding: bytesOf(3),
    extraEol: fc.boolean(),
  })
  .map(({ candidates, padding, extraEol }) => {
    const list: TcpOption[] = [];
    let n = 0;
    for (const o of candidates) {
      const l = refTcpOptionLength(o);
      if (n + l <= 40) {
        list.push(o);
        n += l;
      }
    }
    if (n % 4 !== 0) {
      const pad = 4 - (n % 4) - 1;
      list.push({ kind: 'eol', padding: padding.slice(0, pad) });
    } else if (extraEol && n + 4 <= 40) {
      list.push({ kind: 'eol', padding: padding.slice(0, 3) });
    }
    return list;
  });

export function refTcpOptionsLength(options: readonly TcpOption[]): number {
  return options.reduce((n, o) => n + refTcpOptionLength(o), 0);
}

// ---------------------------------------------------------------- TCP header

export const tcpHeaderArb: fc.Arbitrary<TcpHeader> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  reserved: u4,
  flags: u8,
  window: u16,
  checksum: u16,
  urgentPointer: u16,
  options: tcpOptionListArb,
}, { noNullPrototype: true });

// ---------------------------------------------------------------- IPv4

/** IPv4 headers (options: opaque, a multiple of 4, at most 40) with a payload length. */
export const ipv4HeaderArb: fc.Arbitrary<Ipv4Header> = fc
  .record({
    tos: u8,
    payload: fc.nat({ max: 64 }),
    identification: u16,
    flags: fc.nat({ max: 7 }),
    fragmentOffset: fc.nat({ max: 0x1fff }),
    ttl: u8,
    protocol: u8,
    checksum: u16,
    src: bytesOf(4),
    dst: bytesOf(4),
    optionWords: fc.nat({ max: 10 }),
    optionBytes: bytesOf(40),
  })
  .map((r) => ({
    tos: r.tos,
    totalLength: 20 + 4 * r.optionWords + r.payload,
    identification: r.identification,
    flags: r.flags,
    fragmentOffset: r.fragmentOffset,
    ttl: r.ttl,
    protocol: r.protocol,
    checksum: r.checksum,
    src: r.src,
    dst: r.dst,
    options: r.optionBytes.slice(0, 4 * r.optionWords),
  }));

// ---------------------------------------------------------------- IPv6

export const IPV6_EXTENSION_TYPES: readonly number[] = [0, 43, 44, 51, 60, 135, 139, 140];

interface ExtSpec {
  type: number;
  units: number;
  body: Uint8Array;
  fragOffsetFlags: number;
}

const extSpecArb: fc.Arbitrary<ExtSpec> = fc.record({
  type: fc.constantFrom(43, 44, 51, 60, 135, 139, 140),
  units: fc.nat({ max: 4 }),
  body: bytesOf(48),
  fragOffsetFlags: u16,
});

/**
 * Builds the bytes of one extension header whose Next Header is `next` (RFC 8200 §4.3-4.6,
 * RFC 4302 §2 for AH). A Fragment header here is the first fragment or an atomic fragment
 * (offset 0) unless `lastFragment`: after a non-first fragment nothing is a header.
 */
function extBytes(s: ExtSpec, next: number, nonFirstFragment: boolean): Uint8Array {
  let len: number;
  if (s.type === 44) len = 8;
  else if (s.type === 51) len = 4 * (2 * s.units + 2); // AH: (Payload Len + 2) * 4, kept a multiple of 8 for IPv6
  else len = 8 * (s.units + 1);
  const b = new Uint8Array(len);
  b.set(s.body.subarray(0, len));
  b[0] = next;
  if (s.type === 44) {
    // Fragment Offset (13 bits), Res (2 bits), M (1 bit).
    let of = s.fragOffsetFlags;
    if (!nonFirstFragment) of &= 0x0007; // offset 0; M may be set (first fragment)
    else if ((of & 0xfff8) === 0) of |= 0x0008;
    b[2] = of >>> 8;
    b[3] = of & 0xff;
  } else if (s.type === 51) b[1] = 2 * s.units;
  else b[1] = s.units;
  return b;
}

export interface Ipv6Spec {
  header: Ipv6Header;
  /** Protocol after the extension headers (never an extension type). */
  upperProtocol: number;
}

/**
 * IPv6 headers with a consistent chain: the fixed header's Next Header names the first
 * extension header, each header's first byte names the next, the last one names
 * `upperProtocol`. Hop-by-Hop only first (RFC 8200 §4.1). Payload Length covers the chain
 * plus up to 64 more bytes and is never 0 (a jumbogram).
 */
export function ipv6HeaderArbWith(upper: fc.Arbitrary<number>): fc.Arbitrary<Ipv6Spec> {
  return fc
    .record({
      trafficClass: u8,
      flowLabel: fc.nat({ max: 0xfffff }),
      hopLimit: u8,
      src: bytesOf(16),
      dst: bytesOf(16),
      hopByHop: fc.option(fc.record({ units: fc.nat({ max: 2 }), body: bytesOf(48) }), { nil: undefined, freq: 3 }),
      exts: fc.array(extSpecArb, { maxLength: 4 }),
      nonFirstFragment: fc.boolean(),
      upperProtocol: upper,
      extra: fc.nat({ max: 64 }),
    })
    .map((r) => {
      const specs: ExtSpec[] = [];
      if (r.hopByHop !== undefined) specs.push({ type: 0, units: r.hopByHop.units, body: r.hopByHop.body, fragOffsetFlags: 0 });
      specs.push(...r.exts);
      // A non-first fragment ends the walk: make it the last header when requested.
      const lastIsFragment = specs.length > 0 && specs[specs.length - 1].type === 44;
      const extensionHeaders: Ipv6ExtensionHeader[] = specs.map((s, i) => {
        const next = i + 1 < specs.length ? specs[i + 1].type : r.upperProtocol;
        const nonFirst = r.nonFirstFragment && lastIsFragment && i === specs.length - 1;
        return { type: s.type, bytes: extBytes(s, next, nonFirst) };
      });
      const chain = extensionHeaders.reduce((n, e) => n + e.bytes.length, 0);
      const header: Ipv6Header = {
        trafficClass: r.trafficClass,
        flowLabel: r.flowLabel,
        payloadLength: Math.max(1, chain + r.extra),
        nextHeader: specs.length > 0 ? specs[0].type : r.upperProtocol,
        hopLimit: r.hopLimit,
        src: r.src,
        dst: r.dst,
        extensionHeaders,
      };
      return { header, upperProtocol: r.upperProtocol };
    });
}

export const ipv6HeaderArb: fc.Arbitrary<Ipv6Spec> = ipv6HeaderArbWith(
  u8.filter((p) => !IPV6_EXTENSION_TYPES.includes(p)),
);

// ---------------------------------------------------------------- whole packets

export interface TcpPacketSpec {
  version: 4 | 6;
  bytes: Uint8Array;
  /** Offset of the TCP header in `bytes`. */
  tcpOffset: number;
  tcp: TcpHeader;
  payload: Uint8Array;
}

/** A TCP header whose options carry at least one MPTCP option. */
export const mptcpTcpHeaderArb: fc.Arbitrary<TcpHeader> = fc
  .record({ header: tcpHeaderArb, mptcp: mptcpOptionArb, ts: fc.boolean() })
  .map(({ header, mptcp, ts }) => {
    const first: TcpOption[] = ts ? [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 1, tsecr: 2 }] : [];
    const options: TcpOption[] = [...first, { kind: 'mptcp', option: mptcp }];
    for (const o of header.options) {
      if (o.kind === 'eol') break;
      if (refTcpOptionsLength(options) + refTcpOptionLength(o) <= 40) options.push(o);
    }
    if (refTcpOptionsLength(options) > 40) options.splice(0, first.length); // the MPTCP option alone always fits
    const n = refTcpOptionsLength(options);
    if (n % 4 !== 0) options.push({ kind: 'eol', padding: new Uint8Array(4 - (n % 4) - 1) });
    return { ...header, options };
  });

/**
 * Valid IPv4 or IPv6 packets carrying TCP with MPTCP options and a payload, with correct
 * IPv4 header and TCP checksums. IPv6 packets may carry extension headers (never a
 * fragment that is not atomic), IPv4 packets header options.
 */
export const tcpPacketArb: fc.Arbitrary<TcpPacketSpec> = fc
  .record({
    v6: fc.boolean(),
    ip4: ipv4HeaderArb,
    ip6: ipv6HeaderArbWith(fc.constant(6)),
    tcp: mptcpTcpHeaderArb,
    payload: fc.uint8Array({ maxLength: 80 }),
  })
  .map(({ v6, ip4, ip6, tcp, payload }) => {
    const tcpLen = 20 + ((refTcpOptionsLength(tcp.options) + 3) & ~3) + payload.length;
    if (!v6) {
      const h: Ipv4Header = { ...ip4, protocol: 6, flags: ip4.flags & 0x6, fragmentOffset: 0, checksum: 0 };
      const ipLen = 20 + h.options.length;
      h.totalLength = ipLen + tcpLen;
      const bytes = new Uint8Array(h.totalLength);
      emitIpv4Header(h, bytes, 0);
      fillIpv4Checksum(bytes, 0);
      const hl = emitTcpHeader(tcp, bytes, ipLen);
      bytes.set(payload, ipLen + hl);
      fillTcpChecksum(bytes, ipLen, bytes.length, h.src, h.dst);
      return { version: 4 as const, bytes, tcpOffset: ipLen, tcp: { ...tcp, checksum: bytes[ipLen + 16] * 256 + bytes[ipLen + 17] }, payload };
    }
    const exts = ip6.header.extensionHeaders.map((e) => {
      if (e.type !== 44) return e;
      const bytes = e.bytes.slice();
      bytes[2] = 0; // atomic fragment: offset 0, M clear
      bytes[3] &= 0x06;
      return { type: 44, bytes };
    });
    const chain = exts.reduce((n, e) => n + e.bytes.length, 0);
    const h: Ipv6Header = { ...ip6.header, extensionHeaders: exts, payloadLength: chain + tcpLen };
    const bytes = new Uint8Array(40 + h.payloadLength);
    const ipLen = emitIpv6Header(h, bytes, 0);
    const hl = emitTcpHeader(tcp, bytes, ipLen);
    bytes.set(payload, ipLen + hl);
    fillTcpChecksum(bytes, ipLen, bytes.length, h.src, h.dst);
    return { version: 6 as const, bytes, tcpOffset: ipLen, tcp: { ...tcp, checksum: bytes[ipLen + 16] * 256 + bytes[ipLen + 17] }, payload };
  });
