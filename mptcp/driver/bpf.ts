/**
 * The classic BPF program attached to each raw socket (SO_ATTACH_FILTER) so the process only
 * wakes for TCP packets whose DESTINATION port is one of ours. A raw IPPROTO_TCP socket
 * otherwise receives a copy of every TCP packet the host gets.
 *
 * Where the filter's offset 0 is (checked on Linux 6.18 by test/privileged/driver):
 * - IPv4 raw sockets: the IP header (the kernel pushes it back before filtering), so the TCP
 *   header is found with the IHL: `ldxb 4*([0]&0xf)`, then the port at [x + 2].
 * - IPv6 raw sockets: the TCP header itself (the IPv6 header and any extension headers have
 *   been pulled), so the port is at [2].
 * Fragments never reach the filter: raw sockets get reassembled packets.
 */
import { endianness } from 'node:os';
import { normalizeRanges, type PortRange } from './ports.js';

// Opcode parts from linux/bpf_common.h and linux/filter.h.
export const BPF = {
  LD: 0x00,
  LDX: 0x01,
  JMP: 0x05,
  RET: 0x06,
  W: 0x00,
  H: 0x08,
  B: 0x10,
  ABS: 0x20,
  IND: 0x40,
  MSH: 0xa0,
  JGT: 0x20,
  JGE: 0x30,
  K: 0x00,
} as const;

/** One `struct sock_filter`. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Returned by an accepting filter: keep the whole packet. */
export const BPF_ACCEPT = 0xffffffff;
/** The jump offsets are 8 bits: two instructions per range keep us far below that. */
export const MAX_FILTER_RANGES = 100;

/** The instructions accepting TCP packets to a destination port in `ports`. */
export function tcpDstPortFilter(family: 4 | 6, ports: readonly PortRange[]): BpfInstruction[] {
  const ranges = normalizeRanges(ports);
  if (ranges.length === 0) throw new RangeError('BPF filter: no ports given');
  if (ranges.length > MAX_FILTER_RANGES) throw new RangeError(`BPF filter: at most ${MAX_FILTER_RANGES} port ranges`);
  const prog: BpfInstruction[] =
    family === 4
      ? [
          { code: BPF.LDX | BPF.B | BPF.MSH, jt: 0, jf: 0, k: 0 }, // x = IP header length
          { code: BPF.LD | BPF.H | BPF.IND, jt: 0, jf: 0, k: 2 }, // a = TCP destination port
        ]
      : [{ code: BPF.LD | BPF.H | BPF.ABS, jt: 0, jf: 0, k: 2 }];
  // Per range: if a >= lo, then if a <= hi accept; otherwise try the next range.
  const reject = prog.length + 2 * ranges.length;
  const accept = reject + 1;
  for (const r of ranges) {
    const at = prog.length;
    prog.push({ code: BPF.JMP | BPF.JGE | BPF.K, jt: 0, jf: 1, k: r.lo });
    prog.push({ code: BPF.JMP | BPF.JGT | BPF.K, jt: 0, jf: accept - (at + 1) - 1, k: r.hi });
  }
  prog.push({ code: BPF.RET | BPF.K, jt: 0, jf: 0, k: 0 });
  prog.push({ code: BPF.RET | BPF.K, jt: 0, jf: 0, k: BPF_ACCEPT });
  return prog;
}

/** The instructions as the kernel's `struct sock_filter[]` (host byte order). */
export function encodeBpf(prog: readonly BpfInstruction[], littleEndian = endianness() === 'LE'): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    dv.setUint16(i * 8, ins.code, littleEndian);
    dv.setUint8(i * 8 + 2, ins.jt);
    dv.setUint8(i * 8 + 3, ins.jf);
    dv.setUint32(i * 8 + 4, ins.k >>> 0, littleEndian);
  });
  return out;
}
