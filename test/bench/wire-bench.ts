/**
 * Micro-benchmarks of the wire layer's per-packet hot paths, in ns per packet:
 * - parse + emit of a full-size MPTCP data segment (IPv4, TCP with timestamps and a full DSS:
 *   64-bit Data ACK, 64-bit DSN, checksum; 1420 bytes of payload), through SegmentView and
 *   writeDataSegmentHeader, with the TCP checksum verified on parse and filled on emit;
 * - the same parse through the full representation (parseTcpPacket), for comparison;
 * - the Internet checksum over 1460 bytes; the DSS checksum over a 1420-byte mapping.
 * Figures, not assertions: `npm run bench` prints them.
 */
import { DssFields } from '../../mptcp/wire/dss.js';
import { dssChecksum, internetChecksum } from '../../mptcp/wire/checksum.js';
import { IPPROTO_TCP, ipv4ChecksumValid, writeIpv4Header } from '../../mptcp/wire/ipv4.js';
import { parseTcpPacket } from '../../mptcp/wire/packet.js';
import { scanSegment, SegmentView, writeDataSegmentHeader } from '../../mptcp/wire/segment-view.js';
import { fillTcpChecksum, tcpChecksumValid } from '../../mptcp/wire/tcp-header.js';

export interface BenchResult {
  name: string;
  nsPerOp: number;
  opsPerSec: number;
  mbitPerSec?: number;
}

function measure(name: string, bytesPerOp: number, fn: () => void, minMs = 400): BenchResult {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  const batch = 10_000;
  while (elapsed < BigInt(minMs) * 1_000_000n) {
    for (let i = 0; i < batch; i++) fn();
    iterations += batch;
    elapsed = process.hrtime.bigint() - start;
  }
  const ns = Number(elapsed) / iterations;
  return {
    name,
    nsPerOp: ns,
    opsPerSec: 1e9 / ns,
    ...(bytesPerOp > 0 ? { mbitPerSec: (bytesPerOp * 8 * 1e9) / ns / 1e6 } : {}),
  };
}

const SRC = new Uint8Array([10, 0, 0, 1]);
const DST = new Uint8Array([10, 0, 0, 2]);
// 1500 - 20 (IPv4) - 20 (TCP) - 12 (NOP NOP timestamps) - 28 (DSS: 64-bit ack and DSN, checksum).
const PAYLOAD = 1420;

function buildSegment(out: Uint8Array, dss: DssFields, seq: number): number {
  const hl = writeDataSegmentHeader(out, 20, 40000, 443, seq, 12345, 0x18, 501, true, 1000, 2000, dss);
  const total = 20 + hl + PAYLOAD;
  writeIpv4Header(out, 0, 0, total, 0, 64, IPPROTO_TCP, SRC, DST);
  fillTcpChecksum(out, 20, total, SRC, DST);
  return total;
}

export function runWireBenchmarks(): BenchResult[] {
  const dss = new DssFields();
  dss.flags = 0x0f; // m M a A: 64-bit DSN and Data ACK, mapping present
  dss.dataAckHi = 0x12345678;
  dss.dataAckLo = 0x9abcdef0;
  dss.dsnHi = 0x0fedcba9;
  dss.dsnLo = 0x87654321;
  dss.subflowSeq = 1;
  dss.dataLength = PAYLOAD;
  dss.hasChecksum = true;
  const packet = new Uint8Array(1500);
  for (let i = 0; i < packet.length; i++) packet[i] = (i * 31) & 0xff;
  dss.checksum = 0;
  const length = buildSegment(packet, dss, 1);
  if (length !== 1500) throw new Error(`full-size segment is ${length} bytes, expected 1500`);

  const view = new SegmentView();
  const out = new Uint8Array(1500);
  let sink = 0;
  const results = [
    measure('parse+emit DSS data segment (view, 1500 B)', 1500, () => {
      // Receive: IPv4 header checks, TCP checksum, option scan; then build the reply-size
      // segment for the same flow (header + DSS + checksums) into a reused buffer.
      if (!ipv4ChecksumValid(packet, 0) || !tcpChecksumValid(packet, 20, 1500, SRC, DST)) throw new Error('bad checksum');
      if (!scanSegment(packet, 20, 1500, view) || !view.hasDss) throw new Error(view.error);
      out.set(packet.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength), 20 + view.headerLength);
      sink += buildSegment(out, view.dss, view.seq + 1);
    }),
    measure('parse only, view (no checksums)', 0, () => {
      scanSegment(packet, 20, 1500, view);
      sink += view.dss.dataLength;
    }),
    measure('parse only, full representation (parseTcpPacket)', 0, () => {
      const r = parseTcpPacket(packet);
      if (r.ok) sink += r.value.tcp.headerLength;
    }),
    measure('internet checksum, 1460 B', 1460, () => {
      sink += internetChecksum(packet, 40, 1500);
    }),
    measure('DSS checksum, 1420 B mapping', 1448, () => {
      sink += dssChecksum(dss.dsnHi, dss.dsnLo, 1, PAYLOAD, packet, 80, 1500);
    }),
  ];
  if (sink === 0.5) console.log(sink); // keep the work observable to the optimizer
  return results;
}
