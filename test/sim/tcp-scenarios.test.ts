/**
 * The TCP engine across seeded network scenarios in the deterministic simulator: random
 * loss up to 10% (independent and bursty), reordering, duplication, jitter, RTT 1-500 ms,
 * rates 1 Mbit/s - 1 Gbit/s, bufferbloated or shallow queues, and blackouts shorter and
 * longer than the RTO. Every scenario must deliver byte-exact in both directions, close
 * cleanly on both sides, and not get stuck. A failing seed is printed with its scenario so
 * it can be replayed: TCP_SCENARIO_SEED=<seed> npx vitest run test/sim/tcp-scenarios.test.ts
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededRandom, type PacketEndpoint } from '../../mptcp/core/sans-io.js';
import { logUniform, seededBytes } from '../support/seeded-data.js';
import { Simulator, type LinkConfig } from '../../mptcp/sim/index.js';
import { tcpFlagString } from '../../mptcp/inspect/decode-capture.js';
import { parseTcpPacket } from '../../mptcp/wire/packet.js';
import { TcpHost, type HostConnection } from '../../mptcp/tcp/host.js';

const SCENARIOS = Number(process.env.TCP_SCENARIOS ?? 1000);
const ONLY = process.env.TCP_SCENARIO_SEED;

interface Scenario {
  seed: number;
  rttMs: number;
  rateMbit: number;
  link: Partial<LinkConfig>;
  blackout: { at: number; forMs: number } | null;
  up: number;
  down: number;
}

function scenario(seed: number): Scenario {
  const r = new SeededRandom(seed ^ 0x5bd1e995);
  const rttMs = logUniform(r, 1, 500);
  const rateMbit = logUniform(r, 1, 1000);
  const bdp = (rateMbit * 1e6 * rttMs) / 8000;
  const bursty = r.nextFloat() < 0.25;
  const loss = r.nextFloat() < 0.3 ? 0 : r.nextFloat() * 0.1;
  const link: Partial<LinkConfig> = {
    delayMs: rttMs / 2,
    jitterMs: r.nextFloat() < 0.5 ? 0 : (r.nextFloat() * rttMs) / 20,
    rateBitsPerSec: rateMbit * 1e6,
    queueLimitBytes: Math.max(16_000, bdp * (r.nextFloat() < 0.3 ? 8 : 1)),
    lossProbability: bursty ? 0 : loss,
    // Bursts lose half the packets in the bad state: the chain advances per packet, so on a
    // sparse link (ACKs of backed-off retransmissions) 100% would be an outage of minutes.
    burstLoss: bursty ? { pGoodToBad: loss / 4 + 0.001, pBadToGood: 0.25, lossInBad: 0.5, lossInGood: 0 } : undefined,
    reorderProbability: r.nextFloat() < 0.3 ? r.nextFloat() * 0.05 : 0,
    reorderExtraDelayMs: (r.nextFloat() * rttMs) / 2,
    duplicateProbability: r.nextFloat() < 0.2 ? r.nextFloat() * 0.02 : 0,
  };
  const blackout = r.nextFloat() < 0.3 ? { at: r.nextFloat() * 3 * rttMs + 5, forMs: r.nextFloat() < 0.5 ? r.nextFloat() * 150 : 500 + r.nextFloat() * 4000 } : null;
  // Sizes: up to 256 KiB each way, smaller on slow links so a scenario stays cheap.
  const cap = Math.min(256 * 1024, Math.max(8 * 1024, rateMbit * 1e6 * 0.5 / 8));
  return { seed, rttMs, rateMbit, link, blackout, up: Math.floor(r.nextFloat() * cap), down: Math.floor(r.nextFloat() * cap) };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An application on one connection: writes its data, shuts down, reads everything. */
class App {
  private offset = 0;
  private shut = false;
  readonly received: Uint8Array[] = [];
  closed = false;
  error: string | null = null;
  constructor(
    readonly c: HostConnection,
    private readonly send: Uint8Array,
  ) {}
  step(now: number): void {
    const tcp = this.c.tcp;
    for (let e = tcp.pollEvent(); e; e = tcp.pollEvent()) {
      if (e.type === 'closed') this.closed = true;
      if (e.type === 'reset') this.error = e.reason;
    }
    if (!this.shut && tcp.state !== 'SYN_SENT' && tcp.state !== 'SYN_RECEIVED' && tcp.state !== 'CLOSED') {
      this.offset += tcp.write(this.send.subarray(this.offset));
      if (this.offset === this.send.length) {
        tcp.shutdown();
        this.shut = true;
      }
    }
    for (let d = tcp.read(now); d; d = tcp.read(now)) this.received.push(d);
  }
}

/** Runs the applications of a host after every input, like a socket layer would. */
class AppHost implements PacketEndpoint {
  apps: App[] = [];
  constructor(readonly host: TcpHost) {}
  handlePacket(now: number, p: Uint8Array): void {
    this.host.handlePacket(now, p);
    for (const a of this.apps) a.step(now);
  }
  pollTransmit(now: number, out: Uint8Array): number {
    return this.host.pollTransmit(now, out);
  }
  pollTimeout(): number {
    return this.host.pollTimeout();
  }
  handleTimeout(now: number): void {
    this.host.handleTimeout(now);
    for (const a of this.apps) a.step(now);
  }
}

function run(sc: Scenario): { ok: boolean; why: string; virtualMs: number; packets: number } {
  const sim = new Simulator(sc.seed);
  const A = new Uint8Array([10, 0, 0, 1]);
  const B = new Uint8Array([10, 0, 0, 2]);
  const cfg = {}; // real 2 MSL (60 s): virtual time is free
  const ha = new AppHost(new TcpHost([A], sim.random('host-a'), cfg));
  const hb = new AppHost(new TcpHost([B], sim.random('host-b'), cfg));
  const a = sim.addHost({ name: 'a', addresses: [A], endpoint: ha });
  const b = sim.addHost({ name: 'b', addresses: [B], endpoint: hb });
  const path = sim.addPath({ from: a, fromAddress: A, to: b, toAddress: B, config: sc.link, reverseConfig: sc.link });
  const trace: string[] = [];
  if (ONLY) {
    // Replaying one seed: keep a readable packet trace to print on failure.
    sim.setTracer((t, link, ev, pkt, reason) => {
      const r = parseTcpPacket(pkt);
      if (!r.ok) return;
      const h = r.value.tcp.header;
      trace.push(`${t.toFixed(1)} ${link} ${ev}${reason ? ':' + reason : ''} [${tcpFlagString(h.flags)}] seq=${h.seq} ack=${h.ack} len=${r.value.tcp.payloadEnd - r.value.tcp.payloadOffset}`);
      if (trace.length > 400) trace.shift();
    });
  }
  if (sc.blackout) {
    const { at, forMs } = sc.blackout;
    sim.at(at, () => {
      path.forward.setConfig({ up: false });
      path.reverse.setConfig({ up: false });
    });
    sim.at(at + forMs, () => {
      path.forward.setConfig({ up: true });
      path.reverse.setConfig({ up: true });
    });
  }
  const up = seededBytes(sc.up, sc.seed * 2 + 1);
  const down = seededBytes(sc.down, sc.seed * 2 + 2);
  hb.host.listen(80, (c) => hb.apps.push(new App(c, down)));
  const client = new App(ha.host.connect(0, A, B, 80), up);
  ha.apps.push(client);
  client.step(0);
  const done = () => client.closed && hb.apps.length === 1 && hb.apps[0].closed;
  const failed = () => client.error !== null || (hb.apps[0]?.error ?? null) !== null;
  const limit = 900_000; // virtual ms
  sim.runWhile(() => !done() && !failed(), limit);
  const server = hb.apps[0];
  const packets = path.forward.counters.offeredPackets + path.reverse.counters.offeredPackets;
  if (ONLY && (!done() || failed())) console.log(trace.join('\n'));
  if (failed()) return { ok: false, why: `reset: client ${client.error}, server ${server?.error}`, virtualMs: sim.now, packets };
  if (!done()) return { ok: false, why: `stuck at t=${sim.now.toFixed(0)} ms: client ${client.c.tcp.state}, server ${server?.c.tcp.state}`, virtualMs: sim.now, packets };
  const gotUp = Buffer.concat(server.received);
  const gotDown = Buffer.concat(client.received);
  if (gotUp.length !== up.length || sha(gotUp) !== sha(up)) return { ok: false, why: `upload corrupted: ${gotUp.length}/${up.length} bytes`, virtualMs: sim.now, packets };
  if (gotDown.length !== down.length || sha(gotDown) !== sha(down)) return { ok: false, why: `download corrupted: ${gotDown.length}/${down.length} bytes`, virtualMs: sim.now, packets };
  return { ok: true, why: '', virtualMs: sim.now, packets };
}

describe('TCP engine: seeded scenarios in the simulator', () => {
  it(`${ONLY ? `seed ${ONLY}` : `${SCENARIOS} scenarios`}: byte-exact both ways, clean close, none stuck`, () => {
    const seeds = ONLY ? [Number(ONLY)] : Array.from({ length: SCENARIOS }, (_, i) => i + 1);
    const failures: string[] = [];
    let packets = 0;
    let virtual = 0;
    let blackouts = 0;
    let lossy = 0;
    const t0 = Date.now();
    for (const seed of seeds) {
      const sc = scenario(seed);
      if (sc.blackout) blackouts++;
      if ((sc.link.lossProbability ?? 0) > 0 || sc.link.burstLoss) lossy++;
      const r = run(sc);
      packets += r.packets;
      virtual += r.virtualMs;
      if (!r.ok) {
        failures.push(`seed ${seed}: ${r.why} | rtt ${sc.rttMs.toFixed(1)} ms, ${sc.rateMbit.toFixed(1)} Mbit/s, loss ${((sc.link.lossProbability ?? 0) * 100).toFixed(1)}%${sc.link.burstLoss ? ' bursty' : ''}, reorder ${((sc.link.reorderProbability ?? 0) * 100).toFixed(1)}%, blackout ${sc.blackout ? `${sc.blackout.forMs.toFixed(0)} ms` : 'none'}, ${sc.up}/${sc.down} bytes`);
      }
    }
    console.log(`tcp scenarios: ${seeds.length} run (${lossy} lossy, ${blackouts} with blackouts), ${packets} packets, ${(virtual / 1000).toFixed(0)} s virtual in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failures.length} failed`);
    expect(failures.slice(0, 20)).toEqual([]);
  }, 600_000);
});
