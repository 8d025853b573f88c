/**
 * Keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) in ESTABLISHED.
 */
import { describe, expect, it } from 'vitest';
import { ACK, add, FULL_OPTIONS, our, passiveOpen, RST, their } from './segments.js';

const cfg = { keepaliveIdleMs: 10_000, keepaliveIntervalMs: 1000, keepaliveProbes: 3 };

describe('keepalive', () => {
  it("RFC 1122 §4.2.3.6: after the idle time, probes <SEQ=SND.NXT-1> at the interval; unanswered probes -> 'reset' timeout", () => {
    const lab = passiveOpen(FULL_OPTIONS, cfg);
    const t0 = lab.now; // the last segment received
    expect(lab.conn.pollTimeout()).toBe(t0 + 10_000);
    const sent = lab.runUntil(t0 + 20_000);
    const probes = sent.filter((x) => !(x.seg.flags & RST));
    expect(probes.map((x) => x.at - t0)).toEqual([10_000, 11_000, 12_000]);
    for (const { seg } of probes) {
      expect(seg.flags & ACK).toBe(ACK);
      expect(seg.seq).toBe(add(our(1), -1));
      expect(seg.payload.length).toBeLessThanOrEqual(1);
      expect(seg.ack).toBe(their(1));
    }
    // The connection is declared dead at the next interval, with a RST.
    const rst = sent.filter((x) => x.seg.flags & RST);
    expect(rst.map((x) => x.at - t0)).toEqual([13_000]);
    expect(lab.state).toBe('CLOSED');
    expect(lab.events).toContain('reset:timeout');
  });

  it('RFC 1122 §4.2.3.6: an answered probe keeps the connection; the idle time starts again from the answer', () => {
    const lab = passiveOpen(FULL_OPTIONS, cfg);
    const t0 = lab.now;
    for (let round = 0; round < 5; round++) {
      const base = t0 + round * 10_500;
      const p = lab.runUntil(base + 10_000);
      expect(p.map((x) => x.at - base)).toEqual([10_000]);
      lab.now = base + 10_500;
      lab.ack(our(1)); // the peer answers
      expect(lab.conn.pollTimeout()).toBe(lab.now + 10_000);
    }
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.events).not.toContain('reset:timeout');
  });

  it('RFC 1122 §4.2.3.6: any segment received resets the idle timer', () => {
    const lab = passiveOpen(FULL_OPTIONS, cfg);
    lab.now += 9_000;
    lab.data(new Uint8Array(10));
    lab.poll();
    expect(lab.conn.pollTimeout()).toBe(lab.now + 10_000);
  });

  it('RFC 1122 §4.2.3.6: keep-alives are off by default (no timer on an idle connection)', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    expect(lab.conn.pollTimeout()).toBe(Infinity);
    expect(lab.runUntil(lab.now + 3_600_000)).toEqual([]);
    expect(lab.state).toBe('ESTABLISHED');
  });
});
