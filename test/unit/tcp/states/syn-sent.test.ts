/**
 * Active open (TcpConnection.connect): SYN_SENT, including simultaneous open (RFC 9293 §3.5).
 */
import { describe, expect, it } from 'vitest';
import { TcpConnection } from '../../../../mptcp/tcp/connection.js';
import {
  ACK,
  add,
  buildSegment,
  bytes,
  config,
  drain,
  eventName,
  FULL_OPTIONS,
  IRS,
  ISS,
  Lab,
  one,
  params,
  RST,
  SYN,
  TS_OFFSET,
  viewOf,
} from './segments.js';
import type { TcpConfig } from '../../../../mptcp/tcp/tcp-types.js';

function connect(cfg: Partial<TcpConfig> = {}): Lab {
  return new Lab(TcpConnection.connect(params(config(cfg), 0)), FULL_OPTIONS);
}

describe('SYN_SENT', () => {
  it('RFC 9293 §3.5, RFC 7323 §2.2/§3.2, RFC 2018 §2: the SYN carries MSS, SACK-permitted, TS and WS, and an unscaled window', () => {
    const lab = connect();
    expect(lab.state).toBe('SYN_SENT');
    const s = one(lab.poll());
    expect(s.flags).toBe(SYN);
    expect(s.seq).toBe(ISS);
    expect(s.mss).toBe(1460);
    expect(s.sackPermitted).toBe(true);
    expect(s.ts).toEqual({ tsval: TS_OFFSET, tsecr: 0 }); // TSecr is 0 when ACK is off (RFC 7323 §3.2)
    expect(s.ws).toBe(8); // 65535 << 8 >= 8 MiB > 65535 << 7
    expect(s.window).toBe(65535);
    expect(s.payload.length).toBe(0);
  });

  it('RFC 7323 §1.3, RFC 2018 §2: disabled features are not offered', () => {
    const s = one(connect({ sack: false, timestamps: false, windowScaling: false }).poll());
    expect(s.mss).toBe(1460);
    expect(s.sackPermitted).toBe(false);
    expect(s.ts).toBeUndefined();
    expect(s.ws).toBeUndefined();
  });

  it('RFC 6298 §2.1/§5.5: the SYN is retransmitted after 1 s, 2 s, 4 s, ..., then the connection times out', () => {
    const lab = connect({ synRetries: 4 });
    one(lab.poll());
    expect(lab.conn.pollTimeout()).toBe(1000);
    const sent = lab.runUntil(100_000);
    expect(sent.map((x) => [x.at, x.seg.flags, x.seg.seq])).toEqual([
      [1000, SYN, ISS],
      [3000, SYN, ISS],
      [7000, SYN, ISS],
      [15000, SYN, ISS],
    ]);
    expect(lab.state).toBe('CLOSED');
    expect(lab.events).toEqual(['reset:timeout']);
  });

  it('RFC 6298 §5.7: after the SYN timed out and no RTT sample was taken, data starts with RTO = 3 s', () => {
    const lab = connect({ timestamps: false });
    one(lab.poll());
    expect(lab.runUntil(1000).map((x) => x.seg.flags)).toEqual([SYN]); // the first SYN was lost
    lab.now = 1010;
    lab.send({ seq: IRS, ack: add(ISS, 1), flags: SYN | ACK, mss: 1460 });
    expect(lab.state).toBe('ESTABLISHED');
    lab.conn.write(new Uint8Array(100));
    expect(lab.poll().some((s) => s.payload.length === 100)).toBe(true);
    expect(lab.conn.pollTimeout()).toBe(1010 + 3000);
  });

  it('RFC 9293 §3.10.7.3: RST with an acceptable ACK -> connection refused', () => {
    const lab = connect();
    lab.poll();
    lab.now = 10;
    lab.send({ seq: 0, ack: add(ISS, 1), flags: RST | ACK });
    expect(lab.state).toBe('CLOSED');
    expect(lab.collectEvents()).toEqual(['reset:refused']);
    expect(lab.poll()).toEqual([]); // a RST is never answered
    expect(lab.conn.pollTimeout()).toBe(Infinity);
  });

  it('RFC 9293 §3.10.7.3: RST without ACK is dropped; the SYN is still retransmitted', () => {
    const lab = connect();
    lab.poll();
    lab.now = 10;
    lab.send({ seq: IRS, flags: RST });
    expect(lab.state).toBe('SYN_SENT');
    expect(lab.poll()).toEqual([]);
    expect(lab.events).toEqual([]);
    const sent = lab.runUntil(1000);
    expect(sent.map((x) => x.seg.flags)).toEqual([SYN]);
  });

  it('RFC 9293 §3.10.7.3: RST with an unacceptable ACK is dropped without reply', () => {
    const lab = connect();
    lab.poll();
    lab.now = 10;
    lab.send({ seq: 0, ack: add(ISS, 7), flags: RST | ACK });
    expect(lab.state).toBe('SYN_SENT');
    expect(lab.poll()).toEqual([]);
    expect(lab.events).toEqual([]);
  });

  it.each([
    ['SEG.ACK = ISS', 0],
    ['SEG.ACK > SND.NXT', 100],
  ])('RFC 9293 §3.10.7.3: a SYN/ACK with an unacceptable ACK (%s) gets <SEQ=SEG.ACK><CTL=RST>', (_n, delta) => {
    const lab = connect();
    lab.poll();
    lab.now = 10;
    const bad = add(ISS, delta);
    lab.send({ seq: IRS, ack: bad, flags: SYN | ACK, mss: 1460 });
    const r = one(lab.poll());
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(bad);
    expect(lab.state).toBe('SYN_SENT');
    // The right SYN/ACK still completes the handshake.
    lab.send({ seq: IRS, ack: add(ISS, 1), flags: SYN | ACK, mss: 1460 });
    expect(lab.state).toBe('ESTABLISHED');
  });

  it('RFC 9293 §3.10.7.3: SYN/ACK -> ESTABLISHED, ACK <SEQ=SND.NXT><ACK=RCV.NXT>, TSecr echoes the SYN/ACK', () => {
    const lab = connect();
    const syn = one(lab.poll());
    lab.now = 25;
    lab.send({ seq: IRS, ack: add(ISS, 1), flags: SYN | ACK, mss: 1460, ws: 3, sackPermitted: true, ts: [4242, syn.ts!.tsval], window: 1000 });
    expect(lab.state).toBe('ESTABLISHED');
    const a = one(lab.poll());
    expect(a.flags).toBe(ACK);
    expect(a.seq).toBe(add(ISS, 1));
    expect(a.ack).toBe(add(IRS, 1));
    expect(a.ts).toEqual({ tsval: TS_OFFSET + 25, tsecr: 4242 });
    expect(lab.events).toEqual(['connected']);
    // RFC 7323 §2.2: the SYN/ACK's window is not scaled ...
    expect(lab.conn.stats().sendWindow).toBe(1000);
    // ... but every later window is (shift 3).
    lab.send({ seq: add(IRS, 1), ack: add(ISS, 1), flags: ACK, window: 1000, ts: [4243, syn.ts!.tsval] });
    expect(lab.conn.stats().sendWindow).toBe(8000);
  });

  it('RFC 9293 §3.5 figure 8: simultaneous open, SYN -> SYN_RECEIVED (SYN/ACK sent), then SYN/ACK -> ESTABLISHED', () => {
    const lab = connect();
    one(lab.poll());
    lab.now = 5;
    // Step 3: the peer's SYN crosses ours.
    lab.send({ seq: IRS, flags: SYN, mss: 1460, sackPermitted: true, ts: [100, 0], ws: 2 });
    expect(lab.state).toBe('SYN_RECEIVED');
    // Step 5: we answer <SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK>.
    const sa = one(lab.poll());
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.seq).toBe(ISS);
    expect(sa.ack).toBe(add(IRS, 1));
    expect(sa.ts?.tsecr).toBe(100);
    // Step 6: the peer's SYN/ACK acknowledges our SYN: ESTABLISHED.
    lab.now = 10;
    lab.send({ seq: IRS, ack: add(ISS, 1), flags: SYN | ACK, mss: 1460, sackPermitted: true, ts: [105, sa.ts!.tsval], ws: 2 });
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.collectEvents()).toEqual(['connected']);
    // No further SYN is sent, now or when the old handshake timer would have fired.
    const later = lab.runUntil(10_000).map((x) => x.seg);
    expect(later.filter((s) => s.flags & SYN)).toEqual([]);
  });

  it('RFC 9293 §3.5 figure 8: two connections opening to each other at once both reach ESTABLISHED and exchange data', () => {
    const cfg = config();
    const a = TcpConnection.connect({ ...params(cfg, 0, ISS), localPort: 1111, remotePort: 2222 });
    const b = TcpConnection.connect({ ...params(cfg, 0, IRS), localPort: 2222, remotePort: 1111 });
    const wire: { to: TcpConnection; seg: Uint8Array }[] = [];
    const out = new Uint8Array(65536);
    const pump = (now: number) => {
      for (let i = 0; i < 100; i++) {
        for (const [from, to] of [[a, b], [b, a]] as const) {
          for (let n = from.pollSegment(now, out, 0); n > 0; n = from.pollSegment(now, out, 0)) wire.push({ to, seg: out.slice(0, n) });
        }
        const batch = wire.splice(0);
        if (batch.length === 0) return;
        for (const p of batch) p.to.handleSegment(now, viewOf(p.seg), p.seg);
      }
      throw new Error('endless exchange');
    };
    // Both SYNs leave before either arrives.
    const synA = drain(a, 0);
    const synB = drain(b, 0);
    expect(synA.map((s) => s.flags)).toEqual([SYN]);
    expect(synB.map((s) => s.flags)).toEqual([SYN]);
    for (const [to, segs, fromIsn] of [[b, synA, ISS], [a, synB, IRS]] as const) {
      const bytesOfSyn = buildSegment({ seq: fromIsn, flags: SYN, mss: segs[0].mss, sackPermitted: segs[0].sackPermitted, ts: [segs[0].ts!.tsval, 0], ws: segs[0].ws, srcPort: segs[0].srcPort, dstPort: segs[0].dstPort });
      to.handleSegment(1, viewOf(bytesOfSyn), bytesOfSyn);
    }
    expect([a.state, b.state]).toEqual(['SYN_RECEIVED', 'SYN_RECEIVED']);
    pump(2);
    expect([a.state, b.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    const data = bytes(5000, 9);
    expect(a.write(data)).toBe(5000);
    pump(3);
    expect(Buffer.from(b.read(3) ?? new Uint8Array(0)).equals(Buffer.from(data))).toBe(true);
    const evA: string[] = [];
    for (let e = a.pollEvent(); e; e = a.pollEvent()) evA.push(eventName(e));
    expect(evA).toEqual(['connected']);
  });
});
