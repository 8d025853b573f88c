/**
 * TCP engine basics on an in-memory pair: handshake, bulk transfer both ways with byte-exact
 * delivery, half-close and TIME_WAIT, loss recovery, refused connections.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HostConnection } from '../../../mptcp/tcp/host.js';
import type { TcpEvent } from '../../../mptcp/tcp/tcp-types.js';
import { A, B, Pair } from './pair.js';

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Pumps an application on one connection: writes `data`, then shuts down; collects what it reads. */
class App {
  received: Uint8Array[] = [];
  events: TcpEvent['type'][] = [];
  private offset = 0;
  private shut = false;
  ended = false;
  closed = false;
  constructor(
    readonly c: HostConnection,
    private readonly data: Uint8Array,
    private readonly pair: Pair,
  ) {}
  step(): void {
    const tcp = this.c.tcp;
    for (let e = tcp.pollEvent(); e; e = tcp.pollEvent()) {
      this.events.push(e.type);
      if (e.type === 'end') this.ended = true;
      if (e.type === 'closed' || e.type === 'reset') this.closed = true;
    }
    if (tcp.state !== 'SYN_SENT' && tcp.state !== 'SYN_RECEIVED' && !this.shut) {
      this.offset += tcp.write(this.data.subarray(this.offset));
      if (this.offset === this.data.length) {
        tcp.shutdown();
        this.shut = true;
      }
    }
    for (let d = tcp.read(this.pair.now); d; d = tcp.read(this.pair.now)) this.received.push(d);
  }
  get bytes(): Uint8Array {
    return Buffer.concat(this.received);
  }
}

function transfer(pair: Pair, aToB: number, bToA: number) {
  const dataA = pattern(aToB, 1);
  const dataB = pattern(bToA, 2);
  let server: App | null = null;
  pair.b.listen(80, (c) => (server = new App(c, dataB, pair)));
  const client = new App(pair.a.connect(0, A, B, 80), dataA, pair);
  const done = pair.run(() => {
    client.step();
    server?.step();
    return client.closed && server !== null && (server).closed;
  });
  return { done, client, server: server as App | null, dataA, dataB };
}

describe('TCP engine on an in-memory pair', () => {
  it('transfers 2 MB each way byte-exact and closes cleanly', () => {
    const pair = new Pair({ timeWaitMs: 1000 });
    const r = transfer(pair, 2_000_000, 2_000_000);
    expect(r.done).toBe(true);
    expect(sha(r.server!.bytes)).toBe(sha(r.dataA));
    expect(sha(r.client.bytes)).toBe(sha(r.dataB));
    expect(r.client.events).toContain('connected');
    expect(r.client.events).toContain('end');
    expect(r.server!.c.tcp.stats().retransmittedSegments).toBe(0);
    // Time-wait on the side that closed first; then both are forgotten.
    pair.run(() => pair.a.connectionCount === 0 && pair.b.connectionCount === 0, pair.now + 5000);
    expect(pair.a.connectionCount + pair.b.connectionCount).toBe(0);
  });

  it('recovers from 5% random loss both ways', () => {
    let x = 7;
    const pair = new Pair({ timeWaitMs: 1000 }, 10, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32 < 0.05;
    });
    const r = transfer(pair, 1_000_000, 500_000);
    expect(r.done).toBe(true);
    expect(sha(r.server!.bytes)).toBe(sha(r.dataA));
    expect(sha(r.client.bytes)).toBe(sha(r.dataB));
    const s = r.client.c.tcp.stats();
    expect(s.retransmittedSegments).toBeGreaterThan(0);
  });

  it('reports a refused connection when nothing listens', () => {
    const pair = new Pair();
    const c = pair.a.connect(0, A, B, 81);
    const events: string[] = [];
    pair.run(() => {
      for (let e = c.tcp.pollEvent(); e; e = c.tcp.pollEvent()) events.push(e.type === 'reset' ? `reset:${e.reason}` : e.type);
      return events.length > 0;
    });
    expect(events).toEqual(['reset:refused']);
    expect(pair.b.counters.resetsSent).toBe(1);
  });
});

describe('loss recovery efficiency', () => {
  it('2% random loss on a 1 ms path: few RTOs, the rest repaired by SACK recovery', () => {
    let x = 99;
    const pair = new Pair({ timeWaitMs: 1000 }, 0.5, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32 < 0.02;
    });
    const r = transfer(pair, 8_000_000, 0);
    if (!r.done) console.log('STALL', pair.now, JSON.stringify(pair.a.debugState()), JSON.stringify(pair.b.debugState()));
    expect(r.done).toBe(true);
    expect(sha(r.server!.bytes)).toBe(sha(r.dataA));
    const s = r.client.c.tcp.stats();
    console.log(`2% loss, 8 MB: ${JSON.stringify({ t: pair.now, timeouts: s.timeouts, fast: s.fastRetransmits, rtx: s.retransmittedSegments, cwnd: s.cwnd })}`);
    expect(s.timeouts).toBeLessThan(s.fastRetransmits / 4);
  });
});

describe('retransmission timeouts in a row (RFC 5681 §3.1)', () => {
  it('an outage of several RTOs reduces ssthresh once, not again at each backed-off timeout', () => {
    let down = false;
    let ssthreshAtFirst = -1;
    const pair = new Pair({ timeWaitMs: 1000 }, 10, () => down);
    const dataA = pattern(20_000_000, 3);
    let server: App | null = null;
    pair.b.listen(80, (c) => (server = new App(c, new Uint8Array(0), pair)));
    const client = new App(pair.a.connect(0, A, B, 80), dataA, pair);
    let ssthreshBefore = Infinity;
    let ssthreshAtEnd = -1;
    let timeoutsAtEnd = 0;
    const done = pair.run(() => {
      client.step();
      server?.step();
      const s = client.c.tcp.stats();
      if (!down && pair.now > 500 && s.timeouts === 0) {
        down = true; // a 3 s outage: timeouts at about 0.2, 0.6, 1.4 and 3.0 s
        ssthreshBefore = s.cwnd; // the window before the outage (ssthresh is Infinity in slow start)
      }
      if (s.timeouts === 1 && ssthreshAtFirst < 0) ssthreshAtFirst = s.ssthresh;
      if (down && pair.now > 3700) {
        down = false;
        ssthreshAtEnd = s.ssthresh;
        timeoutsAtEnd = s.timeouts;
      }
      return client.closed && server !== null && server.closed;
    });
    expect(done).toBe(true);
    expect(sha(server!.bytes)).toBe(sha(dataA));
    expect(timeoutsAtEnd).toBeGreaterThanOrEqual(3);
    // Reduced once from the flight at the first timeout (RFC 5681 eq. 4), then held: not
    // recomputed from the one-segment flight of a later timeout (2 segments).
    expect(ssthreshAtFirst).toBeGreaterThan(20 * 1460);
    expect(ssthreshAtFirst).toBeLessThanOrEqual(ssthreshBefore);
    expect(ssthreshAtEnd).toBe(ssthreshAtFirst);
    console.log(`outage: ${timeoutsAtEnd} timeouts in a row; cwnd before ${ssthreshBefore}, ssthresh after the first ${ssthreshAtFirst}, after the last ${ssthreshAtEnd}`);
  });
});

