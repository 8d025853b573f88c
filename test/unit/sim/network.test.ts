import { describe, expect, it } from 'vitest';
import type { PacketEndpoint } from '../../../mptcp/core/sans-io.js';
import { deriveSeed, type LinkConfig, Simulator, TraceRecorder } from '../../../mptcp/sim/index.js';
import { A, A2, A6, B, B2, B6, TestEndpoint, twoHosts, writeIpHeader } from './fixtures.js';

function multipathHosts() {
  const sim = new Simulator(1);
  const a = new TestEndpoint([A, A2, A6]);
  const b = new TestEndpoint([B, B2, B6]);
  const ha = sim.addHost({ name: 'a', addresses: [A, A2, A6], endpoint: a });
  const hb = sim.addHost({ name: 'b', addresses: [B, B2, B6], endpoint: b });
  return { sim, a, b, ha, hb };
}

describe('routing', () => {
  it('picks the one of two parallel paths that matches (src, dst), both ways', () => {
    const { sim, a, b, ha, hb } = multipathHosts();
    const p1 = sim.addPath({ from: ha, fromAddress: A, to: hb, toAddress: B, config: { delayMs: 10 }, reverseConfig: { delayMs: 11 } });
    const p2 = sim.addPath({ from: ha, fromAddress: A2, to: hb, toAddress: B2, config: { delayMs: 50 }, name: 'slow' });
    expect(p1.forward.name).toBe('a[10.0.0.1]->b[10.0.0.2]');
    expect(p2.reverse.name).toBe('slow/rev');
    const f1 = a.sendFlow({ src: A, dst: B, count: 10, intervalMs: 1 });
    const f2 = a.sendFlow({ src: A2, dst: B2, count: 20, intervalMs: 1 });
    const back1 = b.sendFlow({ src: B, dst: A, count: 5, intervalMs: 1 });
    const back2 = b.sendFlow({ src: B2, dst: A2, count: 7, intervalMs: 1 });
    expect(sim.runUntilIdle(1000)).toBe(true);
    expect(b.flow(f1).every((x) => x.time - x.sentAt === 10 && x.dst === '10.0.0.2')).toBe(true);
    expect(b.flow(f2).every((x) => x.time - x.sentAt === 50 && x.src === '10.0.1.1')).toBe(true);
    expect(a.flow(back1).every((x) => x.time - x.sentAt === 11)).toBe(true);
    expect(a.flow(back2).every((x) => x.time - x.sentAt === 50)).toBe(true);
    expect([p1.forward, p2.forward, p1.reverse, p2.reverse].map((l) => l.counters.deliveredPackets)).toEqual([10, 20, 5, 7]);
    expect(sim.counters.unroutable).toBe(0);
  });

  it('counts and drops packets without a route, then falls back to a destination-only route', () => {
    const { sim, a, b, ha, hb } = multipathHosts();
    const p2 = sim.addPath({ from: ha, fromAddress: A2, to: hb, toAddress: B2, config: { delayMs: 50 } });
    const rec = new TraceRecorder();
    sim.setTracer(rec.tracer);
    a.sendFlow({ src: A, dst: B2, count: 3, intervalMs: 1 }); // no (A, B2) route, no fallback
    sim.runUntilIdle(1000);
    expect(sim.counters.unroutable).toBe(3);
    expect(ha.counters.unroutable).toBe(3);
    expect(rec.records.map((r) => `${r.link} ${r.event} ${r.reason}`)).toEqual(Array(3).fill('unroutable:a drop unroutable'));

    sim.addRoute(ha, { dst: B2, link: p2.forward });
    a.sendFlow({ src: A, dst: B2, count: 4, intervalMs: 1, startMs: sim.now });
    sim.runUntilIdle(2000);
    expect(b.arrivals).toHaveLength(4);
    expect(p2.forward.counters.deliveredPackets).toBe(4);
    expect(sim.counters.unroutable).toBe(3);
  });

  it('routes IPv6 by (src, dst) and rejects packets that are not IP', () => {
    const { sim, a, b, ha, hb } = multipathHosts();
    const v6 = sim.addPath({ from: ha, fromAddress: A6, to: hb, toAddress: B6, config: { delayMs: 3 } });
    a.sendFlow({ src: A6, dst: B6, count: 5, intervalMs: 1, size: 80 });
    sim.runUntilIdle(1000);
    expect(b.arrivals.map((x) => `${x.src} ${x.dst} ${x.time - x.sentAt}`)).toEqual(Array(5).fill('2001:db8::1 2001:db8::2 3'));
    expect(v6.forward.counters.deliveredBytes).toBe(400);

    let sent = 0;
    const junk: PacketEndpoint = {
      handlePacket: () => {},
      pollTransmit: (_now, out) => {
        if (sent++ >= 2) return 0;
        out.fill(0, 0, 60); // version 0: not IP
        return 60;
      },
      pollTimeout: () => Infinity,
      handleTimeout: () => {},
    };
    const hj = sim.addHost({ name: 'junk', addresses: [new Uint8Array([10, 9, 9, 9])], endpoint: junk });
    sim.runFor(1);
    expect(hj.counters.unroutable).toBe(2);
  });

  it('connect() routes every address of the peer by destination', () => {
    const { sim, a, b, ha, hb } = multipathHosts();
    const { forward } = sim.connect(ha, hb, { delayMs: 2 }, { delayMs: 4 });
    a.sendFlow({ src: A, dst: B2, count: 1, intervalMs: 0 });
    a.sendFlow({ src: A6, dst: B6, count: 1, intervalMs: 0 });
    b.sendFlow({ dst: A2, count: 1, intervalMs: 0 });
    sim.runUntilIdle(100);
    expect(b.arrivals.map((x) => x.time)).toEqual([2, 2]);
    expect(a.arrivals.map((x) => x.time)).toEqual([4]);
    expect(forward.name).toBe('a->b');
    expect(sim.link('b->a').counters.deliveredPackets).toBe(1);
  });

  it('rejects inconsistent topologies', () => {
    const { sim, ha, hb } = multipathHosts();
    expect(() => sim.addHost({ name: 'a', addresses: [], endpoint: new TestEndpoint([]) })).toThrow(/already exists/);
    expect(() => sim.addHost({ name: 'x', addresses: [new Uint8Array(5)], endpoint: new TestEndpoint([]) })).toThrow(/5 bytes/);
    expect(() => sim.addPath({ from: ha, fromAddress: B, to: hb, toAddress: B })).toThrow(/has no address 10.0.0.2/);
    const p = sim.addPath({ from: ha, fromAddress: A, to: hb, toAddress: B });
    expect(() => sim.addPath({ from: ha, fromAddress: A, to: hb, toAddress: B })).toThrow(/already exists/);
    expect(() => sim.addRoute(ha, { src: A, dst: B, link: sim.addLink(ha, hb, {}, 'other') })).toThrow(/already has a route/);
    expect(() => sim.addRoute(hb, { dst: A, link: p.forward })).toThrow(/does not start at b/);
    expect(() => sim.addRoute(ha, { src: A6, dst: B, link: p.forward })).toThrow(/different families/);
    const foreign = new Simulator(1).addHost({ name: 'a', addresses: [A], endpoint: new TestEndpoint([A]) });
    expect(() => sim.addLink(foreign, hb)).toThrow(/not in this simulator/);
    expect(() => sim.host('nope')).toThrow(/no host/);
    expect(() => sim.link('nope')).toThrow(/no link/);
  });
});

const EVERYTHING: Partial<LinkConfig> = {
  delayMs: 15,
  jitterMs: 4,
  lossProbability: 0.02,
  burstLoss: { pGoodToBad: 0.01, pBadToGood: 0.3 },
  rateBitsPerSec: 20e6,
  queueLimitBytes: 30_000,
  reorderProbability: 0.03,
  reorderExtraDelayMs: 7,
  duplicateProbability: 0.01,
};

/** A run with every impairment on, both ways; optionally an unrelated pair of hosts too. */
function scenario(seed: number, extraLink: boolean, filter?: (link: string) => boolean) {
  const { sim, a, b } = twoHosts(EVERYTHING, seed);
  const rec = new TraceRecorder({ filter, limit: 50 });
  sim.setTracer(rec.tracer);
  if (extraLink) {
    const c = new TestEndpoint([A2]);
    const d = new TestEndpoint([B2]);
    const hc = sim.addHost({ name: 'c', addresses: [A2], endpoint: c });
    const hd = sim.addHost({ name: 'd', addresses: [B2], endpoint: d });
    sim.connect(hc, hd, EVERYTHING);
    c.sendFlow({ dst: B2, count: 3000, intervalMs: 0.3, size: 700 });
  }
  a.sendFlow({ dst: B, count: 5000, intervalMs: 0.4, size: 1200 });
  b.sendFlow({ dst: A, count: 5000, intervalMs: 0.5, size: 300 });
  sim.at(700, () => sim.link('a->b').setConfig({ up: false }));
  sim.at(900, () => sim.link('a->b').setConfig({ up: true }));
  sim.runUntilIdle(1e6);
  return { sim, rec, a, b };
}

describe('determinism', () => {
  it('gives an identical trace for the same seed and a different one for another seed', () => {
    const r1 = scenario(42, false);
    const r2 = scenario(42, false);
    const r3 = scenario(43, false);
    expect(r1.rec.total).toBeGreaterThan(20_000);
    expect(r2.rec.hash()).toBe(r1.rec.hash());
    expect(r2.rec.total).toBe(r1.rec.total);
    expect(r2.a.arrivals).toEqual(r1.a.arrivals);
    expect(r3.rec.hash()).not.toBe(r1.rec.hash());
    // Every kind of event happened.
    const c = r1.sim.link('a->b').counters;
    for (const n of [c.droppedLoss, c.droppedQueue, c.droppedDown, c.duplicated, c.reordered]) expect(n).toBeGreaterThan(0);
  });

  it('adding a link does not perturb the others', () => {
    const ab = (l: string) => l === 'a->b' || l === 'b->a';
    const without = scenario(42, false, ab);
    const withExtra = scenario(42, true, ab);
    expect(withExtra.sim.link('c->d').counters.deliveredPackets).toBeGreaterThan(0);
    expect(withExtra.rec.hash()).toBe(without.rec.hash());
    expect(withExtra.b.arrivals).toEqual(without.b.arrivals);
  });

  it('records a readable trace consistent with the counters', () => {
    const { sim, a, link } = twoHosts({ delayMs: 2, rateBitsPerSec: 8e6, queueLimitBytes: 1000 });
    const rec = new TraceRecorder();
    link.tracer = rec.tracer;
    a.sendFlow({ dst: B, count: 3, intervalMs: 0, size: 1000 });
    sim.runUntilIdle(100);
    expect(rec.format().split('\n').map((l) => l.replace(/#\w+$/, '').trim())).toEqual([
      '0.000000 ms  a->b  offer  1000 B',
      '0.000000 ms  a->b  offer  1000 B',
      '0.000000 ms  a->b  offer  1000 B',
      '0.000000 ms  a->b  drop queue  1000 B',
      '3.000000 ms  a->b  deliver  1000 B',
      '4.000000 ms  a->b  deliver  1000 B',
    ]);
    expect(rec.records.filter((r) => r.event === 'deliver')).toHaveLength(link.counters.deliveredPackets);
    expect(rec.records[0].digest).toBe(rec.records[4].digest);
  });

  it('derives distinct streams from seed and label', () => {
    expect(deriveSeed(1, 'link:a->b')).not.toBe(deriveSeed(2, 'link:a->b'));
    expect(deriveSeed(1, 'link:a->b')).not.toBe(deriveSeed(1, 'link:b->a'));
    const sim = new Simulator(5);
    expect(sim.random('x').nextU32()).toBe(new Simulator(5).random('x').nextU32());
    expect(sim.random('x').nextU32()).not.toBe(sim.random('y').nextU32());
  });
});

/** An endpoint whose timer and transmissions the test drives directly, logging every call. */
class ScriptedEndpoint implements PacketEndpoint {
  deadline = Infinity;
  toSend = 0;
  readonly log: string[] = [];
  constructor(
    private readonly src: Uint8Array,
    private readonly dst: Uint8Array,
    private readonly onTimeout: (now: number, self: ScriptedEndpoint) => void = (_n, self) => (self.deadline = Infinity),
  ) {}
  handlePacket(now: number): void {
    this.log.push(`packet@${now}`);
  }
  pollTransmit(_now: number, out: Uint8Array): number {
    if (this.toSend === 0) return 0;
    this.toSend--;
    writeIpHeader(out, this.src, this.dst, 40);
    return 40;
  }
  pollTimeout(): number {
    return this.deadline;
  }
  handleTimeout(now: number): void {
    this.log.push(`timeout@${now}`);
    this.onTimeout(now, this);
  }
}

function scriptedPair(seed = 1, maxStepsPerInstant?: number) {
  const sim = new Simulator({ seed, maxStepsPerInstant });
  const a = new ScriptedEndpoint(A, B);
  const b = new ScriptedEndpoint(B, A);
  const ha = sim.addHost({ name: 'a', addresses: [A], endpoint: a });
  const hb = sim.addHost({ name: 'b', addresses: [B], endpoint: b });
  sim.connect(ha, hb, { delayMs: 10 });
  return { sim, a, b, ha, hb };
}

describe('run loop', () => {
  it('runs callbacks in time order, equal times first-come first-served, past times at now', () => {
    const sim = new Simulator(1);
    const log: string[] = [];
    sim.at(5, (t) => log.push(`x@${t}`));
    sim.at(2, (t) => log.push(`y@${t}`));
    sim.at(5, (t) => {
      log.push(`z@${t}`);
      sim.at(1, (u) => log.push(`past@${u}`));
      sim.after(3, (u) => log.push(`after@${u}`));
    });
    sim.runUntil(7);
    expect(log).toEqual(['y@2', 'x@5', 'z@5', 'past@5']);
    expect(sim.now).toBe(7);
    sim.runUntil(8);
    expect(log.at(-1)).toBe('after@8');
    expect(() => sim.runUntil(3)).toThrow(RangeError);
    expect(() => sim.at(Infinity, () => {})).toThrow(RangeError);
    expect(() => sim.after(Number.NaN, () => {})).toThrow(RangeError);
  });

  it('delivers packets before timers due at the same time, and runs past timers at now', () => {
    const { sim, a, b } = scriptedPair();
    a.toSend = 1; // arrives at b at t=10
    b.deadline = 10;
    sim.runUntil(20);
    expect(b.log).toEqual(['packet@10', 'timeout@10']);
    b.deadline = 3; // in the past
    sim.runUntil(25);
    expect(b.log.at(-1)).toBe('timeout@20');
  });

  it('sends what scripts queue between runs and inside callbacks at the right time', () => {
    const { sim, a, b, ha } = scriptedPair();
    sim.runUntil(5);
    a.toSend = 1;
    sim.poll(ha);
    sim.at(7, () => (a.toSend = 2));
    sim.runUntil(30);
    expect(b.log).toEqual(['packet@15', 'packet@17', 'packet@17']);
  });

  it('runUntilIdle and runWhile report whether they got there, and where the clock stops', () => {
    const { sim, a, b } = scriptedPair();
    a.toSend = 3;
    sim.at(50, () => (a.toSend = 1));
    expect(sim.runUntilIdle(30)).toBe(false);
    expect(sim.now).toBe(30);
    expect(sim.runUntilIdle(1000)).toBe(true);
    expect(sim.now).toBe(60);
    expect(sim.isIdle()).toBe(true);

    a.toSend = 5;
    expect(sim.runWhile(() => b.log.length < 6, 1000)).toBe(true);
    expect(sim.now).toBe(70);
    expect(sim.runWhile(() => b.log.length < 100, 500)).toBe(false);
    expect(sim.now).toBe(500);
    expect(b.log).toHaveLength(9);
  });

  it('throws on an endpoint whose timer never advances (livelock)', () => {
    const { sim, b } = scriptedPair(1, 10_000);
    b.deadline = 4;
    const stuck = new ScriptedEndpoint(A, B, () => {});
    sim.addHost({ name: 'stuck', addresses: [], endpoint: stuck });
    stuck.deadline = 2;
    expect(() => sim.runUntil(100)).toThrow(/livelock at t=2 ms .*stuck \(timer 2\)/);
  });

  it('throws on an endpoint that never stops transmitting, or returns a bad length', () => {
    const { sim, a } = scriptedPair(1, 10_000);
    a.toSend = Infinity;
    expect(() => sim.runUntil(1)).toThrow(/livelock at t=0 ms/);
    const s2 = new Simulator(1);
    const bad = new ScriptedEndpoint(A, B);
    bad.pollTransmit = () => 70000;
    s2.addHost({ name: 'bad', addresses: [], endpoint: bad });
    expect(() => s2.runUntil(1)).toThrow(/pollTransmit returned 70000/);
  });
});
