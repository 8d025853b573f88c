/**
 * Throughput of the simulator itself: a window of packets ping-pongs between two lean
 * endpoints (a TCP-like ack clock) for 1,000,000 deliveries. Prints packets per second; the
 * time is not asserted (CI machines vary).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { PacketEndpoint } from '../../../mptcp/core/sans-io.js';
import { Simulator } from '../../../mptcp/sim/index.js';
import { A, B, writeIpHeader } from './fixtures.js';

const SIZE = 100;

/** Sends `window` packets, then one more per reply, until `total` are sent. */
class Pinger implements PacketEndpoint {
  sent = 0;
  received = 0;
  private credit: number;
  private readonly template = new Uint8Array(SIZE);
  constructor(
    private readonly total: number,
    window: number,
  ) {
    this.credit = window;
    writeIpHeader(this.template, A, B, SIZE);
  }
  handlePacket(): void {
    this.received++;
    this.credit++;
  }
  pollTransmit(_now: number, out: Uint8Array): number {
    if (this.credit === 0 || this.sent === this.total) return 0;
    this.credit--;
    out.set(this.template);
    const s = this.sent++;
    out[20] = s >>> 24;
    out[21] = s >>> 16;
    out[22] = s >>> 8;
    out[23] = s;
    return SIZE;
  }
  pollTimeout(): number {
    return Infinity;
  }
  handleTimeout(): void {}
}

/** Answers every packet with one packet back. */
class Echo implements PacketEndpoint {
  private owed = 0;
  private readonly template = new Uint8Array(SIZE);
  constructor() {
    writeIpHeader(this.template, B, A, SIZE);
  }
  handlePacket(): void {
    this.owed++;
  }
  pollTransmit(_now: number, out: Uint8Array): number {
    if (this.owed === 0) return 0;
    this.owed--;
    out.set(this.template);
    return SIZE;
  }
  pollTimeout(): number {
    return Infinity;
  }
  handleTimeout(): void {}
}

describe('performance', () => {
  it('runs 1,000,000 packet deliveries', () => {
    const sim = new Simulator(1);
    const pinger = new Pinger(500_000, 64);
    const ha = sim.addHost({ name: 'a', addresses: [A], endpoint: pinger });
    const hb = sim.addHost({ name: 'b', addresses: [B], endpoint: new Echo() });
    sim.connect(ha, hb, { delayMs: 5, jitterMs: 1, rateBitsPerSec: 1e9, lossProbability: 0 });
    const t0 = performance.now();
    expect(sim.runUntilIdle(1e9)).toBe(true);
    const seconds = (performance.now() - t0) / 1000;
    expect(sim.counters.deliveries).toBe(1_000_000);
    expect(pinger.received).toBe(500_000);
    const rate = Math.round(sim.counters.deliveries / seconds);
    console.log(
      `simulator: ${sim.counters.deliveries} deliveries in ${seconds.toFixed(2)} s = ${rate.toLocaleString('en')} packets/s ` +
        `(virtual time ${(sim.now / 1000).toFixed(1)} s)`,
    );
  });
});
