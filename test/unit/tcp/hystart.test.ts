/**
 * HyStart++ (RFC 9406, mptcp/tcp/hystart.ts) on synthetic rounds: a window doubling each round
 * with a chosen minimum RTT per round.
 */
import { describe, expect, it } from 'vitest';
import { slowStartAck } from '../../../mptcp/tcp/congestion.js';
import { HyStart } from '../../../mptcp/tcp/hystart.js';

const MSS = 1448;

/**
 * Runs slow start for `rtts.length` rounds (one ACK per MSS, each with that round's RTT);
 * returns the window after each round, the round slow start ended at (or -1), and whether
 * each round ended in CSS.
 */
function rounds(rtts: number[]): { cwnd: number[]; exitRound: number; css: boolean[] } {
  const hy = new HyStart();
  const w = { cwnd: 10 * MSS, ssthresh: Infinity };
  const out: number[] = [];
  const css: boolean[] = [];
  let exitRound = -1;
  for (const [i, rtt] of rtts.entries()) {
    const acks = Math.round(w.cwnd / MSS);
    for (let k = 0; k < acks; k++) {
      slowStartAck(hy, w, MSS, MSS, rtt);
      if (w.ssthresh !== Infinity && exitRound < 0) exitRound = i;
    }
    out.push(w.cwnd);
    css.push(hy.conservative);
  }
  return { cwnd: out, exitRound, css };
}

describe('HyStart++', () => {
  it('a flat RTT: standard slow start (the window doubles each round), never an exit', () => {
    const r = rounds(new Array<number>(8).fill(20));
    expect(r.exitRound).toBe(-1);
    for (let i = 1; i < r.cwnd.length; i++) expect(r.cwnd[i] / r.cwnd[i - 1]).toBeCloseTo(2, 1);
  });

  it('an RTT rising past the threshold: a quarter of the growth (CSS), then congestion avoidance after 5 CSS rounds', () => {
    // 20 ms for three rounds, then 25 ms (threshold max(4, min(20 / 8, 16)) = 4 ms) and rising.
    const r = rounds([20, 20, 20, 25, 26, 27, 28, 29, 30, 31, 32]);
    expect(r.css[2]).toBe(false);
    expect(r.css[3]).toBe(true);
    // Growth per CSS round is about 1.25x instead of 2x.
    expect(r.cwnd[5] / r.cwnd[4]).toBeGreaterThan(1.2);
    expect(r.cwnd[5] / r.cwnd[4]).toBeLessThan(1.3);
    expect(r.exitRound).toBeGreaterThanOrEqual(7);
    expect(r.exitRound).toBeLessThanOrEqual(9);
  });

  it('a rise below the threshold is not queueing: slow start goes on', () => {
    const r = rounds([20, 21, 22, 23, 24, 25, 26]);
    expect(r.css.some((x) => x)).toBe(false);
    expect(r.exitRound).toBe(-1);
  });

  it('an RTT that comes back down during CSS resumes slow start', () => {
    const r = rounds([20, 20, 20, 30, 30, 20, 20]);
    expect(r.css[3]).toBe(true);
    expect(r.css[5]).toBe(false);
    expect(r.exitRound).toBe(-1);
  });

  it('only the initial slow start: after a loss (finite ssthresh) growth is standard', () => {
    const hy = new HyStart();
    const w = { cwnd: 10 * MSS, ssthresh: 1e9 };
    for (let k = 0; k < 1000; k++) slowStartAck(hy, w, MSS, MSS, 20 + k);
    expect(w.cwnd).toBe(10 * MSS + 1000 * MSS);
  });
});
