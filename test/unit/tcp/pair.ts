/**
 * A minimal two-host harness for TCP engine unit tests: packets cross a fixed-delay link in
 * virtual time, optionally dropped by a predicate. (Scenario tests use mptcp/sim instead.)
 */
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { TcpHost } from '../../../mptcp/tcp/host.js';
import type { TcpConfig } from '../../../mptcp/tcp/tcp-types.js';

export const A = new Uint8Array([10, 0, 0, 1]);
export const B = new Uint8Array([10, 0, 0, 2]);

export class Pair {
  now = 0;
  readonly a: TcpHost;
  readonly b: TcpHost;
  private inflight: { at: number; to: TcpHost; bytes: Uint8Array }[] = [];
  private readonly out = new Uint8Array(65535);
  sent = 0;

  constructor(
    cfg: Partial<TcpConfig> = {},
    private readonly delayMs = 10,
    public drop: (bytes: Uint8Array, from: TcpHost) => boolean = () => false,
    seed = 1,
  ) {
    this.a = new TcpHost([A], new SeededRandom(seed), cfg);
    this.b = new TcpHost([B], new SeededRandom(seed + 1), cfg);
  }

  private flush(): void {
    for (const [from, to] of [[this.a, this.b], [this.b, this.a]] as const) {
      let burst = 0;
      for (let n = from.pollTransmit(this.now, this.out); n > 0; n = from.pollTransmit(this.now, this.out)) {
        if (++burst > 100_000) throw new Error(`pair harness: endless transmission at t=${this.now}: ${Buffer.from(this.out.subarray(0, n)).toString('hex')}`);
        const bytes = this.out.slice(0, n);
        this.sent++;
        if (!this.drop(bytes, from)) this.inflight.push({ at: this.now + this.delayMs, to, bytes });
      }
    }
  }

  /** Runs until `until()` holds or time passes `maxMs`; returns whether it held. */
  run(until: () => boolean, maxMs = 600_000): boolean {
    let stuckAt = -1;
    let stuck = 0;
    for (let guard = 0; guard < 10_000_000; guard++) {
      if (this.now === stuckAt) {
        if (++stuck > 100_000) throw new Error(`pair harness: no progress at t=${this.now} (a: ${this.a.pollTimeout()}, b: ${this.b.pollTimeout()})`);
      } else {
        stuckAt = this.now;
        stuck = 0;
      }
      this.flush();
      if (until()) return true;
      const nextPkt = this.inflight.length ? Math.min(...this.inflight.map((p) => p.at)) : Infinity;
      const next = Math.min(nextPkt, this.a.pollTimeout(), this.b.pollTimeout());
      if (next === Infinity || next > maxMs) return until();
      this.now = Math.max(this.now, next);
      const due = this.inflight.filter((p) => p.at <= this.now);
      this.inflight = this.inflight.filter((p) => p.at > this.now);
      for (const p of due) p.to.handlePacket(this.now, p.bytes);
      if (this.a.pollTimeout() <= this.now) this.a.handleTimeout(this.now);
      if (this.b.pollTimeout() <= this.now) this.b.handleTimeout(this.now);
    }
    throw new Error('pair harness: too many iterations');
  }
}
