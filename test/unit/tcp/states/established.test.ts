/**
 * ESTABLISHED: segment acceptance, RST/SYN/ACK validation (RFC 5961), window scaling,
 * acknowledgment generation (RFC 5681 §4.2, RFC 2018), timestamps and PAWS (RFC 7323).
 */
import { describe, expect, it } from 'vitest';
import { ACK, activeOpen, add, FULL_OPTIONS, ISS, type Lab, one, our, passiveOpen, RST, SYN, their, TS_OFFSET } from './segments.js';


/** Sends `n` small in-order segments (acknowledging each) so the quickack start is over. */
function warmUp(lab: Lab, n = 20): void {
  for (let i = 0; i < n; i++) {
    lab.data(new Uint8Array(10));
    lab.poll();
    lab.conn.read(lab.now);
  }
  // Let a pending delayed ACK go out, so that tests start with nothing unacknowledged.
  lab.runUntil(lab.now + 1000);
}

describe('ESTABLISHED: RST and SYN validation (RFC 5961)', () => {
  it('RFC 5961 §3.2: a RST whose sequence number is exactly RCV.NXT resets the connection', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.send({ seq: their(1), flags: RST });
    expect(lab.state).toBe('CLOSED');
    expect(lab.collectEvents()).toEqual(['connected', 'reset:peer-reset']);
    expect(lab.poll()).toEqual([]);
  });

  it('RFC 5961 §3.2: an in-window RST that is not exactly RCV.NXT gets a challenge ACK and no reset', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.write(new Uint8Array(10));
    lab.poll();
    lab.send({ seq: their(1 + 1000), flags: RST | ACK, ack: our(1) });
    const a = one(lab.poll());
    expect(a.flags).toBe(ACK);
    expect(a.seq).toBe(our(11)); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    expect(a.ack).toBe(their(1));
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.collectEvents()).toEqual(['connected']);
    expect(lab.conn.stats().challengeAcks).toBe(1);
  });

  it.each([
    ['just below RCV.NXT', -1],
    ['far beyond the window', 50_000_000],
  ])('RFC 5961 §3.2: a RST outside the window (%s) is silently dropped', (_n, delta) => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.send({ seq: add(their(1), delta), flags: RST });
    expect(lab.poll()).toEqual([]);
    expect(lab.state).toBe('ESTABLISHED');
  });

  it.each([
    ['in the window', 500],
    ['at RCV.NXT', 0],
    ['below the window (the old ISN)', -1],
  ])('RFC 5961 §4.2: a SYN (%s) gets a challenge ACK and no state change', (_n, delta) => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.send({ seq: add(their(1), delta), flags: SYN, mss: 1460 });
    const a = one(lab.poll());
    expect(a.flags).toBe(ACK);
    expect(a.seq).toBe(our(1));
    expect(a.ack).toBe(their(1));
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.collectEvents()).toEqual(['connected']);
  });

  it('RFC 9293 §3.10.7.4: a segment acknowledging data not yet sent (SEG.ACK > SND.NXT) gets an ACK and is dropped', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.write(new Uint8Array(100));
    lab.poll(); // SND.NXT = ISS + 101
    lab.send({ seq: their(1), ack: our(201), flags: ACK, payload: new Uint8Array(50) });
    const a = one(lab.poll());
    expect(a.flags & ACK).toBe(ACK);
    expect(a.ack).toBe(their(1)); // the 50 bytes were not accepted
    expect(lab.conn.readableBytes).toBe(0);
    expect(lab.conn.stats().bytesAcked).toBe(0);
    // The same data with a valid ACK is accepted.
    lab.send({ seq: their(1), ack: our(101), flags: ACK, payload: new Uint8Array(50) });
    expect(one(lab.poll()).ack).toBe(their(51));
    expect(lab.conn.readableBytes).toBe(50);
    expect(lab.conn.stats().bytesAcked).toBe(100);
  });

  it('RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is dropped with an ACK', () => {
    const lab = passiveOpen({ mss: 1460 }); // no window scaling: MAX.SND.WND = 65535
    lab.send({ seq: their(1), ack: add(ISS, -100_000), flags: ACK, payload: new Uint8Array(10) });
    const a = one(lab.poll());
    expect(a.ack).toBe(their(1));
    expect(lab.conn.readableBytes).toBe(0);
  });
});

describe('ESTABLISHED: send window', () => {
  it('RFC 7323 §2.2/§2.3: SEG.WND of non-SYN segments is shifted by the peer\'s scale', () => {
    const lab = passiveOpen(FULL_OPTIONS); // peer shift 7, SMSS 1448 (TS on)
    lab.send({ seq: their(1), ack: our(1), flags: ACK, window: 3 });
    expect(lab.conn.stats().sendWindow).toBe(3 << 7);
    lab.send({ seq: their(1), ack: our(1), flags: ACK, window: 20 });
    expect(lab.conn.stats().sendWindow).toBe(2560);
    lab.conn.write(new Uint8Array(4000));
    // 2560 bytes fit: one full segment; the 1112 bytes left to the window's edge are held back
    // by sender SWS avoidance (RFC 9293 §3.8.6.2.1), since more data is queued.
    expect(lab.poll().map((s) => [s.seq, s.payload.length])).toEqual([[our(1), 1448]]);
    // When those 1112 bytes are all there is, they go.
    const lab2 = passiveOpen(FULL_OPTIONS);
    lab2.send({ seq: their(1), ack: our(1), flags: ACK, window: 20 });
    lab2.conn.write(new Uint8Array(2560));
    const sent = lab2.poll();
    expect(sent.map((s) => [s.seq, s.payload.length])).toEqual([
      [our(1), 1448],
      [our(1449), 1112],
    ]);
  });

  it('RFC 7323 §2.3: a shift above 14 is treated as 14', () => {
    const lab = passiveOpen({ mss: 1460, ws: 15 });
    lab.send({ seq: their(1), ack: our(1), flags: ACK, window: 2 });
    expect(lab.conn.stats().sendWindow).toBe(2 << 14);
  });

  it('RFC 9293 §3.10.7.4: a window update from an older segment (SEG.SEQ < SND.WL1) is ignored', () => {
    const lab = passiveOpen({ mss: 1460 });
    lab.data(new Uint8Array(100), { window: 4000 });
    expect(lab.conn.stats().sendWindow).toBe(4000);
    // A reordered older pure ACK (seq below the data just taken) with a different window.
    lab.send({ seq: their(1), ack: our(1), flags: ACK, window: 100 });
    expect(lab.conn.stats().sendWindow).toBe(4000);
  });
});

describe('ESTABLISHED: acknowledgments', () => {
  it('RFC 5681 §4.2, RFC 2018 §4: out-of-order data -> immediate duplicate ACK; SACK blocks most recent first', () => {
    const lab = passiveOpen(FULL_OPTIONS); // timestamps on: at most 3 SACK blocks
    warmUp(lab);
    const base = 1 + 200; // 20 warm-up segments of 10 bytes
    const seg = (off: number, len: number) => lab.data(new Uint8Array(len), { seq: their(base + off) });
    const r = (a: number, b: number): [number, number] => [their(base + a), their(base + b)];

    seg(1000, 100);
    let a = one(lab.poll());
    expect(a.ack).toBe(their(base));
    expect(a.sack).toEqual([r(1000, 1100)]);

    seg(3000, 100);
    a = one(lab.poll());
    expect(a.ack).toBe(their(base));
    expect(a.sack).toEqual([r(3000, 3100), r(1000, 1100)]);

    seg(2000, 100);
    a = one(lab.poll());
    expect(a.sack).toEqual([r(2000, 2100), r(3000, 3100), r(1000, 1100)]);

    // A segment extending the oldest block: that block goes first, merged.
    seg(1100, 100);
    a = one(lab.poll());
    expect(a.sack).toEqual([r(1000, 1200), r(2000, 2100), r(3000, 3100)]);

    // A fourth block: only three fit beside timestamps (RFC 2018 §3); the oldest reported drops.
    seg(4000, 100);
    a = one(lab.poll());
    expect(a.sack).toEqual([r(4000, 4100), r(1000, 1200), r(2000, 2100)]);
    expect(a.optionBytes).toBeLessThanOrEqual(40);
    expect(lab.conn.readableBytes).toBe(0);
    expect(lab.conn.stats().outOfOrderSegments).toBe(5);
  });

  it('RFC 2018 §3: without timestamps up to four SACK blocks are reported', () => {
    const lab = passiveOpen({ mss: 1460, sackPermitted: true });
    warmUp(lab);
    const base = 201;
    for (const off of [1000, 2000, 3000, 4000, 5000]) lab.data(new Uint8Array(10), { seq: their(base + off) });
    const a = lab.poll().at(-1)!;
    expect(a.sack).toEqual([5000, 4000, 3000, 2000].map((o) => [their(base + o), their(base + o + 10)]));
  });

  it('RFC 2018 §2: no SACK blocks when the peer did not send SACK-permitted', () => {
    const lab = passiveOpen({ mss: 1460 });
    lab.data(new Uint8Array(10), { seq: their(500) });
    const a = one(lab.poll());
    expect(a.ack).toBe(their(1));
    expect(a.sack).toEqual([]);
  });

  it('RFC 5681 §4.2: data filling a gap is acknowledged immediately, cumulatively, without SACK once the gap is gone', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    warmUp(lab);
    const base = 201;
    lab.data(new Uint8Array(100), { seq: their(base + 100) });
    lab.poll();
    lab.data(new Uint8Array(100), { seq: their(base + 300) });
    lab.poll();
    // Fill the first gap: immediate ACK up to the end of the first block, SACK for the rest.
    lab.data(new Uint8Array(100), { seq: their(base) });
    let a = one(lab.poll());
    expect(a.ack).toBe(their(base + 200));
    expect(a.sack).toEqual([[their(base + 300), their(base + 400)]]);
    // Fill the last gap: immediate ACK of everything, no SACK option.
    lab.data(new Uint8Array(100), { seq: their(base + 200) });
    a = one(lab.poll());
    expect(a.ack).toBe(their(base + 400));
    expect(a.sack).toEqual([]);
    expect(lab.conn.readableBytes).toBe(400);
  });

  it('RFC 9293 §3.8.6.3, RFC 5681 §4.2: a single small in-order segment is acknowledged after the delayed-ACK time', () => {
    const lab = passiveOpen(FULL_OPTIONS, { delayedAckMs: 40 });
    warmUp(lab);
    const t = (lab.now += 1000);
    lab.data(new Uint8Array(100));
    expect(lab.poll()).toEqual([]);
    expect(lab.conn.pollTimeout()).toBe(t + 40);
    expect(lab.runUntil(t + 39)).toEqual([]);
    const sent = lab.runUntil(t + 40);
    expect(sent).toHaveLength(1);
    expect(sent[0].at).toBe(t + 40);
    expect(sent[0].seg.ack).toBe(their(301));
  });

  it('RFC 5681 §4.2: every second full-sized segment is acknowledged at once (full-sized = MSS less the 12 bytes of timestamps)', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    warmUp(lab);
    const full = 1460 - 12; // the peer's SMSS: our MSS less its per-segment TS option (RFC 7323 §3.2, RFC 6691)
    lab.now += 1000;
    lab.data(new Uint8Array(full));
    expect(lab.poll()).toEqual([]);
    lab.data(new Uint8Array(full));
    const a = one(lab.poll());
    expect(a.ack).toBe(their(201 + 2 * full));
  });

  it('RFC 5681 §4.2: every second full-sized segment is acknowledged at once (no timestamps)', () => {
    const lab = passiveOpen({ mss: 1460, sackPermitted: true });
    warmUp(lab);
    lab.now += 1000;
    lab.data(new Uint8Array(1460));
    expect(lab.poll()).toEqual([]);
    lab.data(new Uint8Array(1460));
    expect(one(lab.poll()).ack).toBe(their(201 + 2920));
  });

  it('RFC 9293 §3.10.7.4: an old duplicate segment is answered with an ACK and not delivered twice', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.data(new Uint8Array([1, 2, 3]));
    lab.poll();
    lab.data(new Uint8Array([1, 2, 3]), { seq: their(1) });
    const a = one(lab.poll());
    expect(a.ack).toBe(their(4));
    expect(lab.conn.readableBytes).toBe(3);
    expect(lab.conn.stats().duplicateSegments).toBe(1);
  });

  it('RFC 9293 §3.10.7.4: a segment overlapping RCV.NXT delivers only its new part', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.data(new Uint8Array([1, 2, 3]));
    lab.poll();
    lab.data(new Uint8Array([2, 3, 4, 5]), { seq: their(2) });
    expect(one(lab.poll()).ack).toBe(their(6));
    expect(Array.from(lab.conn.read(lab.now) ?? [])).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('ESTABLISHED: timestamps and PAWS (RFC 7323)', () => {
  it('RFC 7323 §5.3: a segment with TSval older than TS.Recent is dropped and answered with an ACK', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    const t = lab.peerTsval() + 1000;
    lab.now = 100;
    lab.data(new Uint8Array(10), { ts: [t, 0] }); // TS.Recent = t
    lab.poll();
    lab.now = 110;
    lab.data(new Uint8Array(10), { ts: [t - 1, 0] });
    const a = one(lab.poll());
    expect(a.ack).toBe(their(11)); // not acknowledged: dropped
    expect(a.ts?.tsecr).toBe(t);
    expect(lab.conn.readableBytes).toBe(10);
    // The same bytes with a current TSval are accepted.
    lab.data(new Uint8Array(10), { seq: their(11), ts: [t + 1, 0] });
    expect(one(lab.poll()).ack).toBe(their(21));
  });

  it('RFC 7323 §5.2/§5.3: TSval comparison is modulo 2^32 (a wrapped TSval is newer)', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    // Walk TS.Recent up to just below 2^32 in steps of less than 2^31 (each one newer).
    lab.data(new Uint8Array(5), { ts: [0x80000000, 0] });
    expect(one(lab.poll()).ack).toBe(their(6));
    lab.data(new Uint8Array(5), { ts: [0xfffffff0, 0] });
    expect(one(lab.poll()).ack).toBe(their(11));
    lab.data(new Uint8Array(10), { ts: [5, 0] });
    const a = one(lab.poll());
    expect(a.ack).toBe(their(21));
    expect(a.ts?.tsecr).toBe(5);
  });

  it('RFC 7323 §5.3: PAWS does not apply to RST segments', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.data(new Uint8Array(10), { ts: [lab.peerTsval() + 1000, 0] });
    expect(one(lab.poll()).ack).toBe(their(11));
    lab.send({ seq: their(11), flags: RST, ts: [lab.peerTsval() - 1000, 0] });
    expect(lab.state).toBe('CLOSED');
  });

  it('RFC 7323 §4.3: TSval is our clock, TSecr echoes TS.Recent, which only in-order segments update', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    const t = lab.peerTsval();
    lab.now = 200;
    lab.data(new Uint8Array(10), { ts: [t + 7000, 0] });
    let a = one(lab.poll());
    expect(a.ts).toEqual({ tsval: TS_OFFSET + 200, tsecr: t + 7000 });
    // Out of order (SEG.SEQ > Last.ACK.sent): TS.Recent is not updated.
    lab.now = 210;
    lab.data(new Uint8Array(10), { seq: their(500), ts: [t + 7010, 0] });
    a = one(lab.poll());
    expect(a.ts).toEqual({ tsval: TS_OFFSET + 210, tsecr: t + 7000 });
    // In order again: updated.
    lab.now = 220;
    lab.data(new Uint8Array(10), { seq: their(11), ts: [t + 7020, 0] });
    a = one(lab.poll());
    expect(a.ts).toEqual({ tsval: TS_OFFSET + 220, tsecr: t + 7020 });
  });

  it('RFC 7323 §4.3 (delayed ACKs): one ACK for two segments echoes the earlier segment\'s TSval', () => {
    const lab = passiveOpen(FULL_OPTIONS, { delayedAckMs: 40 });
    warmUp(lab);
    const t = lab.peerTsval();
    lab.now += 1000;
    lab.data(new Uint8Array(100), { ts: [t + 8001, 0] });
    lab.now += 10;
    lab.data(new Uint8Array(100), { ts: [t + 8002, 0] });
    expect(lab.poll()).toEqual([]);
    const sent = lab.runUntil(lab.now + 40);
    expect(sent).toHaveLength(1);
    expect(sent[0].seg.ack).toBe(their(401));
    expect(sent[0].seg.ts?.tsecr).toBe(t + 8001);
  });

  it('RFC 7323 §3.2: no timestamps on any segment when the SYN/ACK had none', () => {
    const lab = activeOpen({ mss: 1460, sackPermitted: true });
    lab.conn.write(new Uint8Array(100));
    const s = one(lab.poll());
    expect(s.ts).toBeUndefined();
    expect(s.payload.length).toBe(100);
  });
});

describe('ESTABLISHED: segment size', () => {
  it('RFC 9293 §3.7.1, RFC 6691 §2: TCP options on data segments come out of the MSS (timestamps)', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.write(new Uint8Array(5000));
    const sent = lab.poll();
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(s.payload.length + s.optionBytes).toBeLessThanOrEqual(1460);
    expect(sent[0].payload.length).toBe(1448);
  });

  it('RFC 9293 §3.7.1, RFC 6691 §2: SACK blocks on data segments come out of the MSS too', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    // Out-of-order data from the peer: our ACKs (and data segments) now carry SACK blocks.
    lab.data(new Uint8Array(100), { seq: their(1001) });
    lab.data(new Uint8Array(100), { seq: their(2001) });
    lab.poll();
    lab.conn.write(new Uint8Array(5000));
    const sent = lab.poll().filter((s) => s.payload.length > 0);
    expect(sent.reduce((n, s) => n + s.payload.length, 0)).toBe(5000);
    for (const s of sent) expect(s.payload.length + s.optionBytes).toBeLessThanOrEqual(1460);
  });
});
