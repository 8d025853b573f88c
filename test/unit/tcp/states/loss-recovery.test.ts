/**
 * Loss recovery in ESTABLISHED: fast retransmit (RFC 5681 §3.2), NewReno partial ACKs
 * (RFC 6582), SACK-based recovery (RFC 6675), the retransmission timer (RFC 6298) and RTT
 * estimation (RFC 6298 §2, Karn's algorithm, RFC 7323 §4).
 */
import { describe, expect, it } from 'vitest';
import { activeOpen, bytes, FULL_OPTIONS, type Lab, one, our, type Out, passiveOpen, RST } from './segments.js';


function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** Writes `n` segments of `mss` bytes and returns what was sent and the data. */
function sendSegments(lab: Lab, n: number, mss: number): { sent: Out[]; data: Uint8Array } {
  const data = bytes(n * mss, 3);
  expect(lab.conn.write(data)).toBe(data.length);
  const sent = lab.poll();
  return { sent, data };
}

describe('fast retransmit (RFC 5681 §3.2)', () => {
  it('RFC 5681 §3.2: the third duplicate ACK retransmits SND.UNA; ssthresh = max(FlightSize/2, 2 SMSS) (eq. 4, RFC 6675 §5 (4.2))', () => {
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'newreno' });
    const { sent, data } = sendSegments(lab, 10, 1460);
    // Initial window: 10 segments (RFC 6928), all sent.
    expect(sent.map((s) => s.payload.length)).toEqual(Array<number>(10).fill(1460));
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_s, i) => our(1 + i * 1460)));
    lab.now += 50;
    lab.ack(our(1));
    lab.ack(our(1));
    expect(lab.poll()).toEqual([]); // two duplicates: nothing yet
    lab.ack(our(1));
    const r = one(lab.poll());
    expect(r.seq).toBe(our(1));
    expect(sameBytes(r.payload, data.subarray(0, 1460))).toBe(true);
    const st = lab.conn.stats();
    expect(st.fastRetransmits).toBe(1);
    expect(st.retransmittedSegments).toBe(1);
    // FlightSize = SND.MAX - SND.UNA = 14600 bytes.
    expect(st.ssthresh).toBe(7300);
    expect(st.cwnd).toBeLessThan(14600);
    expect(st.cwnd).toBeLessThanOrEqual(7300 + 3 * 1460);
  });

  it('RFC 9438 §4.6: with CUBIC, ssthresh = 0.7 x FlightSize on fast retransmit', () => {
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'cubic' });
    sendSegments(lab, 10, 1460);
    lab.now += 50;
    for (let i = 0; i < 3; i++) lab.ack(our(1));
    expect(one(lab.poll()).seq).toBe(our(1));
    expect(lab.conn.stats().ssthresh).toBeCloseTo(0.7 * 14600, 6);
  });

  it('RFC 5681 §2 (duplicate ACK definition): ACKs carrying data or changing the window do not count', () => {
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'newreno' });
    sendSegments(lab, 10, 1460);
    lab.now += 50;
    lab.ack(our(1), 65535);
    lab.ack(our(1), 60000); // window changed: not a duplicate
    lab.data(new Uint8Array(10)); // carries data: not a duplicate
    lab.poll();
    lab.ack(our(1), 60000); // duplicate #2 (after the first)
    expect(lab.poll().filter((s) => s.payload.length > 0)).toEqual([]);
    expect(lab.conn.stats().fastRetransmits).toBe(0);
  });

  it('RFC 6582 §3.2: a partial ACK during recovery retransmits the next unacknowledged segment at once', () => {
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'newreno' });
    const { data } = sendSegments(lab, 10, 1460);
    lab.now += 50;
    for (let i = 0; i < 3; i++) lab.ack(our(1));
    expect(one(lab.poll()).seq).toBe(our(1));
    // Segment 0 arrives; segment 4 was lost too: the receiver acknowledges up to it.
    lab.now += 50;
    lab.ack(our(1 + 4 * 1460));
    const r = lab.poll().filter((s) => s.payload.length > 0);
    expect(r[0].seq).toBe(our(1 + 4 * 1460));
    expect(sameBytes(r[0].payload, data.subarray(4 * 1460, 5 * 1460))).toBe(true);
  });
});

describe('SACK-based loss recovery (RFC 6675)', () => {
  it('RFC 6675 §4 IsLost: a hole is retransmitted once more than 2 SMSS above it are SACKed, not before', () => {
    const lab = passiveOpen(FULL_OPTIONS); // SMSS = 1460 - 12 = 1448
    const m = 1448;
    const { sent, data } = sendSegments(lab, 10, m);
    expect(sent).toHaveLength(10);
    const s = (i: number) => our(1 + i * m);
    lab.now += 50;
    // Segment 0 acknowledged; 1 missing; 2..3 SACKed: exactly 2 SMSS, not more.
    lab.ack(s(1), undefined, { sack: [[s(2), s(4)]] });
    expect(lab.poll()).toEqual([]);
    // 2..4 SACKed: 3 SMSS above the hole: segment 1 is lost and retransmitted, alone.
    lab.ack(s(1), undefined, { sack: [[s(2), s(5)]] });
    const r = one(lab.poll());
    expect(r.seq).toBe(s(1));
    expect(sameBytes(r.payload, data.subarray(m, 2 * m))).toBe(true);
    expect(lab.conn.stats().fastRetransmits).toBe(1);
  });

  it('RFC 6675 §4 IsLost / §5 (2): DupThresh discontiguous SACKed sequences above a hole mark it lost, even if small', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    const chunk = bytes(100, 4);
    for (let i = 0; i < 8; i++) {
      lab.conn.write(chunk);
      expect(one(lab.poll()).payload.length).toBe(100);
    }
    const s = (i: number) => our(1 + i * 100);
    lab.now += 50;
    // One ACK SACKing segments 1, 3 and 5: three discontiguous SACKed sequences above segment 0.
    lab.ack(s(0), undefined, { sack: [[s(5), s(6)], [s(3), s(4)], [s(1), s(2)]] });
    const r = lab.poll().filter((x) => x.payload.length > 0);
    expect(r.map((x) => [x.seq, x.payload.length])).toEqual([[s(0), 100]]);
  });

  it('RFC 2018 §8: a SACK block above SND.MAX or below SND.UNA is ignored', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    sendSegments(lab, 4, 1448);
    lab.now += 50;
    lab.ack(our(1), undefined, { sack: [[our(1 + 10 * 1448), our(1 + 20 * 1448)]] });
    lab.ack(our(1), undefined, { sack: [[our(1 - 5000), our(1)]] });
    expect(lab.poll()).toEqual([]);
    expect(lab.conn.stats().fastRetransmits).toBe(0);
  });
});

describe('retransmission timer (RFC 6298)', () => {
  it('RFC 6298 §2.1/§5.4/§5.5: first RTO after 1 s, retransmits SND.UNA, doubles each time; cwnd = 1 SMSS (RFC 5681 §3.1)', () => {
    // No timestamps and no timed segment yet: no RTT sample, RTO = 1 s.
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'newreno' });
    const t0 = lab.now;
    const { data } = sendSegments(lab, 3, 1460);
    expect(lab.conn.pollTimeout()).toBe(t0 + 1000);
    const sent = lab.runUntil(t0 + 7000);
    expect(sent.map((x) => [x.at - t0, x.seg.seq, x.seg.payload.length])).toEqual([
      [1000, our(1), 1460],
      [3000, our(1), 1460],
      [7000, our(1), 1460],
    ]);
    for (const x of sent) expect(sameBytes(x.seg.payload, data.subarray(0, 1460))).toBe(true);
    const st = lab.conn.stats();
    expect(st.cwnd).toBe(1460);
    expect(st.timeouts).toBe(3);
    expect(lab.conn.pollTimeout()).toBe(t0 + 15000);
  });

  it('RFC 5681 §3.1: after an RTO the ACK of the retransmission opens cwnd to 2 SMSS (slow start)', () => {
    const lab = passiveOpen({ mss: 1460 }, { congestion: 'newreno' });
    const t0 = lab.now;
    sendSegments(lab, 6, 1460);
    const rto = lab.runUntil(t0 + 1000);
    expect(rto.map((x) => x.seg.seq)).toEqual([our(1)]);
    lab.now = t0 + 1100;
    lab.ack(our(1 + 1460));
    const next = lab.poll().filter((s) => s.payload.length > 0);
    expect(next.map((s) => s.seq)).toEqual([our(1 + 1460), our(1 + 2920)]);
  });

  it('RFC 5681 §3.1, RFC 6928 §2: the loss window and the initial window are in units of the peer-limited SMSS', () => {
    const lab = passiveOpen({ mss: 536 }, { congestion: 'newreno' });
    const t0 = lab.now;
    lab.conn.write(bytes(20 * 536));
    const sent = lab.poll();
    // IW = min(10 MSS, max(2 MSS, 14600)) = 5360 bytes = 10 segments of 536.
    expect(sent.map((s) => s.payload.length)).toEqual(Array<number>(10).fill(536));
    const rto = lab.runUntil(t0 + 1000);
    // LW = 1 SMSS: one segment of 536 bytes.
    expect(rto.map((x) => [x.seg.seq, x.seg.payload.length])).toEqual([[our(1), 536]]);
    expect(lab.conn.stats().cwnd).toBe(536);
  });

  it('RFC 6928 §2: IW = min(10 MSS, max(2 MSS, 14600)): two segments with a 9000-byte MSS', () => {
    const lab = passiveOpen({ mss: 9000 }, { mss: 9000 });
    lab.conn.write(bytes(5 * 9000));
    expect(lab.poll().map((s) => s.payload.length)).toEqual([9000, 9000]);
    expect(lab.conn.stats().cwnd).toBe(18000);
  });

  it('RFC 6298 §5.3: an ACK of new data restarts the timer at now + RTO; §5.2: all acknowledged -> timer off', () => {
    const lab = passiveOpen({ mss: 1460 });
    const t0 = lab.now;
    sendSegments(lab, 2, 1460);
    lab.now = t0 + 600;
    lab.ack(our(1 + 1460));
    expect(lab.conn.pollTimeout()).toBe(t0 + 600 + lab.conn.stats().rtoMs);
    lab.now = t0 + 700;
    lab.ack(our(1 + 2920));
    expect(lab.conn.pollTimeout()).toBe(Infinity);
  });

  it('RFC 9293 §3.8.3 (R2): after dataRetries retransmissions the connection is reset with a RST', () => {
    const lab = passiveOpen({ mss: 1460 }, { dataRetries: 2 });
    const t0 = lab.now;
    sendSegments(lab, 1, 1460);
    const sent = lab.runUntil(t0 + 100_000);
    expect(sent.map((x) => [x.at - t0, x.seg.flags & RST ? 'RST' : 'data'])).toEqual([
      [1000, 'data'],
      [3000, 'data'],
      [7000, 'RST'],
    ]);
    expect(lab.state).toBe('CLOSED');
    expect(lab.events).toContain('reset:timeout');
  });
});

describe('RTT estimation (RFC 6298 §2, RFC 7323 §4)', () => {
  it('RFC 6298 §2.2/§2.3 with RFC 7323 §4.1 samples: SRTT, RTTVAR and RTO follow the formulas', () => {
    // SYN at t=0, SYN/ACK echoing its TSval at t=100: first sample R = 100.
    const lab = activeOpen(FULL_OPTIONS, { minRtoMs: 200 }, 100);
    let st = lab.conn.stats();
    expect(st.srttMs).toBe(100); // SRTT = R
    expect(st.rttVarMs).toBe(50); // RTTVAR = R/2
    expect(st.rtoMs).toBe(300); // SRTT + max(G, 4 RTTVAR) = 100 + 200
    // Data at t=1000, ACK echoing it at t=1060: R' = 60.
    lab.now = 1000;
    lab.conn.write(new Uint8Array(100));
    const d = one(lab.poll());
    lab.now = 1060;
    lab.ack(our(101), undefined, { ts: [lab.peerTsval(), d.ts!.tsval] });
    st = lab.conn.stats();
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 60| = 47.5; SRTT = 7/8 * 100 + 1/8 * 60 = 95.
    expect(st.rttVarMs).toBeCloseTo(47.5, 9);
    expect(st.srttMs).toBeCloseTo(95, 9);
    expect(st.rtoMs).toBeCloseTo(95 + 4 * 47.5, 9);
  });

  it('RFC 6298 §2.4: the RTO is never below the configured minimum', () => {
    const lab = activeOpen(FULL_OPTIONS, { minRtoMs: 200 }, 2);
    expect(lab.conn.stats().srttMs).toBe(2);
    expect(lab.conn.stats().rtoMs).toBe(200);
  });

  it("RFC 6298 §3 (Karn): no sample from an ACK of retransmitted data; the backed-off RTO stays until a clean sample", () => {
    const lab = passiveOpen({ mss: 1460 }, { minRtoMs: 100 });
    const t0 = lab.now;
    sendSegments(lab, 1, 1460);
    lab.runUntil(t0 + 1000); // retransmitted at t0 + 1000
    lab.now = t0 + 1100;
    lab.ack(our(1461));
    let st = lab.conn.stats();
    expect(st.srttMs).toBe(0); // no measurement yet
    expect(st.rtoMs).toBe(2000); // backed-off value kept (RFC 6298 §5.7)
    // A segment sent after the recovery and acknowledged 50 ms later is a valid sample.
    lab.conn.write(new Uint8Array(100));
    one(lab.poll());
    lab.now = t0 + 1150;
    lab.ack(our(1561));
    st = lab.conn.stats();
    expect(st.srttMs).toBe(50);
    expect(st.rttVarMs).toBe(25);
    expect(st.rtoMs).toBe(150); // 50 + 4 * 25
  });

  it('RFC 7323 §4.1: with timestamps the RTO after the handshake reflects the measured RTT (no 1 s RTO)', () => {
    const lab = passiveOpen(FULL_OPTIONS, { minRtoMs: 200 }, 40); // SYN/ACK at 0, ACK echoing it at 40
    expect(lab.conn.stats().srttMs).toBe(40);
    const t0 = lab.now;
    sendSegments(lab, 1, 1448);
    expect(lab.conn.pollTimeout()).toBe(t0 + 200); // 40 + 4 * 20 = 120 -> minimum 200
    expect(lab.conn.stats().bytesAcked).toBe(0);
  });
});
