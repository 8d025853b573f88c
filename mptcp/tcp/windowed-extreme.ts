/**
 * A running maximum (or minimum) over a time window, as BBR's bandwidth and RTT filters
 * (Kathleen Nichols' algorithm, Linux lib/win_minmax.c): three samples, the best, the best of
 * the later part, the best of the last part. Used by the TCP engine's inflight cap
 * (inflight-cap.ts) and by the path quality estimates (pm/path-quality.ts). No allocation.
 */
export class WindowedExtreme {
  private t0 = 0;
  private v0 = 0;
  private t1 = 0;
  private v1 = 0;
  private t2 = 0;
  private v2 = 0;
  private empty = true;
  /** +1 keeps the maximum, -1 the minimum (values stored negated). */
  private readonly sign: number;

  constructor(kind: 'max' | 'min') {
    this.sign = kind === 'max' ? 1 : -1;
  }

  /** The best value in the window; undefined before the first sample. */
  get value(): number | undefined {
    return this.empty ? undefined : this.v0 * this.sign;
  }

  reset(): void {
    this.empty = true;
  }

  /** Adds a sample taken at `t` (ms) and returns the best of the last `windowMs`. */
  update(t: number, value: number, windowMs: number): number {
    const v = value * this.sign;
    if (this.empty || v >= this.v0 || t - this.t2 > windowMs) {
      this.t0 = this.t1 = this.t2 = t;
      this.v0 = this.v1 = this.v2 = v;
      this.empty = false;
      return value;
    }
    if (v >= this.v1) {
      this.t1 = this.t2 = t;
      this.v1 = this.v2 = v;
    } else if (v >= this.v2) {
      this.t2 = t;
      this.v2 = v;
    }
    const dt = t - this.t0;
    if (dt > windowMs) {
      // The best one left the window: shift the later choices up (twice if need be).
      this.t0 = this.t1;
      this.v0 = this.v1;
      this.t1 = this.t2;
      this.v1 = this.v2;
      this.t2 = t;
      this.v2 = v;
      if (t - this.t0 > windowMs) {
        this.t0 = this.t1;
        this.v0 = this.v1;
        this.t1 = this.t2;
        this.v1 = this.v2;
      }
    } else if (this.t1 === this.t0 && dt > windowMs / 4) {
      this.t1 = this.t2 = t;
      this.v1 = this.v2 = v;
    } else if (this.t2 === this.t1 && dt > windowMs / 2) {
      this.t2 = t;
      this.v2 = v;
    }
    return this.v0 * this.sign;
  }
}
