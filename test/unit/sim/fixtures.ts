/**
 * Test-only endpoints for the simulator tests: a TestEndpoint sends numbered IPv4 or IPv6
 * packets (a bare IP header, no checksum, protocol 253, then flow id, sequence number and send
 * time) in scheduled flows, and records every arrival.
 */
import type { PacketEndpoint } from '../../../mptcp/core/sans-io.js';
import { type LinkConfig, Simulator } from '../../../mptcp/sim/index.js';
import { formatIp } from '../../../mptcp/wire/ip-address.js';

export const A = new Uint8Array([10, 0, 0, 1]);
export const B = new Uint8Array([10, 0, 0, 2]);
export const A2 = new Uint8Array([10, 0, 1, 1]);
export const B2 = new Uint8Array([10, 0, 1, 2]);
export const A6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
export const B6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

export const PROTO_TEST = 253;
/** Payload: flow u32, seq u32, sentAt f64. */
export const PAYLOAD_MIN = 16;

export interface FlowSpec {
  readonly dst: Uint8Array;
  /** Defaults to the endpoint's first address. */
  readonly src?: Uint8Array;
  readonly count: number;
  /** 0 sends the whole flow at startMs. */
  readonly intervalMs: number;
  readonly startMs?: number;
  /** Whole IP packet length (default 100). */
  readonly size?: number;
}

interface Flow {
  readonly id: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly size: number;
  readonly interval: number;
  next: number;
  remaining: number;
  seq: number;
}

interface Outgoing {
  readonly flow: number;
  readonly seq: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly size: number;
}

export interface Arrival {
  readonly time: number;
  readonly flow: number;
  readonly seq: number;
  readonly sentAt: number;
  readonly length: number;
  readonly src: string;
  readonly dst: string;
}

export class TestEndpoint implements PacketEndpoint {
  readonly arrivals: Arrival[] = [];
  readonly timeoutCalls: number[] = [];
  private readonly flows: Flow[] = [];
  private outbox: Outgoing[] = [];
  private outHead = 0;
  private view: DataView | undefined;

  constructor(private readonly addresses: readonly Uint8Array[]) {}

  /** Schedules a flow of numbered packets; returns its id. */
  sendFlow(spec: FlowSpec): number {
    const id = this.flows.length;
    this.flows.push({
      id,
      src: spec.src ?? this.addresses[0],
      dst: spec.dst,
      size: spec.size ?? 100,
      interval: spec.intervalMs,
      next: spec.startMs ?? 0,
      remaining: spec.count,
      seq: 0,
    });
    return id;
  }

  handlePacket(now: number, packet: Uint8Array): void {
    const v6 = packet[0] >> 4 === 6;
    const hdr = v6 ? 40 : 20;
    const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    this.arrivals.push({
      time: now,
      flow: dv.getUint32(hdr),
      seq: dv.getUint32(hdr + 4),
      sentAt: dv.getFloat64(hdr + 8),
      length: packet.length,
      src: formatIp(v6 ? packet.subarray(8, 24) : packet.subarray(12, 16)),
      dst: formatIp(v6 ? packet.subarray(24, 40) : packet.subarray(16, 20)),
    });
  }

  pollTransmit(now: number, out: Uint8Array): number {
    if (this.outHead >= this.outbox.length) {
      this.outbox = [];
      this.outHead = 0;
      return 0;
    }
    const p = this.outbox[this.outHead++];
    if (this.view?.buffer !== out.buffer) this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const hdr = writeIpHeader(out, p.src, p.dst, p.size);
    this.view.setUint32(hdr, p.flow);
    this.view.setUint32(hdr + 4, p.seq);
    this.view.setFloat64(hdr + 8, now);
    out.fill(0, hdr + PAYLOAD_MIN, p.size);
    return p.size;
  }

  pollTimeout(): number {
    let t = Infinity;
    for (const f of this.flows) if (f.remaining > 0 && f.next < t) t = f.next;
    return t;
  }

  handleTimeout(now: number): void {
    this.timeoutCalls.push(now);
    for (const f of this.flows) {
      while (f.remaining > 0 && f.next <= now) {
        this.outbox.push({ flow: f.id, seq: f.seq++, src: f.src, dst: f.dst, size: f.size });
        f.remaining--;
        f.next += f.interval;
      }
    }
  }

  /** Arrivals of one flow. */
  flow(id: number): Arrival[] {
    return this.arrivals.filter((a) => a.flow === id);
  }
}

/** Writes a bare IPv4 or IPv6 header for a packet of `size` bytes; returns the header length. */
export function writeIpHeader(out: Uint8Array, src: Uint8Array, dst: Uint8Array, size: number): number {
  if (src.length === 4) {
    out.fill(0, 0, 20);
    out[0] = 0x45;
    out[2] = size >> 8;
    out[3] = size & 0xff;
    out[8] = 64;
    out[9] = PROTO_TEST;
    out.set(src, 12);
    out.set(dst, 16);
    return 20;
  }
  out.fill(0, 0, 40);
  out[0] = 0x60;
  out[4] = (size - 40) >> 8;
  out[5] = (size - 40) & 0xff;
  out[6] = PROTO_TEST;
  out[7] = 64;
  out.set(src, 8);
  out.set(dst, 24);
  return 40;
}

/** Two hosts a (10.0.0.1) and b (10.0.0.2) joined by `connect` with `config` both ways. */
export function twoHosts(config: Partial<LinkConfig>, seed = 1) {
  const sim = new Simulator(seed);
  const a = new TestEndpoint([A]);
  const b = new TestEndpoint([B]);
  const ha = sim.addHost({ name: 'a', addresses: [A], endpoint: a });
  const hb = sim.addHost({ name: 'b', addresses: [B], endpoint: b });
  const { forward, reverse } = sim.connect(ha, hb, config);
  return { sim, a, b, ha, hb, link: forward, reverse };
}

/** Packets not in increasing sequence order on arrival (arrived after a higher seq). */
export function lateArrivals(arrivals: readonly Arrival[]): number {
  let max = -1;
  let late = 0;
  for (const a of arrivals) {
    if (a.seq < max) late++;
    else max = a.seq;
  }
  return late;
}

/** |observed - n p| <= 3 sigma of a binomial(n, p). */
export function withinThreeSigma(observed: number, n: number, p: number): boolean {
  return Math.abs(observed - n * p) <= 3 * Math.sqrt(n * p * (1 - p));
}
