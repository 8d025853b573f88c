/**
 * Builds whole IPv4 or IPv6 TCP packets with correct checksums from a few fields, for tests
 * that hand our encoder's output to Wireshark or feed it back to our parsers.
 */
import { emitIpv4Header, fillIpv4Checksum, IPPROTO_TCP } from '../../mptcp/wire/ipv4.js';
import { emitIpv6Header } from '../../mptcp/wire/ipv6.js';
import { emitTcpHeader, fillTcpChecksum, tcpHeaderLength } from '../../mptcp/wire/tcp-header.js';
import type { TcpOption } from '../../mptcp/wire/tcp-options.js';

export interface PacketSpec {
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags: number;
  window?: number;
  options: TcpOption[];
  payload?: Uint8Array;
}

export function buildTcpPacket(s: PacketSpec): Uint8Array {
  const payload = s.payload ?? new Uint8Array(0);
  const header = {
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    seq: s.seq ?? 1000,
    ack: s.ack ?? 0,
    reserved: 0,
    flags: s.flags,
    window: s.window ?? 65535,
    checksum: 0,
    urgentPointer: 0,
    options: s.options,
  };
  const tcpLen = tcpHeaderLength(header) + payload.length;
  const v4 = s.src.length === 4;
  const ipLen = v4 ? 20 : 40;
  const buf = new Uint8Array(ipLen + tcpLen);
  if (v4) {
    emitIpv4Header(
      { tos: 0, totalLength: buf.length, identification: 1, flags: 2, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_TCP, checksum: 0, src: s.src, dst: s.dst, options: new Uint8Array(0) },
      buf,
      0,
    );
    fillIpv4Checksum(buf, 0);
  } else {
    emitIpv6Header(
      { trafficClass: 0, flowLabel: 0, payloadLength: tcpLen, nextHeader: IPPROTO_TCP, hopLimit: 64, src: s.src, dst: s.dst, extensionHeaders: [] },
      buf,
      0,
    );
  }
  const h = emitTcpHeader(header, buf, ipLen);
  buf.set(payload, ipLen + h);
  fillTcpChecksum(buf, ipLen, buf.length, s.src, s.dst);
  return buf;
}
