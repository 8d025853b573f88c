/**
 * A token bucket for a path's rate cap, shared by every connection that uses the path (a
 * link's cap is the link's, not a connection's). Lazy refill from `now` (no timer of its own);
 * a send may take the bucket into debt by one segment, so segments are never split to fit the
 * tokens, and the next send waits until the debt is paid: the long-run rate is exactly the
 * cap, with bursts of at most `burstBytes`.
 */
export class TokenBucket {
  private tokens: number;
  private last = -Infinity;
  private rate: number;
  private burst: number;

  /** `bytesPerSecond` > 0. */
  constructor(bytesPerSecond: number, burstBytes?: number) {
    this.rate = bytesPerSecond;
    this.burst = burstBytes ?? TokenBucket.defaultBurst(bytesPerSecond);
    this.tokens = this.burst;
  }

  /** About 10 ms of the rate, at least four full-size segments. */
  static defaultBurst(bytesPerSecond: number): number {
    return Math.max(4 * 1500, bytesPerSecond * 0.01);
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  /** Changes the rate (a configuration reload); tokens already earned stay. */
  setRate(bytesPerSecond: number, burstBytes?: number): void {
    this.rate = bytesPerSecond;
    this.burst = burstBytes ?? TokenBucket.defaultBurst(bytesPerSecond);
    if (this.tokens > this.burst) this.tokens = this.burst;
  }

  private refill(now: number): void {
    if (now > this.last) {
      if (Number.isFinite(this.last)) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }

  /** Whether a send may start now. */
  canSend(now: number): boolean {
    this.refill(now);
    return this.tokens > 0;
  }

  /** Accounts `bytes` sent at `now` (may go into debt). */
  take(now: number, bytes: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  /** When a send may start (now if it may already). */
  readyAt(now: number): number {
    this.refill(now);
    if (this.tokens > 0) return now;
    return now + Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
