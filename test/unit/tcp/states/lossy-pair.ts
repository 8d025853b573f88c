/**
 * Two TcpHosts joined by a lossy link in virtual time (an extension of ../pair.ts): every
 * packet may be dropped, duplicated, or delayed by a random jitter (which reorders), all from
 * one seed. Applications on both ends write and read at random moments.
 */
import { SeededRandom } from '../../../../mptcp/core/sans-io.js';
import type { HostConnection } from '../../../../mptcp/tcp/host.js';
import { TcpHost } from '../../../../mptcp/tcp/host.js';
import type { TcpConfig } from '../../../../mptcp/tcp/tcp-types.js';
import { eventName } from './segments.js';

export const A = new Uint8Array([10, 0, 0, 1]);
export const B = new Uint8Array([10, 0, 0, 2]);

export interface LinkParams {
  /** Probability that a packet is dropped. */
  loss: number;
  /** Probability that a packet is delivered twice. */
  dup: number;
  delayMs: number;
  /** Extra uniform delay in [0, jitterMs): packets overtake each other. */
  jitterMs: number;
}

export class LossyPair {
  now = 0;
  readonly a: TcpHost;
  readonly b: TcpHost;
  readonly rng: SeededRandom;
  private inflight: { at: number; to: TcpHost; bytes: Uint8Array }[] = [];
  private readonly out = new Uint8Array(65535);
  packets = 0;

  constructor(
    cfg: Partial<TcpConfig>,
    private readonly link: LinkParams,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
    this.a = new TcpHost([A], new SeededRandom(seed ^ 0x5a5a5a5a), cfg);
    this.b = new TcpHost([B], new SeededRandom(seed ^ 0x3c3c3c3c), cfg);
  }

  private delay(): number {
    return this.link.delayMs + this.rng.nextFloat() * this.link.jitterMs;
  }

  flush(): void {
    for (const [from, to] of [[this.a, this.b], [this.b, this.a]] as const) {
      let burst = 0;
      for (let n = from.pollTransmit(this.now, this.out); n > 0; n = from.pollTransmit(this.now, this.out)) {
        if (++burst > 100_000) throw new Error(`lossy pair: endless transmission at t=${this.now}`);
        this.packets++;
        if (this.rng.nextFloat() < this.link.loss) continue;
        const bytes = this.out.slice(0, n);
        this.inflight.push({ at: this.now + this.delay(), to, bytes });
        if (this.rng.nextFloat() < this.link.dup) this.inflight.push({ at: this.now + this.delay(), to, bytes });
      }
    }
  }

  /**
   * Runs `step` (the applications) and the network until `done()` holds. While `busy()` (an
   * application still has work), `step` also runs every `tickMs` of virtual time, so that
   * applications progress independently of packets and timers. Returns false when nothing is
   * left to happen before `done()`, or at `maxMs`.
   */
  run(step: () => void, busy: () => boolean, done: () => boolean, maxMs: number, tickMs = 5): boolean {
    let nextTick = this.now + tickMs;
    for (let guard = 0; guard < 5_000_000; guard++) {
      step();
      this.flush();
      if (done()) return true;
      let next = this.nextEvent();
      if (busy()) {
        if (nextTick <= this.now) nextTick = this.now + tickMs;
        next = Math.min(next, nextTick);
      }
      if (next === Infinity || next > maxMs) return false;
      this.now = Math.max(this.now, next);
      const due = this.inflight.filter((p) => p.at <= this.now);
      this.inflight = this.inflight.filter((p) => p.at > this.now);
      for (const p of due) p.to.handlePacket(this.now, p.bytes);
      if (this.a.pollTimeout() <= this.now) this.a.handleTimeout(this.now);
      if (this.b.pollTimeout() <= this.now) this.b.handleTimeout(this.now);
    }
    throw new Error('lossy pair: too many iterations');
  }

  private nextEvent(): number {
    let t = Math.min(this.a.pollTimeout(), this.b.pollTimeout());
    for (const p of this.inflight) if (p.at < t) t = p.at;
    return t;
  }
}

/** An application: writes `data` in random chunks at random moments, then shuts down; reads at random. */
export class RandomApp {
  readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  readonly events: string[] = [];
  private offset = 0;
  shutdownCalled = false;

  constructor(
    readonly conn: HostConnection,
    private readonly data: Uint8Array,
    private readonly rng: SeededRandom,
    private readonly behaviour: { writeChunk: number; writeProb: number; readProb: number; readMax: number },
    private readonly now: () => number,
  ) {}

  step(): void {
    const tcp = this.conn.tcp;
    for (let e = tcp.pollEvent(); e; e = tcp.pollEvent()) this.events.push(eventName(e));
    const open = tcp.state !== 'SYN_SENT' && tcp.state !== 'SYN_RECEIVED' && tcp.state !== 'CLOSED';
    if (open && this.offset < this.data.length && this.rng.nextFloat() < this.behaviour.writeProb) {
      const n = 1 + Math.floor(this.rng.nextFloat() * this.behaviour.writeChunk);
      this.offset += tcp.write(this.data.subarray(this.offset, Math.min(this.data.length, this.offset + n)));
    }
    if (open && this.offset === this.data.length && !this.shutdownCalled) {
      this.shutdownCalled = true;
      tcp.shutdown();
    }
    if (this.rng.nextFloat() < this.behaviour.readProb) {
      const d = tcp.read(this.now(), 1 + Math.floor(this.rng.nextFloat() * this.behaviour.readMax));
      if (d) {
        this.received.push(d);
        this.receivedBytes += d.length;
      }
    }
  }

  /** Still writing, or data or the end of the stream still to be read. */
  get busy(): boolean {
    return !this.shutdownCalled || this.conn.tcp.readableBytes > 0 || !this.ended;
  }

  get ended(): boolean {
    return this.events.includes('end');
  }

  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }
}
