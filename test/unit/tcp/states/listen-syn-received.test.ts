/**
 * Passive open (TcpConnection.accept on a SYN the host took for a listener): LISTEN ->
 * SYN_RECEIVED -> ESTABLISHED, driven with hand-built segments.
 */
import { describe, expect, it } from 'vitest';
import { TcpConnection } from '../../../../mptcp/tcp/connection.js';
import {
  ACK,
  add,
  buildSegment,
  config,
  feed,
  FULL_OPTIONS,
  IRS,
  ISS,
  Lab,
  one,
  params,
  RST,
  SYN,
  synSpec,
  TS_OFFSET,
  viewOf,
  type PeerOptions,
} from './segments.js';
import type { TcpConfig } from '../../../../mptcp/tcp/tcp-types.js';

function accept(peer: PeerOptions, cfg: Partial<TcpConfig> = {}, synTsval = 777): Lab {
  const syn = buildSegment(synSpec(peer, synTsval));
  return new Lab(TcpConnection.accept(params(config(cfg), 0), viewOf(syn)), peer);
}

describe('LISTEN -> SYN_RECEIVED: the SYN/ACK', () => {
  it('RFC 9293 §3.5, RFC 7323 §1.3, RFC 2018 §2: answers a SYN offering MSS, WS, SACK-permitted and TS with all four', () => {
    const lab = accept(FULL_OPTIONS, {}, 777);
    expect(lab.state).toBe('SYN_RECEIVED');
    const s = one(lab.poll());
    expect(s.flags).toBe(SYN | ACK);
    expect(s.seq).toBe(ISS);
    expect(s.ack).toBe(add(IRS, 1));
    expect(s.srcPort).toBe(40000);
    expect(s.dstPort).toBe(80);
    expect(s.mss).toBe(1460);
    expect(s.sackPermitted).toBe(true);
    // TSval is our clock (now + offset); TSecr echoes the SYN's TSval (RFC 7323 §3.2, §4.3).
    expect(s.ts).toEqual({ tsval: TS_OFFSET, tsecr: 777 });
    // Smallest shift such that 65535 << shift covers the 8 MiB maximum buffer: 65535 << 7 is
    // 8388480 < 8388608, 65535 << 8 suffices (RFC 7323 §2.3).
    expect(s.ws).toBe(8);
    // The window of a SYN segment is never scaled (RFC 7323 §2.2): 256 KiB buffer -> 65535.
    expect(s.window).toBe(65535);
    expect(s.payload.length).toBe(0);
    expect(s.optionBytes).toBeLessThanOrEqual(40);
  });

  it('RFC 7323 §1.3, RFC 2018 §2: a SYN with no options gets a SYN/ACK with only MSS', () => {
    const lab = accept({});
    const s = one(lab.poll());
    expect(s.flags).toBe(SYN | ACK);
    expect(s.mss).toBe(1460);
    expect(s.sackPermitted).toBe(false);
    expect(s.ts).toBeUndefined();
    expect(s.ws).toBeUndefined();
  });

  it.each([
    [{ sackPermitted: true }, { sack: true, ts: false, ws: false }],
    [{ ts: true }, { sack: false, ts: true, ws: false }],
    [{ ws: 2 }, { sack: false, ts: false, ws: true }],
    [{ sackPermitted: true, ws: 0 }, { sack: true, ts: false, ws: true }],
  ] as [PeerOptions, { sack: boolean; ts: boolean; ws: boolean }][])(
    'RFC 7323 §1.3, RFC 2018 §2: each option only when the SYN offered it (%j)',
    (peer, want) => {
      const s = one(accept(peer).poll());
      expect(s.sackPermitted).toBe(want.sack);
      expect(s.ts !== undefined).toBe(want.ts);
      expect(s.ws !== undefined).toBe(want.ws);
    },
  );

  it('RFC 7323 §1.3: options we disabled are not answered even when offered', () => {
    const s = one(accept(FULL_OPTIONS, { sack: false, timestamps: false, windowScaling: false }).poll());
    expect(s.sackPermitted).toBe(false);
    expect(s.ts).toBeUndefined();
    expect(s.ws).toBeUndefined();
  });

  it('RFC 7323 §2.2: without WS in the SYN, neither side scales (our later windows are unscaled)', () => {
    const lab = accept({ mss: 1460 });
    lab.poll();
    lab.now = 10;
    lab.ack(add(ISS, 1), 65535);
    expect(lab.state).toBe('ESTABLISHED');
    lab.data(new Uint8Array(100));
    const a = one(lab.poll());
    // 256 KiB of buffer: an unscaled field is capped at 65535 (scaled by 8 it would be ~1023).
    expect(a.window).toBe(65535);
    // And the peer's window is taken literally.
    expect(lab.conn.stats().sendWindow).toBe(65535);
  });

  it('RFC 9293 §3.7.1: the peer MSS bounds our segments; without an MSS option it is 536 (IPv4)', () => {
    const lab = accept({ mss: 1000 });
    lab.poll();
    lab.now = 10;
    lab.ack(add(ISS, 1));
    lab.conn.write(new Uint8Array(3000));
    expect(lab.poll().map((s) => s.payload.length)).toEqual([1000, 1000, 1000]);

    const lab2 = accept({});
    lab2.poll();
    lab2.now = 10;
    lab2.ack(add(ISS, 1));
    lab2.conn.write(new Uint8Array(1000));
    expect(lab2.poll().map((s) => s.payload.length)).toEqual([536, 464]);
  });
});

describe('SYN_RECEIVED', () => {
  it('RFC 9293 §3.10.7.4: a retransmitted SYN (our SYN/ACK was lost) is answered with the same SYN/ACK', () => {
    const lab = accept(FULL_OPTIONS, {}, 777);
    const first = one(lab.poll());
    lab.now = 300;
    lab.send({ ...synSpec(FULL_OPTIONS, 1077) });
    const again = one(lab.poll());
    expect(again.flags).toBe(SYN | ACK);
    expect(again.seq).toBe(first.seq);
    expect(again.ack).toBe(add(IRS, 1));
    expect(again.mss).toBe(1460);
    expect(lab.state).toBe('SYN_RECEIVED');
  });

  it('RFC 6298 §5.5, RFC 9293 §3.8.1: the SYN/ACK is retransmitted after 1 s, 2 s, 4 s and the connection gives up after synRetries', () => {
    const lab = accept(FULL_OPTIONS, { synRetries: 3 });
    one(lab.poll());
    expect(lab.conn.pollTimeout()).toBe(1000); // initial RTO 1 s (RFC 6298 §2.1)
    const sent = lab.runUntil(60_000);
    expect(sent.map((x) => [x.at, x.seg.flags, x.seg.seq])).toEqual([
      [1000, SYN | ACK, ISS],
      [3000, SYN | ACK, ISS],
      [7000, SYN | ACK, ISS],
    ]);
    // The fourth expiry (after 8 s) exceeds synRetries = 3 retransmissions.
    expect(lab.state).toBe('CLOSED');
    expect(lab.events).toEqual(['reset:timeout']);
    expect(lab.conn.pollTimeout()).toBe(Infinity);
  });

  it('RFC 6298 §5.7: after the SYN/ACK timed out and no RTT sample was taken, data starts with RTO = 3 s', () => {
    const lab = accept({ mss: 1460 });
    one(lab.poll());
    expect(lab.runUntil(1000).map((x) => x.seg.flags)).toEqual([SYN | ACK]);
    lab.now = 1010;
    lab.ack(add(ISS, 1));
    expect(lab.state).toBe('ESTABLISHED');
    lab.conn.write(new Uint8Array(100));
    expect(lab.poll().some((s) => s.payload.length === 100)).toBe(true);
    expect(lab.conn.pollTimeout()).toBe(1010 + 3000);
  });

  it.each([
    ['acknowledges nothing (SEG.ACK = ISS = SND.UNA)', 0],
    ['acknowledges what was never sent (SEG.ACK > SND.NXT)', 5],
  ])('RFC 9293 §3.10.7.4: an ACK that %s gets <SEQ=SEG.ACK><CTL=RST> and the connection stays', (_name, delta) => {
    const lab = accept(FULL_OPTIONS);
    lab.poll();
    lab.now = 10;
    const badAck = add(ISS, delta);
    lab.send({ seq: add(IRS, 1), ack: badAck, flags: ACK });
    const r = one(lab.poll());
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(badAck);
    expect(r.payload.length).toBe(0);
    expect(lab.state).toBe('SYN_RECEIVED');
    expect(lab.events).toEqual([]);
    // The right ACK still completes the handshake.
    lab.ack(add(ISS, 1));
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.events).toEqual([]);
    expect(lab.collectEvents()).toEqual(['connected']);
  });

  it('RFC 9293 §3.10.7.4: the ACK of our SYN moves to ESTABLISHED and scales its window (RFC 7323 §2.2)', () => {
    const lab = accept(FULL_OPTIONS); // peer shift 7
    lab.poll();
    lab.now = 10;
    lab.send({ seq: add(IRS, 1), ack: add(ISS, 1), flags: ACK, window: 100 });
    expect(lab.state).toBe('ESTABLISHED');
    expect(lab.collectEvents()).toEqual(['connected']);
    expect(lab.conn.stats().sendWindow).toBe(100 * 128);
  });

  it('RFC 9293 §3.10.7.4: data on the handshake-completing ACK is accepted and acknowledged', () => {
    const lab = accept({ mss: 1460 });
    lab.poll();
    lab.now = 10;
    lab.send({ seq: add(IRS, 1), ack: add(ISS, 1), flags: ACK, payload: new Uint8Array([1, 2, 3]) });
    expect(lab.state).toBe('ESTABLISHED');
    const a = one(lab.poll());
    expect(a.ack).toBe(add(IRS, 4));
    expect(Array.from(lab.conn.read(lab.now) ?? [])).toEqual([1, 2, 3]);
  });

  it('RFC 9293 §3.10.7.4, RFC 5961 §3.2: a RST at RCV.NXT aborts the embryonic connection', () => {
    const lab = accept(FULL_OPTIONS);
    lab.poll();
    lab.now = 10;
    feed(lab.conn, lab.now, { seq: add(IRS, 1), flags: RST });
    expect(lab.state).toBe('CLOSED');
    expect(lab.collectEvents()).toEqual(['reset:peer-reset']);
    expect(lab.poll()).toEqual([]);
  });
});
