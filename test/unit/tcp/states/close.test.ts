/**
 * Connection teardown (RFC 9293 §3.6): FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT, CLOSE_WAIT,
 * LAST_ACK; FIN retransmission; FIN out of order; abort.
 */
import { describe, expect, it } from 'vitest';
import { TcpConnection } from '../../../../mptcp/tcp/connection.js';
import { ACK, add, bytes, config, FIN, FULL_OPTIONS, Lab, one, our, params, passiveOpen, PSH, RST, their } from './segments.js';


describe('active close', () => {
  it('RFC 9293 §3.6: shutdown() sends FIN after the queued data; FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED after 2 MSL', () => {
    const lab = passiveOpen(FULL_OPTIONS, { timeWaitMs: 60_000 });
    const data = bytes(3000, 5);
    lab.conn.write(data);
    lab.conn.shutdown();
    const sent = lab.poll();
    const payload = Buffer.concat(sent.map((s) => s.payload));
    expect(payload.equals(Buffer.from(data))).toBe(true);
    const last = sent[sent.length - 1];
    expect(last.flags & FIN).toBe(FIN);
    expect(add(last.seq, last.payload.length)).toBe(our(3001)); // the FIN occupies ISS + 3001
    expect(sent.slice(0, -1).every((s) => !(s.flags & FIN))).toBe(true);
    expect(lab.state).toBe('FIN_WAIT_1');
    // The data is acknowledged, not the FIN: still FIN_WAIT_1.
    lab.now += 10;
    lab.ack(our(3001));
    expect(lab.state).toBe('FIN_WAIT_1');
    lab.ack(our(3002));
    expect(lab.state).toBe('FIN_WAIT_2');
    expect(lab.poll()).toEqual([]);
    // The peer's FIN: ACK it, TIME_WAIT for 2 MSL.
    lab.now += 10;
    lab.send({ seq: their(1), ack: our(3002), flags: FIN | ACK });
    expect(lab.state).toBe('TIME_WAIT');
    const a = one(lab.poll());
    expect(a.flags).toBe(ACK);
    expect(a.seq).toBe(our(3002));
    expect(a.ack).toBe(their(2));
    const tw = lab.now;
    expect(lab.conn.pollTimeout()).toBe(tw + 60_000);
    expect(lab.runUntil(tw + 59_999)).toEqual([]);
    expect(lab.state).toBe('TIME_WAIT');
    expect(lab.runUntil(tw + 60_000)).toEqual([]);
    expect(lab.state).toBe('CLOSED');
    expect(lab.conn.isClosed).toBe(true);
    expect(lab.collectEvents()).toEqual(['connected', 'end', 'closed']);
  });

  it('RFC 9293 §3.10.7.4 (TIME_WAIT): a retransmitted FIN is acknowledged again and restarts the 2 MSL timer', () => {
    const lab = passiveOpen(FULL_OPTIONS, { timeWaitMs: 60_000 });
    lab.conn.shutdown();
    one(lab.poll());
    lab.now += 10;
    lab.send({ seq: their(1), ack: our(2), flags: FIN | ACK });
    expect(lab.state).toBe('TIME_WAIT');
    one(lab.poll());
    lab.now += 30_000;
    lab.send({ seq: their(1), ack: our(2), flags: FIN | ACK });
    const a = one(lab.poll());
    expect(a.flags).toBe(ACK);
    expect(a.ack).toBe(their(2));
    expect(lab.conn.pollTimeout()).toBe(lab.now + 60_000);
  });

  it('RFC 1337, RFC 9293 §3.10.7.4: a RST in TIME_WAIT does not end it early', () => {
    const lab = passiveOpen(FULL_OPTIONS, { timeWaitMs: 60_000 });
    lab.conn.shutdown();
    lab.poll();
    lab.send({ seq: their(1), ack: our(2), flags: FIN | ACK });
    lab.poll();
    lab.send({ seq: their(2), flags: RST });
    expect(lab.state).toBe('TIME_WAIT');
  });

  it('RFC 9293 §3.6 figure 13: simultaneous close goes through CLOSING to TIME_WAIT', () => {
    const lab = passiveOpen(FULL_OPTIONS, { timeWaitMs: 1000 });
    lab.conn.shutdown();
    const fin = one(lab.poll());
    expect(fin.flags & FIN).toBe(FIN);
    expect(fin.seq).toBe(our(1));
    // The peer's FIN crosses ours (it acknowledges nothing new).
    lab.now += 5;
    lab.send({ seq: their(1), ack: our(1), flags: FIN | ACK });
    expect(lab.state).toBe('CLOSING');
    const a = one(lab.poll());
    expect(a.ack).toBe(their(2));
    // The ACK of our FIN arrives.
    lab.now += 5;
    lab.send({ seq: their(2), ack: our(2), flags: ACK });
    expect(lab.state).toBe('TIME_WAIT');
    lab.runUntil(lab.now + 1000);
    expect(lab.state).toBe('CLOSED');
    expect(lab.events.filter((e) => e === 'closed')).toHaveLength(1);
  });

  it('RFC 9293 §3.10.7.4: in FIN_WAIT_1 a FIN that also acknowledges our FIN goes straight to TIME_WAIT', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.shutdown();
    lab.poll();
    lab.send({ seq: their(1), ack: our(2), flags: FIN | ACK });
    expect(lab.state).toBe('TIME_WAIT');
    expect(one(lab.poll()).ack).toBe(their(2));
  });

  it('RFC 9293 §3.6: data keeps arriving in FIN_WAIT_2 (half-close)', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.shutdown();
    lab.poll();
    lab.ack(our(2));
    expect(lab.state).toBe('FIN_WAIT_2');
    lab.data(new Uint8Array([9, 8, 7]), { ack: our(2) });
    expect(one(lab.poll()).ack).toBe(their(4));
    expect(Array.from(lab.conn.read(lab.now) ?? [])).toEqual([9, 8, 7]);
  });

  it('RFC 9293 §3.10.4 (CLOSE): write() after shutdown() accepts nothing', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    expect(lab.conn.write(new Uint8Array(10))).toBe(10);
    lab.conn.shutdown();
    expect(lab.conn.write(new Uint8Array(10))).toBe(0);
    expect(lab.conn.writableBytes).toBe(0);
    const sent = lab.poll();
    expect(sent.reduce((n, s) => n + s.payload.length, 0)).toBe(10);
  });
});

describe('FIN retransmission', () => {
  it('RFC 9293 §3.4/§3.8.1: a lost lone FIN is retransmitted as a FIN, without a data byte', () => {
    const lab = passiveOpen({ mss: 1460 });
    const t0 = lab.now;
    lab.conn.shutdown();
    const fin = one(lab.poll());
    expect([fin.flags & FIN, fin.seq, fin.payload.length]).toEqual([FIN, our(1), 0]);
    const rtx = lab.runUntil(t0 + 1000);
    expect(rtx.map((x) => [x.seg.flags & (FIN | RST), x.seg.seq, x.seg.payload.length])).toEqual([[FIN, our(1), 0]]);
  });

  it('RFC 9293 §3.4/§3.8.1: data with a piggybacked FIN is retransmitted byte-exact with the FIN', () => {
    const lab = passiveOpen({ mss: 1460 });
    const t0 = lab.now;
    const data = bytes(100, 6);
    lab.conn.write(data);
    lab.conn.shutdown();
    const s = one(lab.poll());
    expect(s.flags & FIN).toBe(FIN);
    const rtx = lab.runUntil(t0 + 1000).map((x) => x.seg);
    expect(rtx).toHaveLength(1);
    expect(rtx[0].flags & FIN).toBe(FIN);
    expect(rtx[0].seq).toBe(our(1));
    expect(Buffer.from(rtx[0].payload).equals(Buffer.from(data))).toBe(true);
  });

  it('RFC 9293 §3.4: the FIN alone is resent when only the data before it was acknowledged', () => {
    const lab = passiveOpen({ mss: 1460 });
    lab.conn.write(bytes(100, 6));
    lab.conn.shutdown();
    lab.poll();
    lab.now += 10;
    lab.ack(our(101));
    const rtx = lab.runUntil(lab.now + 5000).map((x) => x.seg);
    expect(rtx.length).toBeGreaterThan(0);
    for (const r of rtx) expect([r.flags & FIN, r.seq, r.payload.length]).toEqual([FIN, our(101), 0]);
  });
});

describe('passive close', () => {
  it('RFC 9293 §3.6: peer FIN -> CLOSE_WAIT (end of data); our shutdown -> LAST_ACK; ACK of our FIN -> CLOSED', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.data(new Uint8Array([1, 2, 3]), { flags: ACK | PSH | FIN });
    expect(lab.state).toBe('CLOSE_WAIT');
    const a = one(lab.poll());
    expect(a.ack).toBe(their(5)); // 3 data bytes + FIN
    expect(lab.events).toEqual(['connected', 'readable', 'end']);
    // We may still send (half-close).
    expect(lab.conn.write(new Uint8Array(50))).toBe(50);
    lab.conn.shutdown();
    const s = one(lab.poll());
    expect(s.flags & FIN).toBe(FIN);
    expect(s.payload.length).toBe(50);
    expect(lab.state).toBe('LAST_ACK');
    lab.now += 10;
    lab.send({ seq: their(5), ack: our(52), flags: ACK });
    expect(lab.state).toBe('CLOSED');
    expect(lab.conn.isClosed).toBe(true);
    expect(lab.collectEvents().slice(-1)).toEqual(['closed']);
    expect(lab.conn.pollTimeout()).toBe(Infinity);
    // Data read before the close is still there.
    expect(Array.from(lab.conn.read(lab.now) ?? [])).toEqual([1, 2, 3]);
  });

  it('RFC 9293 §3.10.7.4 (eighth, FIN): a FIN that arrives before the data preceding it is held until the gap fills', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.data(bytes(100, 1));
    lab.poll();
    // [101, 201) is missing; the FIN (at 201) arrives first.
    lab.send({ seq: their(201), ack: our(1), flags: FIN | ACK });
    expect(lab.state).toBe('ESTABLISHED');
    const dup = one(lab.poll());
    expect(dup.ack).toBe(their(101));
    expect(lab.collectEvents()).not.toContain('end');
    lab.send({ seq: their(101), ack: our(1), flags: ACK, payload: bytes(100, 2) });
    expect(lab.state).toBe('CLOSE_WAIT');
    const a = one(lab.poll());
    expect(a.ack).toBe(their(202));
    expect(lab.collectEvents()).toContain('end');
    expect(lab.conn.readableBytes).toBe(200);
  });

  it('RFC 9293 §3.10.7.4: a FIN carrying data beyond a gap is held with its data', () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.send({ seq: their(101), ack: our(1), flags: FIN | ACK | PSH, payload: bytes(50, 3) });
    expect(one(lab.poll()).ack).toBe(their(1));
    expect(lab.state).toBe('ESTABLISHED');
    lab.data(bytes(100, 4));
    expect(lab.state).toBe('CLOSE_WAIT');
    expect(one(lab.poll()).ack).toBe(their(152));
    const got = lab.conn.read(lab.now);
    expect(Buffer.from(got ?? []).equals(Buffer.concat([bytes(100, 4), bytes(50, 3)]))).toBe(true);
  });
});

describe('abort', () => {
  it("RFC 9293 §3.10.5 (ABORT): abort() sends <SEQ=SND.NXT><CTL=RST>, reports 'reset' aborted and forgets the connection", () => {
    const lab = passiveOpen(FULL_OPTIONS);
    lab.conn.write(new Uint8Array(100));
    lab.poll();
    lab.conn.abort();
    expect(lab.state).toBe('CLOSED');
    const r = one(lab.poll());
    expect(r.flags & RST).toBe(RST);
    expect(r.seq).toBe(our(101));
    expect(r.payload.length).toBe(0);
    expect(lab.collectEvents()).toEqual(['connected', 'reset:aborted']);
    expect(lab.conn.isClosed).toBe(true);
    expect(lab.conn.pollTimeout()).toBe(Infinity);
    // Later segments are ignored without reply.
    lab.data(new Uint8Array(10));
    expect(lab.poll()).toEqual([]);
  });

  it("RFC 9293 §3.10.5: abort() in SYN_SENT sends nothing and reports 'reset' aborted", () => {
    const lab = new Lab(TcpConnection.connect(params(config(), 0)), FULL_OPTIONS);
    one(lab.poll()); // SYN
    lab.conn.abort();
    expect(lab.poll()).toEqual([]);
    expect(lab.state).toBe('CLOSED');
    expect(lab.collectEvents()).toEqual(['reset:aborted']);
    expect(lab.conn.pollTimeout()).toBe(Infinity);
  });
});
