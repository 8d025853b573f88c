/**
 * Decodes a capture file packet by packet into TCP packets with all their options, for the
 * `mptcp-proxy decode` tool and for tests that compare our decode with Wireshark's. Pure:
 * bytes in, values out. Non-TCP packets are skipped with a reason; malformed ones carry the
 * typed error, and decoding goes on with the next packet.
 */
import { parseCaptureFile, type CaptureFile } from '../pcap/pcap-file.js';
import { stripLinkLayer } from '../pcap/link-layer.js';
import { formatIp } from '../wire/ip-address.js';
import { parseTcpPacket, type TcpPacket } from '../wire/packet.js';
import { formatWireError, type ParseResult, type WireError } from '../wire/result.js';
import { TcpFlag } from '../wire/tcp-header.js';
import { describeTcpOption, tcpOptionJson, type JsonValue } from './describe-option.js';

export interface DecodedPacket {
  /** 1-based, as Wireshark's frame.number. */
  frame: number;
  timestampNs: bigint;
  linkType: number;
  /** The link-layer payload (the IP packet) that `packet` points into. */
  ipBytes?: Uint8Array;
  packet?: TcpPacket;
  /** Why a well-formed packet was not decoded (e.g. ARP, UDP). */
  skipped?: string;
  error?: WireError;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

export function decodeCapture(file: CaptureFile): DecodedPacket[] {
  return file.packets.map((p) => {
    const base = { frame: p.index, timestampNs: p.timestampNs, linkType: p.linkType };
    const link = stripLinkLayer(p.linkType, p.data);
    if (!link.ok) return { ...base, error: link.error };
    const { etherType, payload } = link.value;
    if (etherType !== ETHERTYPE_IPV4 && etherType !== ETHERTYPE_IPV6) {
      return { ...base, skipped: `ethertype 0x${etherType.toString(16).padStart(4, '0')}` };
    }
    const r = parseTcpPacket(payload);
    if (!r.ok) {
      // A valid IP packet that is not TCP is not an error for a TCP decoder.
      if (r.error.field === 'protocol') return { ...base, skipped: r.error.rule };
      return { ...base, ipBytes: payload, error: r.error };
    }
    return { ...base, ipBytes: payload, packet: r.value };
  });
}

export function decodeCaptureBytes(bytes: Uint8Array): ParseResult<{ file: CaptureFile; packets: DecodedPacket[] }> {
  const f = parseCaptureFile(bytes);
  if (!f.ok) return f;
  return { ok: true, value: { file: f.value, packets: decodeCapture(f.value) } };
}

export function tcpFlagString(flags: number): string {
  const names: [number, string][] = [
    [TcpFlag.SYN, 'S'],
    [TcpFlag.FIN, 'F'],
    [TcpFlag.RST, 'R'],
    [TcpFlag.PSH, 'P'],
    [TcpFlag.ACK, '.'],
    [TcpFlag.URG, 'U'],
    [TcpFlag.ECE, 'E'],
    [TcpFlag.CWR, 'W'],
  ];
  return names
    .filter(([bit]) => flags & bit)
    .map(([, n]) => n)
    .join('');
}

function endpoint(addr: Uint8Array, port: number): string {
  return addr.length === 16 ? `[${formatIp(addr)}]:${port}` : `${formatIp(addr)}:${port}`;
}

function relativeSeconds(ts: bigint, t0: bigint): string {
  const ns = ts - t0;
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Text form, tcpdump-like: one summary line, then one indented line per option. */
export function formatDecodedPacket(d: DecodedPacket, t0: bigint): string {
  const head = `${d.frame} ${relativeSeconds(d.timestampNs, t0)}`;
  if (d.error) return `${head} MALFORMED ${formatWireError(d.error)}`;
  if (!d.packet) return `${head} (not TCP: ${d.skipped ?? 'unknown'})`;
  const p = d.packet;
  const h = p.tcp.header;
  const payload = p.tcp.payloadEnd - p.tcp.payloadOffset;
  const checks = [
    p.ipChecksumValid === false ? 'BAD-IP-CSUM' : '',
    p.tcpChecksumValid ? '' : 'BAD-TCP-CSUM',
  ].filter(Boolean);
  const lines = [
    `${head} IPv${p.ip.version} ${endpoint(p.src, h.srcPort)} > ${endpoint(p.dst, h.dstPort)} [${tcpFlagString(h.flags)}] seq ${h.seq} ack ${h.ack} win ${h.window} len ${payload}${checks.length ? ' ' + checks.join(' ') : ''}`,
  ];
  const plain = h.options.filter((o) => o.kind !== 'mptcp' && o.kind !== 'nop' && o.kind !== 'eol');
  if (plain.length) lines.push(`    tcp: ${plain.map(describeTcpOption).join(', ')}`);
  for (const o of h.options) if (o.kind === 'mptcp') lines.push(`    ${describeTcpOption(o)}`);
  return lines.join('\n');
}

export function decodedPacketJson(d: DecodedPacket, t0: bigint): JsonValue {
  const base: { [k: string]: JsonValue } = {
    frame: d.frame,
    time: relativeSeconds(d.timestampNs, t0),
    linkType: d.linkType,
  };
  if (d.error) return { ...base, error: { ...d.error, message: formatWireError(d.error) } as { [k: string]: JsonValue } };
  if (!d.packet) return { ...base, skipped: d.skipped ?? null };
  const p = d.packet;
  const h = p.tcp.header;
  return {
    ...base,
    ip: {
      version: p.ip.version,
      src: formatIp(p.src),
      dst: formatIp(p.dst),
      checksumValid: p.ipChecksumValid ?? null,
    },
    tcp: {
      srcPort: h.srcPort,
      dstPort: h.dstPort,
      flags: tcpFlagString(h.flags),
      seq: h.seq,
      ack: h.ack,
      window: h.window,
      headerLength: p.tcp.headerLength,
      payloadLength: p.tcp.payloadEnd - p.tcp.payloadOffset,
      checksumValid: p.tcpChecksumValid,
      options: h.options.map(tcpOptionJson),
    },
  };
}
