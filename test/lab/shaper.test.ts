// The link emulator's shaping logic in virtual time with seeded randomness: delay, rate, queue,
// loss (random and Gilbert-Elliott), jitter, reordering, blocking, scripts; and the config specs.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../mptcp/core/sans-io.js';
import { applyPathSpec, decodeJson, defaultDirection, defaultPath, encodeJson, type DirectionConfig } from './link-config.js';
import { PathEmulator } from './emulator/path-emulator.js';
import { DirectionShaper } from './emulator/shaper.js';
import { parseDuration, parseRate, parseSize } from './units.js';

function shaper(over: Partial<DirectionConfig>, seed = 1): DirectionShaper {
  return new DirectionShaper({ ...defaultDirection(), ...over }, new SeededRandom(seed));
}

/** Runs the shaper until empty; returns [id, time] of each delivery, in order. */
function drain(s: DirectionShaper): [number, number][] {
  const out: [number, number][] = [];
  for (let t = s.nextDue(); t !== Infinity; t = s.nextDue()) {
    expect(s.take(t - 1e-6)).toBe(-1);
    for (let id = s.take(t); id >= 0; id = s.take(t)) out.push([id, t]);
  }
  return out;
}

describe('DirectionShaper', () => {
  it('delays each frame by the propagation delay', () => {
    const s = shaper({ delayMs: 25 });
    expect(s.offer(10, 7, 1000)).toBe(true);
    expect(s.nextDue()).toBe(35);
    expect(s.take(34.9)).toBe(-1);
    expect(s.take(35)).toBe(7);
    expect(s.lastBytes).toBe(1000);
    expect(s.nextDue()).toBe(Infinity);
  });

  it('serializes at the configured rate, after the frames before', () => {
    const s = shaper({ rateBitsPerSec: 10e6, delayMs: 5, queuePackets: 1000 });
    for (let i = 0; i < 100; i++) expect(s.offer(0, i, 1250)).toBe(true); // 1 ms each at 10 Mbit/s
    const d = drain(s);
    expect(d.map(([id]) => id)).toEqual([...Array(100).keys()]);
    d.forEach(([, t], i) => expect(t).toBeCloseTo(5 + (i + 1), 9));
    expect(s.counters.deliveredBytes).toBe(125_000);
  });

  it('drops at the tail when the bottleneck holds queuePackets frames or queueBytes bytes', () => {
    const s = shaper({ rateBitsPerSec: 1e6, queuePackets: 50 });
    let accepted = 0;
    for (let i = 0; i < 200; i++) if (s.offer(0, i, 1000)) accepted++;
    expect(accepted).toBe(50);
    expect(s.counters.droppedQueue).toBe(150);
    expect(s.queued(0)).toBe(50);
    expect(s.queued(8 * 10.5)).toBe(40); // 8 ms per frame: 10 frames have left after 84 ms
    const b = shaper({ rateBitsPerSec: 1e6, queueBytes: 4500 });
    expect([0, 1, 2, 3, 4].map((i) => b.offer(0, i, 1000))).toEqual([true, true, true, true, false]);
  });

  it('loses a random fraction of frames', () => {
    const s = shaper({ loss: 0.1 }, 42);
    let lost = 0;
    for (let i = 0; i < 100_000; i++) if (!s.offer(i, i, 100)) lost++;
    expect(lost / 100_000).toBeGreaterThan(0.095);
    expect(lost / 100_000).toBeLessThan(0.105);
    expect(s.counters.droppedLoss).toBe(lost);
  });

  it('loses in bursts with Gilbert-Elliott: mean loss p/(p+r), mean burst 1/r', () => {
    const s = shaper({ burst: { pGoodToBad: 0.01, pBadToGood: 0.25, lossInGood: 0, lossInBad: 1 } }, 7);
    const n = 400_000;
    let lost = 0;
    let bursts = 0;
    let prev = false;
    for (let i = 0; i < n; i++) {
      const l = !s.offer(i, i, 100);
      if (l) lost++;
      if (l && !prev) bursts++;
      prev = l;
    }
    expect(lost / n).toBeCloseTo(0.01 / 0.26, 2);
    expect(lost / bursts).toBeGreaterThan(3.6);
    expect(lost / bursts).toBeLessThan(4.4);
  });

  it('jitters within +-jitter around the delay and keeps FIFO order', () => {
    const s = shaper({ delayMs: 20, jitterMs: 5 }, 3);
    const delays: number[] = [];
    for (let i = 0; i < 2000; i++) {
      s.offer(i * 100, i, 100); // sparse: no frame waits for an earlier one
      const due = s.nextDue();
      expect(s.take(due)).toBe(i);
      delays.push(due - i * 100);
    }
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...delays)).toBeLessThanOrEqual(25);
    expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeCloseTo(20, 0);
    const dense = shaper({ delayMs: 20, jitterMs: 5 }, 4);
    for (let i = 0; i < 1000; i++) dense.offer(i * 0.1, i, 100);
    expect(drain(dense).map(([id]) => id)).toEqual([...Array(1000).keys()]);
  });

  it('reorders only the chosen fraction, which later frames overtake', () => {
    const s = shaper({ delayMs: 10, reorder: 0.05, reorderDelayMs: 3 }, 9);
    for (let i = 0; i < 10_000; i++) s.offer(i * 0.5, i, 100);
    const order = drain(s).map(([id]) => id);
    expect(order.length).toBe(10_000);
    let late = 0;
    for (let i = 1; i < order.length; i++) if (order[i] < order[i - 1]) late++;
    expect(s.counters.reordered / 10_000).toBeGreaterThan(0.04);
    expect(s.counters.reordered / 10_000).toBeLessThan(0.06);
    expect(late).toBeGreaterThan(0.8 * s.counters.reordered);
  });

  it('drops everything held and offered while blocked, and forwards again after', () => {
    const s = shaper({ delayMs: 50, reorder: 0.5, reorderDelayMs: 1 }, 5);
    for (let i = 0; i < 10; i++) s.offer(i, i, 100);
    const released: number[] = [];
    s.setBlocked(true, (id) => released.push(id));
    expect(released.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(s.offer(20, 99, 100)).toBe(false);
    expect(s.counters.droppedState).toBe(11);
    expect(s.nextDue()).toBe(Infinity);
    s.setBlocked(false, () => undefined);
    expect(s.offer(30, 100, 100)).toBe(true);
  });
});

describe('PathEmulator', () => {
  it('runs script steps at their times, reports state changes, and repeats a trace', () => {
    const base = applyPathSpec('p', defaultPath(), { delay: 10 });
    const e = new PathEmulator(base, new SeededRandom(1));
    const down = applyPathSpec('p', base, { state: 'down' });
    const slow = applyPathSpec('p', base, { state: 'up', rate: '1mbit' });
    e.startScript(100, [
      { atMs: 50, config: slow },
      { atMs: 20, config: down },
    ]);
    expect(e.nextDeadline()).toBe(120);
    expect(e.uplink.offer(110, 1, 100)).toBe(true);
    const released: number[] = [];
    expect(e.advance(120, (id) => released.push(id))).toBe('down');
    expect(released).toEqual([1]);
    expect(e.downlink.offer(130, 2, 100)).toBe(false);
    expect(e.advance(150, () => undefined)).toBe('up');
    expect(e.config.downlink.rateBitsPerSec).toBe(1e6);
    expect(e.pendingSteps()).toBe(0);
    expect(e.nextDeadline()).toBe(Infinity);

    const r = new PathEmulator(base, new SeededRandom(1));
    r.startScript(0, [{ atMs: 5, config: slow }], 10);
    r.advance(5, () => undefined);
    expect(r.nextDeadline()).toBe(15);
    expect(() => r.startScript(0, [{ atMs: 10, config: slow }], 10)).toThrow(/repeat period/);
  });
});

describe('link specs', () => {
  it('applies shared fields to both directions and overrides per direction', () => {
    const c = applyPathSpec('wifi', defaultPath(), { rate: '50mbit', delay: '10ms', queue: 500, downlink: { delay: 30, loss: '1%' }, uplink: { burst: { p: 1, r: 25 } } });
    expect(c.uplink.rateBitsPerSec).toBe(50e6);
    expect(c.uplink.delayMs).toBe(10);
    expect(c.downlink.delayMs).toBe(30);
    expect(c.downlink.loss).toBeCloseTo(0.01);
    expect(c.uplink.loss).toBe(0);
    expect(c.uplink.burst).toEqual({ pGoodToBad: 0.01, pBadToGood: 0.25, lossInGood: 0, lossInBad: 1 });
    expect(c.downlink.queuePackets).toBe(500);
    expect(decodeJson(encodeJson(defaultPath()))).toEqual(defaultPath());
  });

  it('rejects unknown settings and bad values with the field named', () => {
    expect(() => applyPathSpec('lte', defaultPath(), { rtt: 5 } as never)).toThrow(/lte: unknown setting "rtt"/);
    expect(() => applyPathSpec('lte', defaultPath(), { rate: '5 furlongs' })).toThrow(/lte.rate: unknown rate unit/);
    expect(() => applyPathSpec('lte', defaultPath(), { loss: '150%' })).toThrow(/more than 100%/);
    expect(() => applyPathSpec('lte', defaultPath(), { reorder: 1 })).toThrow(/reorderDelay/);
    expect(() => applyPathSpec('lte', defaultPath(), { state: 'sideways' as never })).toThrow(/not up, blackhole or down/);
  });

  it('reads units', () => {
    expect(parseRate('r', '1.5gbit')).toBe(1.5e9);
    expect(parseRate('r', 20)).toBe(20e6);
    expect(parseRate('r', 'unlimited')).toBe(Infinity);
    expect(parseDuration('d', '1.5s')).toBe(1500);
    expect(parseDuration('d', '250us')).toBe(0.25);
    expect(parseSize('s', '64kb')).toBe(65536);
  });
});
